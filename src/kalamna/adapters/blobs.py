"""Original uploads on the local disk (``$KALAMNA_DATA_DIR/blobs``); an S3 adapter can replace it."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-/]{1,200}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not _SAFE_KEY.match(key) or ".." in key or key.startswith("/"):
            raise ValueError(f"unsafe blob key {key!r}")
        return self._root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial file behind
            raise
