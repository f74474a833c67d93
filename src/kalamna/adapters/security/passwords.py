"""argon2id in a bounded thread pool, so a login storm queues instead of stalling the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """Defaults: OWASP's first argon2id configuration (m=19 MiB, t=2, p=1)."""

    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


class Argon2PasswordHasher:
    def __init__(self, parameters: Argon2Parameters | None = None, *, max_threads: int = 2) -> None:
        p = parameters or Argon2Parameters()
        self._hasher = PasswordHasher(
            time_cost=p.time_cost, memory_cost=p.memory_kib, parallelism=p.parallelism, type=Type.ID
        )
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="argon2")
        self._dummy_hash = self._hasher.hash("kalamna-dummy-password-for-timing-parity")

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._hasher.hash, password)
        return result

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str, password: str) -> bool:
        result: bool = await self._run(self._verify, password_hash, password)
        return result

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return bool(self._hasher.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True

    async def burn(self, password: str) -> None:
        await self.verify(self._dummy_hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
