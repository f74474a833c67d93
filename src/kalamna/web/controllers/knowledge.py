"""Section 5 of the contract: knowledge entries (typed text or uploaded files)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import Body, FromPath, FromQuery, Parameter

from kalamna.application.auth.principal import Principal
from kalamna.application.knowledge.entries import (
    MAX_UPLOAD_BYTES,
    CreateEntry,
    DeleteEntry,
    GetEntry,
    ListEntries,
    UpdateEntry,
    Upload,
)
from kalamna.domain import limits
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry
from kalamna.web.errors import ApiError
from kalamna.web.input_guard import InputRefused, check_text_fields
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, schema_name

# Multipart framing around a 10 MiB file; the use case checks the file's own size exactly.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 256 * 1024
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.KNOWLEDGE_TITLE_MAX)]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000_000)]


class TextEntryIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    content: Content


class EntryUpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    content: Content | None = None


class EntryOut(msgspec.Struct):
    id: UUID
    organization_id: UUID
    title: str
    source_type: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    status: str
    error: str | None
    chunk_count: int
    token_count: int
    embedding_model: str | None
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: KnowledgeEntry) -> EntryOut:
        return cls(
            id=entry.id,
            organization_id=entry.organization_id,
            title=entry.title,
            source_type=entry.source_type.value,
            filename=entry.filename,
            content_type=entry.content_type,
            size_bytes=entry.size_bytes,
            status=entry.status.value,
            error=entry.error,
            chunk_count=entry.chunk_count,
            token_count=entry.token_count,
            embedding_model=entry.embedding_model,
            created_by=entry.created_by,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )


EntryPage = Annotated[ListOut[EntryOut], schema_name("EntryPage")]


class EntryWithContentOut(EntryOut):
    content: str = ""


def _decode_json(raw: bytes) -> TextEntryIn:
    try:
        return msgspec.json.decode(raw, type=TextEntryIn)
    except msgspec.ValidationError as exc:
        raise ApiError(
            422, "validation_error", "Validation failed.", extra={"fields": [{"message": str(exc)}]}
        ) from exc
    except msgspec.DecodeError as exc:
        raise ApiError(400, "bad_request", "The request body is not valid JSON.") from exc


async def _read_upload(request: Request[Any, Any, Any]) -> Upload:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ApiError(
            422,
            "validation_error",
            "Send the document as the multipart field 'file'.",
            extra={"fields": [{"key": "file", "message": "required"}]},
        )
    try:
        check_text_fields({k: v for k, v in form.items() if isinstance(v, str)}, "body")
        check_text_fields({"file.filename": file.filename or ""}, "body")
    except InputRefused as exc:
        raise ApiError(exc.status, exc.code, exc.detail, extra={"fields": exc.fields}) from exc
    title = form.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 300):
        raise ApiError(
            422,
            "validation_error",
            "The title must be text of at most 300 characters.",
            extra={"fields": [{"key": "title"}]},
        )
    data = await file.read()
    return Upload(filename=file.filename or "upload", data=data, title=title or None)


class KnowledgeController(Controller):
    path = "/orgs/{org_id:uuid}/knowledge-bases"
    tags = ["knowledge"]

    @post(
        "/",
        status_code=201,
        summary="Add an entry: JSON {title, content} or multipart with 'file' (+ optional 'title')",
        description="Files: .txt .md .html .pdf .docx up to 10 MiB. Ingestion runs as a background job.",
        request_max_body_size=MAX_REQUEST_BYTES,
    )
    @inject
    async def create(
        self,
        org_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        principal: FromDishka[Principal],
        create: FromDishka[CreateEntry],
    ) -> EntryOut:
        media_type, _ = request.content_type
        if media_type == "application/json":
            data = _decode_json(await request.body())
            entry = await create.from_text(principal, org_id, data.title, data.content)
        elif media_type == "multipart/form-data":
            entry = await create.from_file(principal, org_id, await _read_upload(request))
        else:
            raise ApiError(415, "unsupported_media_type", "Send JSON or multipart/form-data.")
        return EntryOut.of(entry)

    @get("/", summary="Entries of the organization")
    @inject
    async def list_entries(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_entries: FromDishka[ListEntries],
        status: FromQuery[Literal["pending", "processing", "ready", "failed"] | None] = None,
        q: Annotated[str | None, Parameter(max_length=300)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> EntryPage:
        page = await list_entries(
            principal,
            org_id,
            status=EntryStatus(status) if status else None,
            title_query=q,
            page=page_of(limit, offset),
        )
        return ListOut([EntryOut.of(e) for e in page.items], page.total, page.limit, page.offset)

    @get("/{kb_id:uuid}", summary="One entry, with its content")
    @inject
    async def get_entry(
        self,
        org_id: FromPath[UUID],
        kb_id: FromPath[UUID],
        principal: FromDishka[Principal],
        get_entry: FromDishka[GetEntry],
    ) -> EntryWithContentOut:
        entry = await get_entry(principal, org_id, kb_id)
        return EntryWithContentOut(**msgspec.structs.asdict(EntryOut.of(entry)), content=entry.content)

    @put("/{kb_id:uuid}", summary="Change title or content (a change re-runs ingestion)")
    @inject
    async def update_entry(
        self,
        org_id: FromPath[UUID],
        kb_id: FromPath[UUID],
        data: Annotated[EntryUpdateIn, Body()],
        principal: FromDishka[Principal],
        update: FromDishka[UpdateEntry],
    ) -> EntryOut:
        return EntryOut.of(await update(principal, org_id, kb_id, title=data.title, content=data.content))

    @delete(
        "/{kb_id:uuid}", status_code=204, summary="Delete an entry; its chunks leave search at once (owner)"
    )
    @inject
    async def delete_entry(
        self,
        org_id: FromPath[UUID],
        kb_id: FromPath[UUID],
        principal: FromDishka[Principal],
        remove: FromDishka[DeleteEntry],
    ) -> None:
        await remove(principal, org_id, kb_id)
