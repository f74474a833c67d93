"""Partial updates: a field set to ``KEEP`` leaves the entity's value as it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import Enum
from typing import Any

from kalamna.domain.errors import InvalidInput


class Keep(Enum):
    KEEP = "keep"


KEEP = Keep.KEEP


def changed(update: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of the dataclass ``update`` that are not ``KEEP`` (except ``skip``)."""
    return {
        f.name: value
        for f in fields(update)
        if f.name not in skip and (value := getattr(update, f.name)) is not KEEP
    }


def unknown_fields(changes: Mapping[str, Any], update_type: Any) -> set[str]:
    return set(changes) - {f.name for f in fields(update_type)}


def refuse_unknown(unknown: set[str]) -> None:
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
