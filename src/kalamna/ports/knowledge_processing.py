"""Ports for turning uploaded files into retrievable pieces: text extraction and chunking."""

from __future__ import annotations

from typing import Protocol

from kalamna.domain.chunk import Chunk
from kalamna.domain.text import ExtractedDocument


class TextExtractor(Protocol):
    """Reads the text out of an uploaded file.

    Raises ``UnsupportedMediaType`` when the file is not one of the supported types (judged by its
    name *and* its bytes), ``UnreadableDocument`` when it is but yields no text (empty, corrupt,
    hostile, too slow), and ``PayloadTooLarge`` for oversized input."""

    async def extract(
        self, data: bytes, filename: str, declared_content_type: str | None
    ) -> ExtractedDocument: ...


class Chunker(Protocol):
    """Cuts an entry into chunks. Deterministic: the same title and text give the same chunks, so
    re-ingestion converges. Blank text gives no chunks."""

    def chunk(self, title: str, text: str) -> list[Chunk]: ...
