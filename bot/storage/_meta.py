"""SQLite SQL for the `meta` table: the salt, and which command tree was synced to Discord."""

from __future__ import annotations

import aiosqlite

from bot.storage._models import SyncClaim


async def read_salt(conn: aiosqlite.Connection) -> str | None:
    async with conn.execute("SELECT value FROM meta WHERE key = 'salt'") as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


async def claim_sync(conn: aiosqlite.Connection, key: str, digest: str) -> SyncClaim:
    """Inside the write transaction (which holds the lock): record `digest` unless it is the
    one recorded already."""
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
        row = await cursor.fetchone()
    previous = row[0] if row else None
    if previous == digest:
        return SyncClaim(claimed=False, previous=previous)
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, digest),
    )
    return SyncClaim(claimed=True, previous=previous)


async def undo_sync(
    conn: aiosqlite.Connection, key: str, digest: str, previous: str | None
) -> None:
    """Put back what was recorded before a sync that failed, unless someone recorded since."""
    if previous is None:
        await conn.execute("DELETE FROM meta WHERE key = ? AND value = ?", (key, digest))
    else:
        await conn.execute(
            "UPDATE meta SET value = ? WHERE key = ? AND value = ?", (previous, key, digest)
        )
