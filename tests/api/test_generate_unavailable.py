"""Issue 16, item 8: /internal/ai/generate keeps nothing, and its 503 does not claim otherwise."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import signed_up
from tests.api.test_chat_llm import llm_settings


async def test_unreachable_model_on_generate_says_nothing_was_stored(
    services, clean_state, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = llm_settings(services, tmp_path, "http://127.0.0.1:9/v1")
    jobs = RecordingJobs()
    async with AsyncTestClient(create_app(settings, shared_container(settings, jobs))) as client:
        owner = await signed_up(client, jobs, "owner@generate.test")
        response = await client.post(
            "/api/v1/internal/ai/generate",
            json={
                "organization_id": owner.organization_id,
                "message": "How fast is shipping?",
                "context": "Shipping takes three days.",
            },
            headers={"X-Internal-Token": settings.internal_token},
        )
    assert response.status_code == 503
    assert response.json() == {
        "status_code": 503,
        "code": "llm_unavailable",
        "detail": "The answer service is unavailable; nothing was stored. Try again shortly.",
    }
    assert response.headers["retry-after"] == "5"
