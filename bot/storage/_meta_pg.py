"""PostgreSQL SQL for the `meta` table (beside `_meta`): the salt and the synced command tree."""

from __future__ import annotations

from typing import Any

from bot.storage._models import SyncClaim


async def read_salt(conn: Any) -> str | None:
    return await conn.fetchval("SELECT value FROM meta WHERE key = 'salt'")


# The upsert locks the row: a second process recording the same digest at the same moment
# waits, then finds its value equal and changes nothing (no row returned).
_CLAIM = (
    "WITH old AS (SELECT value FROM meta WHERE key = $1) "
    "INSERT INTO meta (key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
    "WHERE meta.value IS DISTINCT FROM excluded.value "
    "RETURNING (SELECT value FROM old)"
)


async def claim_sync(conn: Any, key: str, digest: str) -> SyncClaim:
    rows = await conn.fetch(_CLAIM, key, digest)
    if not rows:
        return SyncClaim(claimed=False, previous=digest)
    return SyncClaim(claimed=True, previous=rows[0][0])


async def undo_sync(conn: Any, key: str, digest: str, previous: str | None) -> None:
    if previous is None:
        await conn.execute("DELETE FROM meta WHERE key = $1 AND value = $2", key, digest)
    else:
        await conn.execute(
            "UPDATE meta SET value = $1 WHERE key = $2 AND value = $3", previous, key, digest
        )
