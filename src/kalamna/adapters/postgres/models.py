"""Every table of the application, imported by Alembic's env to autogenerate and compare."""

from __future__ import annotations

from kalamna.adapters.postgres.base import Base

__all__ = ["Base"]
