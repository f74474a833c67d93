"""Password policy: 8–128 characters, not a common password, no composition rules (NIST 800-63B)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from kalamna.domain.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 128
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc")


@cache
def _common_passwords() -> frozenset[str]:
    text = files("kalamna.domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _is_trivial(password: str) -> bool:
    lowered = password.lower()
    if len(set(lowered)) <= 2:
        return True
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)


def validate_new_password(password: str, *, field: str = "password") -> None:
    problem: str | None = None
    if len(password) < MIN_LENGTH:
        problem = f"Use at least {MIN_LENGTH} characters."
    elif len(password) > MAX_LENGTH:
        problem = f"Use at most {MAX_LENGTH} characters."
    elif password.lower() in _common_passwords() or _is_trivial(password):
        problem = "This password is too common; choose a less predictable one."
    if problem:
        raise InvalidInput(problem, extra={"fields": [{"key": field, "message": problem}]})
