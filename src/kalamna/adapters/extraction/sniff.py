"""Decide what an upload is from its extension *and* its bytes. The client's declared content type is
not trusted and plays no part. Cheap checks only: this runs before the sandbox, in our process."""

from __future__ import annotations

import codecs
import re
from enum import StrEnum
from pathlib import PurePosixPath

from kalamna.domain.errors import UnsupportedMediaType


class DocumentKind(StrEnum):
    """Supported types; each value is the canonical MIME type."""

    TEXT = "text/plain"
    MARKDOWN = "text/markdown"
    HTML = "text/html"
    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


_BY_EXTENSION = {
    ".txt": DocumentKind.TEXT,
    ".md": DocumentKind.MARKDOWN,
    ".html": DocumentKind.HTML,
    ".htm": DocumentKind.HTML,
    ".pdf": DocumentKind.PDF,
    ".docx": DocumentKind.DOCX,
}
SUPPORTED_EXTENSIONS = ", ".join(sorted(_BY_EXTENSION))

# Signatures of binary formats that must never pass as text, even when they happen to be ASCII.
_BINARY_SIGNATURES = (
    b"%PDF-",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x7fELF",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"\xd0\xcf\x11\xe0",  # OLE2: .doc, .xls, .msg
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"%!PS",
    b"\x00asm",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"{\\rtf",
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_STRAY_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")  # not tab, newlines, form feed, ESC
_MAX_CONTROL_RATIO = 0.01  # stray controls beyond this share of the sample mean "binary", not "text"
_CONTROL_SAMPLE_CHARS = 65_536


def detect_kind(data: bytes, filename: str, declared_content_type: str | None = None) -> DocumentKind:
    """The kind of the upload, or ``UnsupportedMediaType`` when the name is not supported or the
    bytes contradict it (a renamed binary). DOCX internals are checked later, in the sandbox.
    ``declared_content_type`` is accepted for callers that have one, and deliberately ignored."""
    kind = _kind_from_name(filename)
    if kind is DocumentKind.PDF:
        if not data.startswith(b"%PDF-"):
            raise UnsupportedMediaType("This file is named .pdf but is not a PDF document.")
    elif kind is DocumentKind.DOCX:
        if not data.startswith(b"PK\x03\x04"):
            raise UnsupportedMediaType("This file is named .docx but is not a Word document.")
    else:
        decode_text(data, kind)
    return kind


def _kind_from_name(filename: str) -> DocumentKind:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    raise UnsupportedMediaType(f"Unsupported file type; upload one of: {SUPPORTED_EXTENSIONS}.")


def decode_text(data: bytes, kind: DocumentKind) -> str:
    """Decode a text upload: UTF-8 (BOM optional), UTF-16 with a BOM, or, for HTML only, the
    charset its ``<meta>`` declares (old Arabic sites use windows-1256). Binary content, NUL bytes
    or undecodable bytes are ``UnsupportedMediaType``."""
    if data.startswith(_BINARY_SIGNATURES):
        raise UnsupportedMediaType("The file's content is binary, not text; check its type.")
    if data.startswith(_UTF16_BOMS):
        text = _decode_or_none(data, "utf-16")
    else:
        text = _decode_or_none(data, "utf-8-sig")
        if text is None and kind is DocumentKind.HTML:
            text = _decode_declared_html_charset(data)
    if text is None:
        raise UnsupportedMediaType("Text files must be encoded as UTF-8 (or UTF-16 with a byte order mark).")
    sample = text[:_CONTROL_SAMPLE_CHARS]
    if "\x00" in text or len(_STRAY_CONTROLS.findall(sample)) > _MAX_CONTROL_RATIO * len(sample):
        raise UnsupportedMediaType("The file's content is binary, not text; check its type.")
    return text


def _decode_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_declared_html_charset(data: bytes) -> str | None:
    declared = _META_CHARSET.search(data[:4096])
    if declared is None:
        return None
    try:
        codec = codecs.lookup(declared.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None
    if codec.name.startswith("utf-16") or codec.name.startswith("utf-32"):
        return None  # without a BOM these cannot be told from binary
    return _decode_or_none(data, codec.name)
