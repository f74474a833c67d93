"""Organization profile changes and the validation of their fields: URL, IANA time zone, BCP-47
language tag."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from kalamna.domain.errors import InvalidInput
from kalamna.domain.updates import KEEP, Keep, refuse_unknown, unknown_fields

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_profile(*, website: str | None, timezone: str | None, default_language: str | None) -> None:
    problems: list[dict[str, str]] = []
    if website:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in website:
            problems.append({"key": "website", "message": "must be an http(s) URL"})
    if timezone and timezone not in _zones():
        problems.append({"key": "timezone", "message": "must be an IANA time zone name such as Africa/Cairo"})
    if default_language and not _LANGUAGE_TAG.match(default_language):
        problems.append(
            {"key": "default_language", "message": "must be a language tag such as ar, en or ar-EG"}
        )
    if problems:
        raise InvalidInput("Some fields are not valid.", extra={"fields": problems})


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """A change to an organization's profile (``Organization.change_profile``): ``KEEP`` leaves a
    field as it is, ``None`` or blank text clears it (the name cannot be cleared)."""

    name: str | Keep | None = KEEP
    industry: str | Keep | None = KEEP
    website: str | Keep | None = KEEP
    description: str | Keep | None = KEEP
    country: str | Keep | None = KEEP
    timezone: str | Keep | None = KEEP
    default_language: str | Keep | None = KEEP

    @classmethod
    def of(cls, changes: Mapping[str, str | None]) -> ProfileUpdate:
        """The update with the given fields; an unknown field is ``InvalidInput``."""
        refuse_unknown(unknown_fields(changes, cls))
        return cls(**changes)


def resolved(given: str | Keep | None, current: str | None) -> str | None:
    """The field's new value, trimmed (blank is ``None``)."""
    value = current if given is KEEP else given
    return (value.strip() or None) if isinstance(value, str) else value
