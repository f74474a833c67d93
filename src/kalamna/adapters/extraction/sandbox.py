"""Text extraction in a throwaway child process.

Parsers of PDF, DOCX and HTML are large attack surfaces: a crafted file can loop, balloon memory or
crash the interpreter. The API and worker processes therefore only sniff the type (cheap, bounded);
the parsing happens in a fresh ``python`` child with an address-space limit, a CPU-time limit, no
secrets in its environment and a wall-clock timeout after which it is killed. The child reads the
file on stdin and writes one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import math
import os
import resource
import sys
import traceback
from collections.abc import Callable
from typing import Any

from kalamna.adapters.extraction.sniff import DocumentKind, detect_kind
from kalamna.domain.errors import DomainError, PayloadTooLarge, UnreadableDocument, UnsupportedMediaType
from kalamna.domain.text import ExtractedDocument

logger = logging.getLogger("kalamna.extraction")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
DEFAULT_MAX_TEXT_CHARS = 2_000_000  # about 500k tokens, over a thousand chunks to embed
DEFAULT_EXTRACT_FUNCTION = "kalamna.adapters.extraction.extractors:extract_document"
_CHILD_PROGRAM = "from kalamna.adapters.extraction.sandbox import child_main; child_main()"
_STDERR_LOG_CHARS = 2_000


class SandboxedTextExtractor:
    """Implements ``kalamna.ports.knowledge_processing.TextExtractor``.

    ``extract_function`` ("module:function", called in the child as ``function(kind, data)``) exists
    so tests can stand in a parser that hangs, crashes or hogs memory; production keeps the default.
    """

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        extract_function: str = DEFAULT_EXTRACT_FUNCTION,
    ) -> None:
        self._timeout_s = timeout_s
        self._memory_limit_bytes = memory_limit_bytes
        self._max_text_chars = max_text_chars
        self._extract_function = extract_function

    async def extract(
        self, data: bytes, filename: str, declared_content_type: str | None
    ) -> ExtractedDocument:
        if len(data) > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.")
        kind = await asyncio.to_thread(detect_kind, data, filename)  # the declared type is not trusted
        reply = await self._run_child(kind.value, data)
        if "error" in reply:
            raise _error_from_reply(reply)
        document = ExtractedDocument(str(reply["text"]), str(reply["content_type"]), reply.get("pages"))
        if not document.text.strip():
            raise UnreadableDocument(
                "No text could be found in the document (a scanned PDF needs OCR, which is not supported)."
                if kind is DocumentKind.PDF
                else "The document contains no text."
            )
        return document

    async def _run_child(self, kind: str, data: bytes) -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",  # do not put the working directory on sys.path
            "-s",
            "-B",
            "-c",
            _CHILD_PROGRAM,
            kind,
            self._extract_function,
            str(self._memory_limit_bytes),
            str(math.ceil(self._timeout_s) + 1),
            str(self._max_text_chars),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_child_environment(),
            cwd="/",
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                stdout, stderr = await process.communicate(data)
        except TimeoutError:
            logger.warning(
                "extraction of a %s document timed out after %.1f s; child killed", kind, self._timeout_s
            )
            raise UnreadableDocument(
                "The document took too long to read; it may be damaged or built to stall readers."
            ) from None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        try:
            reply = json.loads(stdout)
            if not isinstance(reply, dict):
                raise TypeError("reply is not an object")
        except (ValueError, TypeError):
            logger.warning(
                "extraction child for a %s document died (exit %s): %s",
                kind,
                process.returncode,
                stderr.decode("utf-8", errors="replace")[-_STDERR_LOG_CHARS:],
            )
            raise UnreadableDocument("The document could not be read; it may be damaged.") from None
        return reply


def _error_from_reply(reply: dict[str, Any]) -> DomainError:
    detail = str(reply.get("detail") or "")
    if reply["error"] == UnsupportedMediaType.code:
        return UnsupportedMediaType(detail or None)
    if reply["error"] == PayloadTooLarge.code:
        return PayloadTooLarge(detail or None)
    return UnreadableDocument(detail or None)


def _child_environment() -> dict[str, str]:
    """Only what Python needs: the parent's secrets (database URL, API keys) stay out of reach of
    whatever a hostile file might make the parser do."""
    return {
        "PATH": os.defpath,
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONPATH": os.pathsep.join(path for path in sys.path if path and os.path.isdir(path)),
        "OMP_NUM_THREADS": "1",
    }


# --- child side ----------------------------------------------------------------------------------


def child_main() -> None:
    """Entry point of the child: ``argv = [kind, function, memory_limit, cpu_seconds, max_chars]``."""
    kind, function_path, memory_limit, cpu_seconds, max_text_chars = sys.argv[1:6]
    _limit_resources(int(memory_limit), int(cpu_seconds))
    data = sys.stdin.buffer.read()
    result_stream = sys.stdout.buffer
    sys.stdout = sys.stderr  # a parser that prints must not corrupt the reply
    reply = _extract_in_child(kind, function_path, data, int(max_text_chars))
    result_stream.write(json.dumps(reply, ensure_ascii=False).encode("utf-8"))
    result_stream.flush()


def _limit_resources(memory_limit: int, cpu_seconds: int) -> None:
    for limit, value in (
        (resource.RLIMIT_AS, memory_limit),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_CORE, 0),
    ):
        _, hard = resource.getrlimit(limit)
        capped = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (capped, capped))


def _extract_in_child(kind: str, function_path: str, data: bytes, max_text_chars: int) -> dict[str, Any]:
    try:
        extract = _resolve(function_path)
        document = extract(kind, data)
        if len(document.text) > max_text_chars:
            raise PayloadTooLarge(f"The document holds more than {max_text_chars:,} characters of text.")
        return {"text": document.text, "content_type": document.content_type, "pages": document.pages}
    except DomainError as error:
        return {"error": error.code, "detail": error.detail}
    except MemoryError:
        return {"error": UnreadableDocument.code, "detail": "The document needed too much memory to read."}
    except Exception:
        traceback.print_exc()
        return {
            "error": UnreadableDocument.code,
            "detail": "The document could not be read; it may be damaged.",
        }


def _resolve(function_path: str) -> Callable[[str, bytes], ExtractedDocument]:
    module_name, _, attribute = function_path.partition(":")
    function: Callable[[str, bytes], ExtractedDocument] = getattr(
        importlib.import_module(module_name), attribute
    )
    return function
