"""Knowledge: entries, their ingestion (chunk, embed, index), rebuilds, reconciliation and retrieval."""

from __future__ import annotations

from dishka import Provider, Scope, provide_all

from kalamna.application.knowledge.entries import CreateEntry, DeleteEntry, GetEntry, ListEntries, UpdateEntry
from kalamna.application.knowledge.ingestion import ChunkEntry, EmbedEntry, FailIngestion, IngestEntry
from kalamna.application.knowledge.rebuild import RebuildKnowledge
from kalamna.application.knowledge.reconcile import ReconcileIngestion
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge


class KnowledgeUseCaseProvider(Provider):
    scope = Scope.REQUEST

    use_cases = provide_all(
        CreateEntry,
        ListEntries,
        GetEntry,
        UpdateEntry,
        DeleteEntry,
        ChunkEntry,
        EmbedEntry,
        IngestEntry,
        FailIngestion,
        RebuildKnowledge,
        ReconcileIngestion,
        SearchKnowledge,
        BuildContext,
    )
