"""Shared by the storage tests: a sample record, and opening a Storage that is always closed.

aiosqlite's threads are not daemons, so a test that fails before closing its Storage would
leave pytest hanging at exit; `opened()` closes it whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.storage import QueryRecord, Storage

USER = 987654321987654321
OTHER = 123456789012345678
GUILD = 42


def record(query: str = "un charter", **changes: object) -> QueryRecord:
    values: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": 7,
        "user_id": USER,
        "command": "define",
        "query": query,
        "matched_id": "un-charter",
        "outcome": "exact",
        "score": 100.0,
        "failed": False,
        "duration_ms": 1.0,
    }
    values.update(changes)
    return QueryRecord(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def opened(path: Path | str, **options: object) -> AsyncIterator[Storage]:
    store = await Storage.open(path, **options)  # type: ignore[arg-type]
    try:
        yield store
    finally:
        await store.close()


class Gate:
    """Holds the next `method` call ("read" or "write") of a storage's engine, so a test can
    force an interleaving: `await gate.reached.wait()`, do something else, `gate.release()`.

    With `after=True` the call does its work first and is held before it returns (a read that
    has read, and not yet handed the result back).
    """

    def __init__(self, store: Storage, method: str, *, after: bool = False) -> None:
        self.reached = asyncio.Event()
        self._released = asyncio.Event()
        self._engine = store._engine
        self._method = method
        self._original = getattr(self._engine, method)
        self._after = after
        setattr(self._engine, method, self._held)

    async def _held(self, work):  # type: ignore[no-untyped-def]
        setattr(self._engine, self._method, self._original)  # only the first call is held
        if self._after:
            result = await self._original(work)
            self.reached.set()
            await self._released.wait()
            return result
        self.reached.set()
        await self._released.wait()
        return await self._original(work)

    def release(self) -> None:
        self._released.set()


class StatementWatch:
    """Sets `started` when a connection starts running a statement that begins with `prefix`
    (a trace callback, called on the connection's own thread)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.started = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __call__(self, statement: str) -> None:
        if statement.lstrip().upper().startswith(self.prefix):
            self._loop.call_soon_threadsafe(self.started.set)
