"""Shared by the storage tests: a sample record, and opening a Storage that is always closed.

aiosqlite's threads are not daemons, so a test that fails before closing its Storage would
leave pytest hanging at exit; `opened()` closes it whatever happens.
"""

from __future__ import annotations

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
