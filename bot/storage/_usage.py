"""SQL for reading the query log: statistics, pruning and export.

Filters use `at >= ?` with '' for "all time" (every ISO timestamp sorts after ''), so the index
on `at` serves both cases.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.storage._models import Count, QueryRow, Stats
from bot.storage._querylog import format_at

# The lookup engine's Outcome.NONE and Outcome.UNCOVERED: the content gaps `stats` lists.
CONTENT_GAPS = ("none", "uncovered")
PRUNE_CHUNK = 5000
EXPORT_PAGE = 1000


def _since(since: datetime | None) -> str:
    return format_at(since) if since else ""


async def _counts(conn: aiosqlite.Connection, sql: str, params: tuple) -> tuple[Count, ...]:
    async with conn.execute(sql, params) as cursor:
        return tuple(Count(str(row[0]), row[1]) for row in await cursor.fetchall())


async def stats(
    conn: aiosqlite.Connection, since: datetime | None, guild_id: int | None, limit: int
) -> Stats:
    where = (_since(since), guild_id, guild_id)
    async with conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(failed), 0), COUNT(duration_ms) FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?)",
        where,
    ) as cursor:
        total, failed, timed = await cursor.fetchone()  # type: ignore[misc]
    top_queries = await _counts(
        conn,
        "SELECT lower(query) AS q, COUNT(*) AS n FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?) AND query <> '' "
        "GROUP BY q ORDER BY n DESC, q LIMIT ?",
        (*where, limit),
    )
    top_entries = await _counts(
        conn,
        "SELECT matched_id, COUNT(*) AS n FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?) AND matched_id IS NOT NULL "
        "GROUP BY matched_id ORDER BY n DESC, matched_id LIMIT ?",
        (*where, limit),
    )
    no_match = await _counts(
        conn,
        "SELECT lower(query) AS q, COUNT(*) AS n FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?) AND outcome IN (?, ?) AND query <> '' "
        "GROUP BY q ORDER BY n DESC, q LIMIT ?",
        (*where, *CONTENT_GAPS, limit),
    )
    per_command = await _counts(
        conn,
        "SELECT command, COUNT(*) AS n FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?) "
        "GROUP BY command ORDER BY n DESC, command",
        where,
    )
    return Stats(
        total=total,
        failed=failed,
        top_queries=top_queries,
        top_entries=top_entries,
        no_match_queries=no_match,
        per_command=per_command,
        median_ms=await _median_ms(conn, where, timed),
        since=since,
        guild_id=guild_id,
    )


async def _median_ms(conn: aiosqlite.Connection, where: tuple, timed: int) -> float | None:
    if not timed:
        return None
    # The middle one (odd count) or the middle two (even count) of the sorted durations.
    async with conn.execute(
        "SELECT duration_ms FROM query_log "
        "WHERE at >= ? AND (? IS NULL OR guild_id = ?) AND duration_ms IS NOT NULL "
        "ORDER BY duration_ms LIMIT ? OFFSET ?",
        (*where, 2 - timed % 2, (timed - 1) // 2),
    ) as cursor:
        middle = [row[0] for row in await cursor.fetchall()]
    return sum(middle) / len(middle)


async def prune_chunk(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete up to PRUNE_CHUNK rows older than `before`; short transactions let the bot write."""
    cursor = await conn.execute(
        "DELETE FROM query_log WHERE id IN (SELECT id FROM query_log WHERE at < ? LIMIT ?)",
        (format_at(before), PRUNE_CHUNK),
    )
    return max(cursor.rowcount, 0)


async def query_page(
    conn: aiosqlite.Connection, after_id: int, since: datetime | None, guild_id: int | None
) -> list[tuple[int, QueryRow]]:
    """The next page of rows in insertion order, as (id, row)."""
    async with conn.execute(
        "SELECT id, at, guild_id, channel_id, user_hash, command, query, matched_id, outcome, "
        "score, failed, duration_ms FROM query_log "
        "WHERE +at >= ? AND (? IS NULL OR guild_id = ?) AND id > ? ORDER BY id LIMIT ?",
        (_since(since), guild_id, guild_id, after_id, EXPORT_PAGE),
    ) as cursor:
        rows = await cursor.fetchall()
    return [(row[0], QueryRow(*row[1:10], bool(row[10]), row[11])) for row in rows]
