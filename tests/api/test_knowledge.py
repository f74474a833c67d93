"""Sections 5 and 6 of the contract (all but /internal/ai/generate) against real PostgreSQL + pgvector
and Redis with the offline models. Ingestion either runs in a real SAQ worker (``live_client``) or,
for determinism, the recorded jobs are run here through the same task function (``drain``)."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.di import make_container
from kalamna.ports.jobs import INGEST_ENTRY
from kalamna.worker.tasks import ingest_entry
from tests.api.helpers import Account, World, live_account, wait_for_status
from tests.unit.knowledge.test_extraction import (
    CONTENT_TYPES,
    build_pdf,
    document_xml,
    docx,
    paragraph,
    text_pdf,
)

API = "/api/v1"
MiB = 1024 * 1024
Drain = Callable[[], Awaitable[int]]

PARKING = "Customers may leave their cars in the underground garage on Elm Street, free for two hours."
RETURNS = "Items may be returned within thirty days together with the original receipt."
SHIPPING_HTML = (
    "<html><head><title>Shipping</title><style>.hidden{display:none}</style>"
    "<script>var trackingSecret = 'do-not-index';</script></head>"
    "<body><h1>Shipping</h1><p>We ship worldwide with tracked couriers.</p></body></html>"
)
WARRANTY_PAGES = ["Warranty", "Every blender carries a two year warranty against manufacturing defects."]
GIFT_CARDS = "Gift cards never expire and can be redeemed in the online shop."
OPENING = "We are open from nine to five, Sunday to Thursday."


def kb(organization_id: str, entry_id: str | None = None) -> str:
    base = f"{API}/orgs/{organization_id}/knowledge-bases"
    return f"{base}/{entry_id}" if entry_id else base


def internal(settings: Any) -> dict[str, str]:
    return {"X-Internal-Token": settings.internal_token}


def gift_docx() -> bytes:
    return docx(document_xml(paragraph("Gift cards", "Heading1") + paragraph(GIFT_CARDS)))


def cyclic_pdf() -> bytes:
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        ]
    )


def zip_bomb_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            zeros = bytes(MiB)
            for _ in range(200):  # 200 MiB uncompressed, well under 1 MiB on the wire
                entry.write(zeros)
    return buffer.getvalue()


async def create_text(client: AsyncTestClient, account: Account, title: str, content: str) -> dict[str, Any]:
    response = await client.post(
        kb(account.organization_id), json={"title": title, "content": content}, headers=account.auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload(
    client: AsyncTestClient, account: Account, filename: str, data: bytes, title: str | None = None
) -> Any:
    return await client.post(
        kb(account.organization_id),
        files={"file": (filename, data, "application/octet-stream")},
        data={"title": title} if title else None,
        headers=account.auth,
    )


async def rag_search(
    client: AsyncTestClient, settings: Any, organization_id: str, query: str, top_k: int = 5
) -> list[dict[str, Any]]:
    response = await client.post(
        f"{API}/internal/ai/rag/search",
        json={"organization_id": organization_id, "query": query, "top_k": top_k},
        headers=internal(settings),
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert all(0.0 <= r["score"] <= 1.0 for r in results), results
    return results


async def chunk_rows(settings: Any, entry_id: str) -> list[tuple[int, str, str | None]]:
    container = make_container(settings)
    try:
        async with container() as scope:
            session = await scope.get(AsyncSession)
            rows = await session.execute(
                text(
                    "SELECT position, content, embedding_model FROM knowledge_chunks "
                    "WHERE entry_id = :e ORDER BY position, id"
                ),
                {"e": entry_id},
            )
            return [(r.position, r.content, r.embedding_model) for r in rows]
    finally:
        await container.close()


async def streamed_upload(client: AsyncTestClient, account: Account, blocks: int) -> tuple[int, Any, int]:
    """POST a multipart body of ``blocks`` MiB straight to the ASGI app, in 1 MiB messages and
    without Content-Length (as a chunked upload arrives); returns status, JSON body, bytes read."""
    import json

    boundary = "klmboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    parts = [head, *([b"b" * MiB] * blocks), f"\r\n--{boundary}--\r\n".encode()]
    consumed = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if not parts:
            return {"type": "http.disconnect"}
        part = parts.pop(0)
        consumed += len(part)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path = kb(account.organization_id)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver.local"),
            (b"authorization", account.auth["Authorization"].encode()),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
    # The test client runs the app on its own event loop (a blocking portal): do the same.
    await asyncio.to_thread(client.blocking_portal.call, client.app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), consumed


@pytest.fixture
async def drain(settings, jobs: MemoryJobQueue) -> AsyncIterator[Drain]:  # type: ignore[no-untyped-def]
    """Run the ingestion jobs recorded so far, as the worker would (same task function)."""
    container = make_container(settings)

    async def run() -> int:
        ingest = [job for job in jobs.jobs if job.task == INGEST_ENTRY]
        jobs.jobs = [job for job in jobs.jobs if job.task != INGEST_ENTRY]
        for job in ingest:
            await ingest_entry({"container": container}, **job.kwargs)
        return len(ingest)

    try:
        yield run
    finally:
        await container.close()


# --- every source type, through the real queue and worker ---------------------------------------


async def test_text_and_every_file_type_become_ready_and_searchable(live_client, settings) -> None:  # type: ignore[no-untyped-def]
    owner = await live_account(live_client, settings, "owner@files.test", "Files Inc")
    created = {"json": await create_text(live_client, owner, "Opening hours", OPENING)}
    uploads = {
        "txt": ("parking.txt", PARKING.encode()),
        "md": ("returns.md", f"# Returns\n\nItems may be **returned** - {RETURNS}".encode()),
        "html": ("shipping.html", SHIPPING_HTML.encode()),
        "pdf": ("warranty.pdf", text_pdf(WARRANTY_PAGES)),
        "docx": ("gift-cards.docx", gift_docx()),
    }
    for kind, (filename, data) in uploads.items():
        response = await upload(live_client, owner, filename, data)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "pending" and body["source_type"] == "file"
        assert body["filename"] == filename and body["size_bytes"] == len(data)
        created[kind] = body
    expected_types = {
        "json": "text/plain",
        "txt": "text/plain",
        "md": "text/markdown",
        "html": "text/html",
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    entries = {}
    for kind, body in created.items():
        entry = await wait_for_status(live_client, owner, body["id"])
        assert entry["status"] == "ready", (kind, entry)
        assert entry["error"] is None
        assert entry["chunk_count"] >= 1 and entry["token_count"] > 0, entry
        assert entry["embedding_model"] == "multilingual-e5-small-int4"
        assert entry["content_type"] == expected_types[kind]
        entries[kind] = entry
    assert entries["json"]["content"] == OPENING
    assert entries["txt"]["content"].strip() == PARKING
    assert RETURNS in entries["md"]["content"]
    assert "tracked couriers" in entries["html"]["content"]
    assert (
        "trackingSecret" not in entries["html"]["content"]
        and "display:none" not in entries["html"]["content"]
    )
    assert "two year warranty" in entries["pdf"]["content"] and "Warranty" in entries["pdf"]["content"]
    assert GIFT_CARDS in entries["docx"]["content"]

    questions = {
        "json": "When are you open on Sunday?",
        "txt": "Where can I park my car?",
        "md": "Can I return an item with the receipt?",
        "html": "Do you ship worldwide?",
        "pdf": "How long is the blender warranty?",
        "docx": "Do gift cards expire?",
    }
    for kind, question in questions.items():
        results = await rag_search(live_client, settings, owner.organization_id, question)
        assert results[0]["entry_id"] == entries[kind]["id"], (question, results)


# --- listing, updating, deleting -------------------------------------------------------------------


async def test_list_filters_by_status_and_title_and_paginates(client, world: World, drain: Drain) -> None:  # type: ignore[no-untyped-def]
    owner = world.owner
    for title, content in [
        ("Refund policy", RETURNS),
        ("Refund exceptions", "Opened software cannot be refunded."),
        ("Shipping times", "Parcels arrive within three days."),
    ]:
        await create_text(client, owner, title, content)
    assert await drain() == 3
    failed = await upload(client, owner, "broken.pdf", cyclic_pdf())
    assert failed.status_code == 201
    assert await drain() == 1
    pending = await create_text(client, owner, "Delivery 100%_zones", "We deliver in the city centre.")

    async def listing(**params: Any) -> dict[str, Any]:
        response = await client.get(kb(owner.organization_id), params=params, headers=owner.auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = await listing()
    assert (everything["total"], everything["limit"], everything["offset"]) == (5, 20, 0)
    assert everything["items"][0]["id"] == pending["id"], "newest first"
    assert "content" not in everything["items"][0]
    assert {i["title"] for i in (await listing(status="ready"))["items"]} == {
        "Refund policy",
        "Refund exceptions",
        "Shipping times",
    }
    assert [i["title"] for i in (await listing(status="pending"))["items"]] == ["Delivery 100%_zones"]
    assert [i["id"] for i in (await listing(status="failed"))["items"]] == [failed.json()["id"]]
    assert (await listing(status="processing"))["total"] == 0
    assert {i["title"] for i in (await listing(q="REFUND"))["items"]} == {
        "Refund policy",
        "Refund exceptions",
    }
    assert (await listing(q="refund", status="pending"))["total"] == 0
    assert [i["title"] for i in (await listing(q="100%_"))["items"]] == ["Delivery 100%_zones"]
    assert (await listing(q="%"))["total"] == 1, "LIKE wildcards in q are literal"

    pages = [await listing(limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all(p["total"] == 5 and p["limit"] == 2 for p in pages)
    assert len({i["id"] for p in pages for i in p["items"]}) == 5
    assert (await listing(limit=2, offset=10))["items"] == []
    for bad in ({"status": "done"}, {"limit": 0}, {"limit": 101}, {"offset": -1}):
        response = await client.get(kb(owner.organization_id), params=bad, headers=owner.auth)
        assert response.status_code in (400, 422), (bad, response.text)
        assert response.json()["code"] in ("validation_error", "bad_request")


async def test_update_reingests_and_search_follows_the_new_content(  # type: ignore[no-untyped-def]
    client, world: World, drain: Drain, settings
) -> None:
    owner, org = world.staff, world.org  # staff may create and update
    entry = await create_text(client, owner, "Parking", PARKING)
    other = await create_text(client, owner, "Opening hours", OPENING)
    await drain()
    hits = await rag_search(client, settings, org, "underground garage Elm Street")
    assert hits[0]["entry_id"] == entry["id"]

    response = await client.put(
        kb(org, entry["id"]),
        json={"content": "Our swimming pool is heated all year round and towels are provided."},
        headers=owner.auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert await drain() == 1
    updated = await wait_for_status(client, owner, entry["id"])
    assert updated["status"] == "ready" and "swimming pool" in updated["content"]

    hits = await rag_search(client, settings, org, "Is the swimming pool heated?")
    assert hits[0]["entry_id"] == entry["id"]
    stale = await rag_search(client, settings, org, "underground garage Elm Street", top_k=10)
    assert all("garage" not in h["content"] for h in stale), stale
    rows = await chunk_rows(settings, entry["id"])
    assert rows and all("garage" not in content for _, content, _ in rows)

    renamed = await client.put(kb(org, entry["id"]), json={"title": "Pool"}, headers=owner.auth)
    assert renamed.status_code == 200 and renamed.json()["status"] == "pending"
    await drain()
    assert (await wait_for_status(client, owner, entry["id"]))["title"] == "Pool"
    assert all(content.startswith("Pool") for _, content, _ in await chunk_rows(settings, entry["id"]))

    same = await client.put(kb(org, other["id"]), json={"title": "Opening hours"}, headers=owner.auth)
    assert same.status_code == 200 and same.json()["status"] == "ready", "no change, no re-ingestion"
    assert await drain() == 0
    for body in ({"content": "   "}, {"title": ""}, {"content": "x", "status": "ready"}):
        bad = await client.put(kb(org, entry["id"]), json=body, headers=owner.auth)
        assert bad.status_code == 422, (body, bad.text)


async def test_delete_removes_the_entry_from_search_at_once(  # type: ignore[no-untyped-def]
    client, world: World, drain: Drain, settings
) -> None:
    org = world.org
    entry = await create_text(client, world.owner, "Parking", PARKING)
    await create_text(client, world.owner, "Opening hours", OPENING)
    await drain()
    assert (await rag_search(client, settings, org, "Where do I park?"))[0]["entry_id"] == entry["id"]

    forbidden = await client.delete(kb(org, entry["id"]), headers=world.staff.auth)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    hidden = await client.delete(kb(org, entry["id"]), headers=world.other_owner.auth)
    assert hidden.status_code == 404
    assert (await client.delete(kb(org, entry["id"]), headers=world.owner.auth)).status_code == 204

    results = await rag_search(client, settings, org, "Where do I park?", top_k=20)
    assert results and entry["id"] not in {r["entry_id"] for r in results}
    assert await chunk_rows(settings, entry["id"]) == []
    assert (await client.get(kb(org, entry["id"]), headers=world.owner.auth)).status_code == 404
    assert (await client.delete(kb(org, entry["id"]), headers=world.owner.auth)).status_code == 404


# --- limits and hostile input ----------------------------------------------------------------------


async def test_uploads_over_ten_mebibytes_are_refused(client, world: World, jobs: MemoryJobQueue) -> None:  # type: ignore[no-untyped-def]
    owner = world.owner
    exact = await upload(client, owner, "exact.txt", b"a" * (10 * MiB))
    assert exact.status_code == 201, exact.text
    one_more = await upload(client, owner, "big.txt", b"a" * (10 * MiB + 1))
    assert one_more.status_code == 413 and one_more.json()["code"] == "payload_too_large"

    status, body, consumed = await streamed_upload(client, owner, blocks=64)  # 64 MiB, never buffered
    assert status == 413, body
    assert body["code"] == "payload_too_large"
    assert consumed < 12 * MiB, "the upload must be cut off while streaming, not read to the end"
    listed = await client.get(kb(owner.organization_id), headers=owner.auth)
    assert listed.json()["total"] == 1
    assert len([j for j in jobs.jobs if j.task == INGEST_ENTRY]) == 1


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        ("report.docx", text_pdf(["hello"])),
        ("manual.pdf", b"just some text pretending to be a PDF"),
        ("program.exe", b"MZ this is a program"),
        ("notes", b"no extension"),
        ("latin1.txt", "café crème".encode("latin-1")),
    ],
)
async def test_unsupported_files_are_415(client, world: World, filename: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    response = await upload(client, world.owner, filename, data)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"


async def test_bodies_that_are_neither_json_nor_multipart_are_415(client, world: World) -> None:  # type: ignore[no-untyped-def]
    url = kb(world.org)
    for content_type, body in [
        ("text/plain", b"title: x"),
        ("application/x-www-form-urlencoded", b"title=x&content=y"),
        ("application/xml", b"<entry/>"),
    ]:
        response = await client.post(
            url, content=body, headers={**world.owner.auth, "Content-Type": content_type}
        )
        assert response.status_code == 415, (content_type, response.text)
        assert response.json()["code"] == "unsupported_media_type"


async def test_empty_or_malformed_input_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    url, auth = kb(world.org), world.owner.auth
    for body in (
        {"title": "Empty", "content": ""},
        {"title": "Blank", "content": " \n\t "},
        {"title": "", "content": "text"},
        {"title": "Extra", "content": "text", "status": "ready"},
        {"title": "No content"},
        {"title": "x" * 301, "content": "text"},
    ):
        response = await client.post(url, json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "validation_error"
    malformed = await client.post(
        url, content=b'{"title": ', headers={**auth, "Content-Type": "application/json"}
    )
    assert malformed.status_code in (400, 422)
    for files in (
        {"file": ("empty.txt", b"")},
        {"file": ("blank.md", b"  \n\n ")},
        {"document": ("notes.txt", b"right content, wrong field")},
    ):
        response = await client.post(url, files=files, headers=auth)
        assert response.status_code == 422, (files, response.text)
        assert response.json()["code"] == "validation_error"
    listed = await client.get(url, headers=auth)
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    ("filename", "make", "reason"),
    [  # made by the test that uses them: the bomb takes ~0.25 s of CPU, which collection paid per worker
        ("loop.pdf", cyclic_pdf, ""),
        ("bomb.docx", zip_bomb_docx, ""),
        ("blank.pdf", lambda: text_pdf([""]), "text"),
    ],
)
async def test_hostile_and_empty_documents_end_failed_with_a_reason(  # type: ignore[no-untyped-def]
    client, world: World, drain: Drain, settings, filename: str, make: Callable[[], bytes], reason: str
) -> None:
    response = await upload(client, world.owner, filename, make())
    assert response.status_code == 201, response.text
    await drain()
    entry = await wait_for_status(client, world.owner, response.json()["id"], timeout=5)
    assert entry["status"] == "failed", entry
    assert isinstance(entry["error"], str) and len(entry["error"]) > 10
    assert reason in entry["error"].lower()
    assert "Traceback" not in entry["error"] and "/" not in entry["error"][:1]
    assert entry["chunk_count"] == 0 and await chunk_rows(settings, entry["id"]) == []


# --- who may do what -------------------------------------------------------------------------------

ROLES = ("owner", "staff", "superuser", "other_owner", "anonymous")


def headers_of(world: World, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else getattr(world, role).auth


@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix_of_the_knowledge_routes(client, world: World, role: str) -> None:  # type: ignore[no-untyped-def]
    org = world.org
    target = await create_text(client, world.owner, "Target", OPENING)
    headers = headers_of(world, role)
    allowed = role in ("owner", "staff", "superuser")
    denied = {"other_owner": 404, "anonymous": 401}.get(role)

    create = await client.post(kb(org), json={"title": "New", "content": PARKING}, headers=headers)
    listing = await client.get(kb(org), headers=headers)
    read = await client.get(kb(org, target["id"]), headers=headers)
    update = await client.put(kb(org, target["id"]), json={"title": "Renamed"}, headers=headers)
    upload_response = await client.post(
        kb(org), files={"file": ("a.txt", PARKING.encode(), "text/plain")}, headers=headers
    )
    remove = await client.delete(kb(org, target["id"]), headers=headers)
    got = {
        "create": create.status_code,
        "upload": upload_response.status_code,
        "list": listing.status_code,
        "read": read.status_code,
        "update": update.status_code,
        "delete": remove.status_code,
    }
    expected: dict[str, int | None]
    if allowed:
        expected = {"create": 201, "upload": 201, "list": 200, "read": 200, "update": 200}
        expected["delete"] = 403 if role == "staff" else 204
    else:
        expected = dict.fromkeys(got, denied)
    assert got == expected
    if allowed:
        assert read.json()["content"] == OPENING
        assert create.json()["organization_id"] == org


async def test_another_organizations_entry_is_not_found_even_through_ones_own_org(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    theirs = await create_text(client, world.other_owner, "Secret", "Our margins are forty percent.")
    for method, body in (("get", None), ("put", {"title": "x"}), ("delete", None)):
        response = await client.request(
            method.upper(), kb(world.org, theirs["id"]), json=body, headers=world.owner.auth
        )
        assert response.status_code == 404, (method, response.text)
        assert response.json()["code"] == "not_found"


# --- internal endpoints ----------------------------------------------------------------------------


async def test_internal_routes_accept_the_internal_token_or_a_superuser_only(  # type: ignore[no-untyped-def]
    client, world: World, settings
) -> None:
    entry = await create_text(client, world.owner, "Parking", PARKING)
    routes = [
        ("/internal/kb/rebuild", {"entry_id": entry["id"]}, 202),
        ("/internal/ai/rag/search", {"organization_id": world.org, "query": "parking"}, 200),
        ("/internal/ai/rag/context", {"organization_id": world.org, "query": "parking"}, 200),
        ("/internal/kb/chunk", {"entry_id": entry["id"]}, 200),
        ("/internal/kb/embed", {"entry_id": entry["id"]}, 200),
    ]
    for path, body, ok in routes:
        attempts = {
            "token": internal(settings),
            "superuser": world.superuser.auth,
            "wrong token": {"X-Internal-Token": "not-the-token"},
            "owner": world.owner.auth,
            "staff": world.staff.auth,
            "nobody": {},
        }
        got = {
            who: (await client.post(API + path, json=body, headers=h)).status_code
            for who, h in attempts.items()
        }
        assert got == {
            "token": ok,
            "superuser": ok,
            "wrong token": 401,
            "owner": 403,
            "staff": 403,
            "nobody": 401,
        }, path


async def test_internal_chunk_is_idempotent_and_embed_completes_the_entry(  # type: ignore[no-untyped-def]
    client, world: World, settings, jobs: MemoryJobQueue
) -> None:
    content = "\n\n".join(f"Paragraph {n}: {PARKING} {RETURNS} {OPENING}" for n in range(12))
    entry = await create_text(client, world.owner, "Long entry", content)
    jobs.jobs.clear()  # this test drives the stages by hand
    chunked = []
    for _ in range(2):
        response = await client.post(
            f"{API}/internal/kb/chunk", json={"entry_id": entry["id"]}, headers=internal(settings)
        )
        assert response.status_code == 200, response.text
        chunked.append(response.json())
    assert chunked[0]["chunk_count"] == chunked[1]["chunk_count"] >= 2
    assert chunked[0]["token_count"] == chunked[1]["token_count"] > 0
    assert chunked[0]["entry_id"] == entry["id"]
    rows = await chunk_rows(settings, entry["id"])
    assert len(rows) == chunked[0]["chunk_count"]
    assert [p for p, _, _ in rows] == list(range(len(rows))), "no duplicate rows"
    assert all(model is None for _, _, model in rows)

    embedded = await client.post(
        f"{API}/internal/kb/embed", json={"entry_id": entry["id"]}, headers=internal(settings)
    )
    assert embedded.status_code == 200, embedded.text
    assert embedded.json() == {
        "entry_id": entry["id"],
        "embedded": len(rows),
        "embedding_model": "multilingual-e5-small-int4",
    }
    again = await client.post(
        f"{API}/internal/kb/embed", json={"entry_id": entry["id"]}, headers=internal(settings)
    )
    assert again.json()["embedded"] == 0, "only chunks without a current vector are embedded"
    ready = await wait_for_status(client, world.owner, entry["id"], timeout=5)
    assert ready["status"] == "ready" and ready["chunk_count"] == len(rows)
    assert {model for _, _, model in await chunk_rows(settings, entry["id"])} == {
        "multilingual-e5-small-int4"
    }

    for path in ("/internal/kb/chunk", "/internal/kb/embed"):
        missing = await client.post(
            API + path, json={"entry_id": "00000000-0000-0000-0000-000000000000"}, headers=internal(settings)
        )
        assert missing.status_code == 404, missing.text
        unknown = await client.post(
            API + path, json={"entry_id": entry["id"], "force": True}, headers=internal(settings)
        )
        assert unknown.status_code == 422


async def test_rebuild_queues_one_job_per_entry_for_an_entry_an_org_or_everything(  # type: ignore[no-untyped-def]
    client, world: World, settings, jobs: MemoryJobQueue
) -> None:
    mine = [await create_text(client, world.owner, f"Entry {n}", OPENING) for n in range(3)]
    theirs = [await create_text(client, world.other_owner, f"Theirs {n}", PARKING) for n in range(2)]
    url = f"{API}/internal/kb/rebuild"

    async def rebuild(body: dict[str, Any]) -> tuple[int, set[str]]:
        jobs.jobs.clear()
        response = await client.post(url, json=body, headers=internal(settings))
        assert response.status_code == 202, response.text
        queued = {j.kwargs["entry_id"] for j in jobs.jobs if j.task == INGEST_ENTRY}
        return response.json()["queued"], queued

    assert await rebuild({"entry_id": mine[0]["id"]}) == (1, {mine[0]["id"]})
    assert await rebuild({"organization_id": world.org}) == (3, {e["id"] for e in mine})
    assert await rebuild({"organization_id": world.other_owner.organization_id}) == (
        2,
        {e["id"] for e in theirs},
    )
    assert await rebuild({}) == (5, {e["id"] for e in mine + theirs})
    wrong_org = await client.post(
        url,
        json={"entry_id": mine[0]["id"], "organization_id": world.other_owner.organization_id},
        headers=internal(settings),
    )
    assert wrong_org.status_code == 404
    empty_org = await client.post(
        url, json={"organization_id": "00000000-0000-0000-0000-000000000000"}, headers=internal(settings)
    )
    assert (empty_org.status_code, empty_org.json()) == (202, {"queued": 0})


SIMILAR = {
    "Returns": "You can send back any purchase within thirty days for a full refund.",
    "Delivery": "Orders are delivered by courier within three working days.",
    "Payment": "We accept credit cards, bank transfers and cash on delivery.",
}


async def test_rag_search_is_tenant_isolated_and_best_first(  # type: ignore[no-untyped-def]
    client, world: World, drain: Drain, settings
) -> None:
    a = {title: await create_text(client, world.owner, title, body) for title, body in SIMILAR.items()}
    b = {
        title: await create_text(client, world.other_owner, title, body.replace("thirty", "fourteen"))
        for title, body in SIMILAR.items()
    }
    await drain()
    for org, own in ((world.org, a), (world.other_owner.organization_id, b)):
        ids = {e["id"] for e in own.values()}
        for title, question in (
            ("Returns", "How long do I have to return something I bought?"),
            ("Delivery", "How fast will my parcel arrive?"),
            ("Payment", "Can I pay with a card?"),
        ):
            results = await rag_search(client, settings, org, question, top_k=10)
            assert results and {r["entry_id"] for r in results} <= ids, "another tenant's chunks leaked"
            assert results[0]["entry_id"] == own[title]["id"], (question, results)
            assert results[0]["score"] == max(r["score"] for r in results)
            assert set(results[0]) == {"chunk_id", "entry_id", "title", "content", "score"}
    assert (
        "fourteen"
        in (await rag_search(client, settings, world.other_owner.organization_id, "refund"))[0]["content"]
    )
    nobody = await rag_search(client, settings, "00000000-0000-0000-0000-000000000000", "refund")
    assert nobody == []
    for body in (
        {"organization_id": world.org, "query": ""},
        {"organization_id": world.org, "query": "x", "top_k": 0},
    ):
        bad = await client.post(f"{API}/internal/ai/rag/search", json=body, headers=internal(settings))
        assert bad.status_code == 422, bad.text


async def test_rag_context_fits_the_token_budget_and_names_its_sources(  # type: ignore[no-untyped-def]
    client, world: World, drain: Drain, settings
) -> None:
    entries = {
        title: await create_text(client, world.owner, title, body * 3) for title, body in SIMILAR.items()
    }
    await drain()
    counter = TiktokenCounter()
    url = f"{API}/internal/ai/rag/context"
    seen = []
    for budget in (60, 120, 2000):
        response = await client.post(
            url,
            json={"organization_id": world.org, "query": "How do refunds work?", "max_tokens": budget},
            headers=internal(settings),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["context"], body
        assert body["token_count"] == counter.count(body["context"]) <= budget
        assert body["sources"][0]["entry_id"] == entries["Returns"]["id"]
        assert {s["entry_id"] for s in body["sources"]} <= {e["id"] for e in entries.values()}
        for source in body["sources"]:
            assert source["title"] in body["context"] and 0.0 <= source["score"] <= 1.0
        seen.append(len(body["sources"]))
    assert seen[-1] == 3 and seen[0] <= seen[-1]
    small = await client.post(
        url,
        json={"organization_id": world.org, "query": "refunds", "max_tokens": 10},
        headers=internal(settings),
    )
    assert small.status_code == 422
