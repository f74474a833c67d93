"""Queue re-ingestion of one entry, one organization, or everything (after a model change, say)."""

from __future__ import annotations

import time
from uuid import UUID

from kalamna.domain.errors import NotFound
from kalamna.ports.jobs import INGEST_ENTRY, JobQueue
from kalamna.ports.knowledge import KnowledgeRepository


class RebuildKnowledge:
    def __init__(self, entries: KnowledgeRepository, jobs: JobQueue) -> None:
        self._entries = entries
        self._jobs = jobs

    async def __call__(self, *, organization_id: UUID | None, entry_id: UUID | None) -> int:
        if entry_id is not None:
            entry = await self._entries.get_for_update(entry_id)
            if entry is None or (organization_id is not None and entry.organization_id != organization_id):
                raise NotFound()
            targets = [(entry.id, entry.version)]
        else:
            targets = await self._entries.ids_for_rebuild(organization_id)
        stamp = time.time_ns()
        for target_id, version in targets:
            # A fresh key per rebuild request: the same version is processed again on purpose.
            await self._jobs.enqueue(
                INGEST_ENTRY,
                key=f"rebuild:{target_id}:{version}:{stamp}",
                entry_id=str(target_id),
                version=version,
            )
        return len(targets)
