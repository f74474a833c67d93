"""Issue 9 item 10: one source of truth for text limits (domain constants, HTTP schemas, columns)."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest

from kalamna.domain import limits
from kalamna.web.controllers.auth import RegisterIn
from kalamna.web.controllers.organizations import NewOrganizationIn, OrganizationIn, OrganizationPatchIn


async def test_database_columns_are_exactly_as_wide_as_the_published_limits(services) -> None:  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    widths = {(r["table_name"], r["column_name"]): r["character_maximum_length"] for r in rows}
    for column, limit in limits.COLUMN_LIMITS.items():
        assert widths[column] == limit, column


def _max_length(struct: type[msgspec.Struct], field: str) -> int:
    info: Any = msgspec.inspect.type_info(struct)
    for f in info.fields:
        if f.name == field:
            kinds = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
            for kind in kinds:
                if isinstance(kind, msgspec.inspect.StrType):
                    return int(kind.max_length)
    raise AssertionError(field)


@pytest.mark.parametrize(
    ("struct", "field", "limit"),
    [
        (RegisterIn, "organization_name", limits.ORGANIZATION_NAME_MAX),
        (RegisterIn, "industry", limits.INDUSTRY_MAX),
        (RegisterIn, "website", limits.WEBSITE_MAX),
        (RegisterIn, "country", limits.COUNTRY_MAX),
        (RegisterIn, "timezone", limits.TIMEZONE_MAX),
        (RegisterIn, "email", limits.EMAIL_MAX),
        (RegisterIn, "full_name", limits.PERSON_NAME_MAX),
        (OrganizationIn, "name", limits.ORGANIZATION_NAME_MAX),
        (OrganizationIn, "industry", limits.INDUSTRY_MAX),
        (OrganizationIn, "country", limits.COUNTRY_MAX),
        (OrganizationIn, "timezone", limits.TIMEZONE_MAX),
        (OrganizationIn, "default_language", limits.LANGUAGE_TAG_MAX),
        (OrganizationPatchIn, "industry", limits.INDUSTRY_MAX),
        (OrganizationPatchIn, "country", limits.COUNTRY_MAX),
        (OrganizationPatchIn, "default_language", limits.LANGUAGE_TAG_MAX),
        (NewOrganizationIn, "organization_name", limits.ORGANIZATION_NAME_MAX),
        (NewOrganizationIn, "industry", limits.INDUSTRY_MAX),
        (NewOrganizationIn, "country", limits.COUNTRY_MAX),
        (NewOrganizationIn, "owner_email", limits.EMAIL_MAX),
    ],
)
def test_http_schemas_publish_the_domain_limits(struct: type[msgspec.Struct], field: str, limit: int) -> None:
    assert _max_length(struct, field) == limit
