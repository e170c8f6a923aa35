"""PostgreSQL SQL for reading the query log: statistics, pruning and export (beside `_usage`).

As in SQLite, one server and all servers are separate statements, so the planner sees which
index serves: (guild_id, at) for one server, (at) for all servers since a time. Ties in the top
lists sort in byte order (COLLATE "C"), as SQLite sorts them; the median is `percentile_cont`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.storage._models import QueryRow, Stats
from bot.storage._pg_status import rows_affected
from bot.storage._querylog import format_at
from bot.storage._usage import (
    CONTENT_GAPS,
    EXPORT_PAGE,
    NO_MATCH_QUERIES,
    PER_COMMAND,
    PRUNE_CHUNK,
    TOP_ENTRIES,
    TOP_QUERIES,
    TOTALS,
    build_stats,
)

__all__ = ["EXPORT_PAGE", "PRUNE_CHUNK", "prune_chunk", "query_page", "stats"]


def scope(since: datetime | None, guild_id: int | None) -> tuple[str, tuple]:
    """The WHERE condition (a fixed text, parameters from $1) for a server and a period."""
    if guild_id is None:
        return ("at >= $1", (since,)) if since else ("true", ())
    if since is None:
        return "guild_id = $1", (guild_id,)
    return "guild_id = $1 AND at >= $2", (guild_id, since)


# One statement for every figure, completed with a scope() condition. For one server the rows
# in scope are read once (MATERIALIZED) and every figure computed from them; over all servers
# each figure reads the table itself (NOT MATERIALIZED), which is cheaper than a copy of it.
STATS = """
WITH w AS {materialized} (
    SELECT lower(query) AS q, query <> '' AS typed, matched_id AS m, outcome AS o,
           command AS c, failed AS f, duration_ms AS d
    FROM query_log WHERE {where}
)
SELECT {totals}, NULL::text, COUNT(*), COUNT(*) FILTER (WHERE f),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM w
UNION ALL (SELECT {top_queries}, q, COUNT(*) AS n, 0, NULL FROM w WHERE typed
           GROUP BY q ORDER BY n DESC, q COLLATE "C" LIMIT ${limit})
UNION ALL (SELECT {top_entries}, m, COUNT(*) AS n, 0, NULL FROM w WHERE m IS NOT NULL
           GROUP BY m ORDER BY n DESC, m COLLATE "C" LIMIT ${limit})
UNION ALL (SELECT {no_match}, q, COUNT(*) AS n, 0, NULL FROM w
           WHERE o IN (${gap1}, ${gap2}) AND typed
           GROUP BY q ORDER BY n DESC, q COLLATE "C" LIMIT ${limit})
UNION ALL (SELECT {per_command}, c, COUNT(*) AS n, 0, NULL FROM w GROUP BY c)
"""


def stats_sql(since: datetime | None, guild_id: int | None) -> tuple[str, tuple]:
    where, params = scope(since, guild_id)
    first = len(params) + 1
    sql = STATS.format(
        materialized="NOT MATERIALIZED" if guild_id is None else "MATERIALIZED",
        where=where,
        totals=TOTALS,
        top_queries=TOP_QUERIES,
        top_entries=TOP_ENTRIES,
        no_match=NO_MATCH_QUERIES,
        per_command=PER_COMMAND,
        limit=first,
        gap1=first + 1,
        gap2=first + 2,
    )
    return sql, params


async def stats(conn: Any, since: datetime | None, guild_id: int | None, limit: int) -> Stats:
    sql, params = stats_sql(since, guild_id)
    rows = await conn.fetch(sql, *params, limit, *CONTENT_GAPS)
    totals = next(row for row in rows if row[0] == TOTALS)
    middle = [totals[4]] if totals[4] is not None else []
    return build_stats([row[:4] for row in rows], middle, since, guild_id)


async def prune_chunk(conn: Any, before: datetime) -> int:
    status = await conn.execute(
        "DELETE FROM query_log WHERE id IN (SELECT id FROM query_log WHERE at < $1 LIMIT $2)",
        before,
        PRUNE_CHUNK,
    )
    return rows_affected(status)


_PAGE = (
    "SELECT id, at, guild_id, channel_id, user_hash, command, query, matched_id, outcome, "
    "score, failed, duration_ms FROM query_log WHERE {where}{after} ORDER BY at, id LIMIT {limit}"
)


async def query_page(
    conn: Any, after: tuple[datetime, int] | None, since: datetime | None, guild_id: int | None
) -> list[tuple[tuple[datetime, int], QueryRow]]:
    """The next page of rows, oldest first, after the (at, id) key `after` (keyset paging)."""
    where, params = scope(since, guild_id)
    n = len(params)
    if after is None:
        sql = _PAGE.format(where=where, after="", limit=f"${n + 1}")
        rows = await conn.fetch(sql, *params, EXPORT_PAGE)
    else:
        keyset = f" AND (at, id) > (${n + 1}, ${n + 2})"
        sql = _PAGE.format(where=where, after=keyset, limit=f"${n + 3}")
        rows = await conn.fetch(sql, *params, *after, EXPORT_PAGE)
    return [
        ((row[1], row[0]), QueryRow(format_at(row[1]), *row[2:10], row[10], row[11]))
        for row in rows
    ]
