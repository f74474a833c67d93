"""Published text limits: one source of truth for the HTTP schemas, the database columns (models and
migrations) and the OpenAPI document. ``tests/integration/test_limits.py`` compares them."""

from __future__ import annotations

EMAIL_MAX = 254
PERSON_NAME_MAX = 200
ORGANIZATION_NAME_MAX = 200
INDUSTRY_MAX = 200
WEBSITE_MAX = 500
COUNTRY_MAX = 200
TIMEZONE_MAX = 64
LANGUAGE_TAG_MAX = 35
DESCRIPTION_MAX = 4000
KNOWLEDGE_TITLE_MAX = 300
BOT_NAME_MAX = 80
TONE_MAX = 40

#: (table, column) -> the limit the API publishes and enforces for it.
COLUMN_LIMITS: dict[tuple[str, str], int] = {
    ("organizations", "name"): ORGANIZATION_NAME_MAX,
    ("organizations", "industry"): INDUSTRY_MAX,
    ("organizations", "website"): WEBSITE_MAX,
    ("organizations", "country"): COUNTRY_MAX,
    ("organizations", "timezone"): TIMEZONE_MAX,
    ("organizations", "default_language"): LANGUAGE_TAG_MAX,
    ("employees", "email"): EMAIL_MAX,
    ("employees", "full_name"): PERSON_NAME_MAX,
    ("invitations", "email"): EMAIL_MAX,
    ("knowledge_entries", "title"): KNOWLEDGE_TITLE_MAX,
    ("bot_configs", "bot_name"): BOT_NAME_MAX,
    ("bot_configs", "tone"): TONE_MAX,
    ("bot_configs", "language"): LANGUAGE_TAG_MAX,
}
