"""Per-tenant index names and predicates: derived from a validated organization id, never from text."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from kalamna.adapters.postgres.search_strategy import tenant_index_name, tenant_index_predicate
from kalamna.adapters.postgres.tenant_indexes import create_sql
from kalamna.config import SettingsError, load_settings

ORG = UUID("0123abcd-0000-4000-8000-00000000beef")


def test_the_name_is_the_org_hex_and_a_model_hash_within_postgres_63_characters() -> None:
    name = tenant_index_name(ORG, "m", 384)
    assert name.startswith("ix_chunks_hnsw_org_0123abcd00004000800000000000beef_")
    assert len(name) == 60
    assert tenant_index_name(ORG, "m", 384) == name
    assert tenant_index_name(ORG, "m", 768) != name
    assert tenant_index_name(ORG, "other", 384) != name


def test_the_predicate_holds_a_validated_uuid_and_an_escaped_model() -> None:
    assert tenant_index_predicate(ORG, "it's") == (
        "organization_id = '0123abcd-0000-4000-8000-00000000beef' AND embedding_model = 'it''s'"
    )
    assert tenant_index_predicate(ORG, "m", alias="c") == (
        "c.organization_id = '0123abcd-0000-4000-8000-00000000beef' AND c.embedding_model = 'm'"
    )
    with pytest.raises(ValueError):
        tenant_index_predicate("x' OR true --", "m")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tenant_index_name("x' OR true --", "m", 8)  # type: ignore[arg-type]


def test_the_build_statement_matches_the_global_index_options() -> None:
    assert create_sql(ORG, "m", 384) == (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {tenant_index_name(ORG, 'm', 384)} ON knowledge_chunks "
        "USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 64) "
        "WHERE organization_id = '0123abcd-0000-4000-8000-00000000beef' AND embedding_model = 'm'"
    )


def test_the_threshold_setting(tmp_path: Path) -> None:
    assert (
        load_settings({"KALAMNA_DATA_DIR": str(tmp_path)}, dotenv=None).knowledge_tenant_index_min_chunks
        == 1000
    )
    env = {"KALAMNA_DATA_DIR": str(tmp_path), "KALAMNA_KNOWLEDGE_TENANT_INDEX_MIN_CHUNKS": "-1"}
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env, dotenv=None)
    assert [p.split(":")[0] for p in excinfo.value.problems] == ["KALAMNA_KNOWLEDGE_TENANT_INDEX_MIN_CHUNKS"]
