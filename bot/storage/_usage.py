"""SQLite SQL for reading the query log: statistics, pruning and export.

One server and all servers are separate statements, so the planner always sees which index
serves: (guild_id, at) for one server, (at) for all servers since a time. Only the all-time
figures over every server read the whole table, which is what they ask for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage._models import Count, QueryRow, Stats
from bot.storage._querylog import format_at

# The lookup engine's Outcome.NONE and Outcome.UNCOVERED: the content gaps `stats` lists.
CONTENT_GAPS = ("none", "uncovered")
PRUNE_CHUNK = 5000
EXPORT_PAGE = 1000


def scope(since: datetime | None, guild_id: int | None) -> tuple[str, tuple]:
    """The WHERE condition (a fixed text) and its parameters for a server and a period."""
    if guild_id is None:
        return ("at >= ?", (format_at(since),)) if since else ("1", ())
    if since is None:
        return "guild_id = ?", (guild_id,)
    return "guild_id = ? AND at >= ?", (guild_id, format_at(since))


# One statement for every figure, completed with a scope() condition and how `w` is read: fixed
# texts only, values stay parameters. For one server the rows in scope are read once into a
# temporary table (MATERIALIZED) and every figure is computed from it; over all servers copying
# the log would cost more than reading it again, so each figure reads the table itself (NOT
# MATERIALIZED: SQLite puts the condition into each arm). Each arm's rows carry its number.
STATS = """
WITH w AS {materialized} (
    SELECT lower(query) AS q, query <> '' AS typed, matched_id AS m, outcome AS o,
           command AS c, failed AS f, duration_ms AS d
    FROM query_log WHERE {where}
), timed AS MATERIALIZED (SELECT COUNT(d) AS n FROM w)
SELECT 0, NULL, COUNT(*), COALESCE(SUM(f), 0), COUNT(d) FROM w
UNION ALL SELECT * FROM (
    SELECT 1, q, COUNT(*) AS n, 0, 0 FROM w WHERE typed GROUP BY q ORDER BY n DESC, q LIMIT ?)
UNION ALL SELECT * FROM (
    SELECT 2, m, COUNT(*) AS n, 0, 0 FROM w WHERE m IS NOT NULL
    GROUP BY m ORDER BY n DESC, m LIMIT ?)
UNION ALL SELECT * FROM (
    SELECT 3, q, COUNT(*) AS n, 0, 0 FROM w WHERE o IN (?, ?) AND typed
    GROUP BY q ORDER BY n DESC, q LIMIT ?)
UNION ALL SELECT * FROM (
    SELECT 4, c, COUNT(*) AS n, 0, 0 FROM w GROUP BY c ORDER BY n DESC, c)
UNION ALL SELECT * FROM (
    SELECT 5, NULL, d, 0, 0 FROM w WHERE d IS NOT NULL ORDER BY d
    LIMIT 2 - (SELECT n FROM timed) % 2 OFFSET ((SELECT n FROM timed) - 1) / 2)
"""  # the last arm: the middle duration (odd count) or the middle two (even count)
TOTALS, TOP_QUERIES, TOP_ENTRIES, NO_MATCH_QUERIES, PER_COMMAND, MIDDLE_MS = range(6)


async def stats(
    conn: aiosqlite.Connection, since: datetime | None, guild_id: int | None, limit: int
) -> Stats:
    where, params = scope(since, guild_id)
    materialized = "NOT MATERIALIZED" if guild_id is None else "MATERIALIZED"
    sql = STATS.format(materialized=materialized, where=where)
    async with conn.execute(sql, (*params, limit, limit, *CONTENT_GAPS, limit)) as cursor:
        rows = await cursor.fetchall()
    middle = [row[2] for row in rows if row[0] == MIDDLE_MS]
    figures = [row[:4] for row in rows if row[0] != MIDDLE_MS]
    return build_stats(figures, middle, since, guild_id)


def build_stats(
    rows: Iterable[Sequence[Any]], middle: list[float], since: datetime | None, guild_id: int | None
) -> Stats:
    """`Stats` from (kind, name, count, failures) rows and the middle duration(s), for every
    engine: the lists sorted by count, then name."""
    counts: dict[int, list[Count]] = {kind: [] for kind in range(1, 5)}
    total = failed = 0
    for kind, name, value, failures in rows:
        if kind == TOTALS:
            total, failed = value, failures
        else:
            counts[kind].append(Count(str(name), value))
    for found in counts.values():
        found.sort(key=lambda count: (-count.count, count.name))
    return Stats(
        total=total,
        failed=failed,
        top_queries=tuple(counts[TOP_QUERIES]),
        top_entries=tuple(counts[TOP_ENTRIES]),
        no_match_queries=tuple(counts[NO_MATCH_QUERIES]),
        per_command=tuple(counts[PER_COMMAND]),
        median_ms=sum(middle) / len(middle) if middle else None,
        since=since,
        guild_id=guild_id,
    )


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
    after: tuple[str, int] | None,
    since: datetime | None,
    guild_id: int | None,
) -> list[tuple[tuple[str, int], QueryRow]]:
    """The next page of rows, oldest first, after the (at, id) key `after`: keyset paging on
    the same index the filter uses, so every page costs the same."""
    where, params = scope(since, guild_id)
    async with conn.execute(
        PAGE.format(where), (*params, *(after or ("", 0)), EXPORT_PAGE)
    ) as cursor:
        rows = await cursor.fetchall()
    return [((row[1], row[0]), QueryRow(*row[1:10], bool(row[10]), row[11])) for row in rows]
