"""The database's Alembic revision compared with the migrations shipped with the code."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.postgres.migrations import MIGRATIONS_DIR
from kalamna.domain.health import SchemaStatus


def code_revisions() -> tuple[str, set[str]]:
    """The head revision of the code's migrations, and every revision before it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None, "no migrations found"
    older = {revision.revision for revision in script.walk_revisions()} - {head}
    return head, older


class AlembicSchemaInspector:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._head, self._older = code_revisions()

    async def status(self) -> SchemaStatus:
        async with self._engine.connect() as conn:
            try:
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            except ProgrammingError:  # no alembic_version table: never migrated
                revision = None
        # A revision the code does not know is newer (migrations ran ahead of a rolling deploy).
        behind = revision is None or revision in self._older
        return SchemaStatus(revision=revision, expected=self._head, behind=behind)
