"""SQLite SQL for reading the query log: statistics, pruning and export.

One server and all servers are separate statements, so the planner always sees which index
serves: (guild_id, at) for one server, (at) for all servers since a time. Only the all-time
figures over every server read the whole table, which is what they ask for.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.storage._models import Count, QueryRow, Stats
from bot.storage._querylog import format_at

NO_MATCH = "none"  # the lookup engine's Outcome.NONE
PRUNE_CHUNK = 5000
EXPORT_PAGE = 1000


def scope(since: datetime | None, guild_id: int | None) -> tuple[str, tuple]:
    """The WHERE condition (a fixed text) and its parameters for a server and a period."""
    if guild_id is None:
        return ("at >= ?", (format_at(since),)) if since else ("1", ())
    if since is None:
        return "guild_id = ?", (guild_id,)
    return "guild_id = ? AND at >= ?", (guild_id, format_at(since))


# Each statement is completed with a scope() condition: fixed texts only, values stay parameters.
TOTALS = "SELECT COUNT(*), COALESCE(SUM(failed), 0), COUNT(duration_ms) FROM query_log WHERE {}"
TOP_QUERIES = (
    "SELECT lower(query) AS q, COUNT(*) AS n FROM query_log WHERE {} AND query <> '' "
    "GROUP BY q ORDER BY n DESC, q LIMIT ?"
)
TOP_ENTRIES = (
    "SELECT matched_id, COUNT(*) AS n FROM query_log WHERE {} AND matched_id IS NOT NULL "
    "GROUP BY matched_id ORDER BY n DESC, matched_id LIMIT ?"
)
NO_MATCH_QUERIES = (
    "SELECT lower(query) AS q, COUNT(*) AS n FROM query_log WHERE {} AND outcome = ? "
    "AND query <> '' GROUP BY q ORDER BY n DESC, q LIMIT ?"
)
PER_COMMAND = (
    "SELECT command, COUNT(*) AS n FROM query_log WHERE {} GROUP BY command "
    "ORDER BY n DESC, command"
)
# The middle one (odd count) or the middle two (even count) of the sorted durations.
MIDDLE_MS = (
    "SELECT duration_ms FROM query_log WHERE {} AND duration_ms IS NOT NULL "
    "ORDER BY duration_ms LIMIT ? OFFSET ?"
)


async def _counts(conn: aiosqlite.Connection, sql: str, params: tuple) -> tuple[Count, ...]:
    async with conn.execute(sql, params) as cursor:
        return tuple(Count(str(row[0]), row[1]) for row in await cursor.fetchall())


async def stats(
    conn: aiosqlite.Connection, since: datetime | None, guild_id: int | None, limit: int
) -> Stats:
    where, params = scope(since, guild_id)
    async with conn.execute(TOTALS.format(where), params) as cursor:
        total, failed, timed = await cursor.fetchone()  # type: ignore[misc]
    top_queries = await _counts(conn, TOP_QUERIES.format(where), (*params, limit))
    top_entries = await _counts(conn, TOP_ENTRIES.format(where), (*params, limit))
    no_match = await _counts(conn, NO_MATCH_QUERIES.format(where), (*params, NO_MATCH, limit))
    per_command = await _counts(conn, PER_COMMAND.format(where), params)
    return Stats(
        total=total,
        failed=failed,
        top_queries=top_queries,
        top_entries=top_entries,
        no_match_queries=no_match,
        per_command=per_command,
        median_ms=await _median_ms(conn, where, params, timed),
        since=since,
        guild_id=guild_id,
    )


async def _median_ms(
    conn: aiosqlite.Connection, where: str, params: tuple, timed: int
) -> float | None:
    if not timed:
        return None
    middle_params = (*params, 2 - timed % 2, (timed - 1) // 2)
    async with conn.execute(MIDDLE_MS.format(where), middle_params) as cursor:
        middle = [row[0] for row in await cursor.fetchall()]
    return sum(middle) / len(middle)


async def prune_chunk(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete up to PRUNE_CHUNK rows older than `before`; short transactions let the bot write."""
    cursor = await conn.execute(
        "DELETE FROM query_log WHERE id IN (SELECT id FROM query_log WHERE at < ? LIMIT ?)",
        (format_at(before), PRUNE_CHUNK),
    )
    return max(cursor.rowcount, 0)


PAGE = (
    "SELECT id, at, guild_id, channel_id, user_hash, command, query, matched_id, outcome, "
    "score, failed, duration_ms FROM query_log WHERE {} AND (at, id) > (?, ?) "
    "ORDER BY at, id LIMIT ?"
)


async def query_page(
    conn: aiosqlite.Connection,
    after: tuple[str, int],
    since: datetime | None,
    guild_id: int | None,
) -> list[tuple[tuple[str, int], QueryRow]]:
    """The next page of rows, oldest first, after the (at, id) key `after`: keyset paging on
    the same index the filter uses, so every page costs the same."""
    where, params = scope(since, guild_id)
    async with conn.execute(PAGE.format(where), (*params, *after, EXPORT_PAGE)) as cursor:
        rows = await cursor.fetchall()
    return [((row[1], row[0]), QueryRow(*row[1:10], bool(row[10]), row[11])) for row in rows]
