"""SQLite SQL for reports of mistakes in the content (`bot.reports.MistakeReport`) and each
server's moderators' channel for them.

One report per member, entry and UTC day is the table's unique key: the insert that would be a
second one does nothing (ON CONFLICT DO NOTHING RETURNING), in this process or another.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.reports import MistakeReport
from bot.review import utc_text

_COLUMNS = "entry_id, content_version, what, source, user_hash, at, reported_on, guild_id"
_LIST = f"SELECT {_COLUMNS} FROM mistake_reports"  # noqa: S608


async def add(conn: aiosqlite.Connection, report: MistakeReport) -> bool:
    async with conn.execute(
        f"INSERT INTO mistake_reports ({_COLUMNS}) VALUES (:entry_id, :content_version, "  # noqa: S608
        ":what, :source, :user_hash, :at, :reported_on, :guild_id) "
        "ON CONFLICT (user_hash, entry_id, reported_on) DO NOTHING RETURNING id",
        report.to_row(),
    ) as cursor:
        return await cursor.fetchone() is not None


def _scope(since: datetime | None, guild_id: int | None = None) -> tuple[str, tuple]:
    """A fixed WHERE condition and its parameters: along the (at) index, the (guild_id, at)
    index for one server, or every report."""
    if guild_id is not None:
        if since is None:
            return "guild_id = ?", (guild_id,)
        return "guild_id = ? AND at >= ?", (guild_id, utc_text(since))
    return ("at >= ?", (utc_text(since),)) if since is not None else ("1", ())


async def listed(conn: aiosqlite.Connection, since: datetime | None) -> list[MistakeReport]:
    """Oldest first, in the order of the `at` index."""
    where, params = _scope(since)
    async with conn.execute(f"{_LIST} WHERE {where} ORDER BY at, id", params) as cursor:
        rows = await cursor.fetchall()
        names = [column[0] for column in cursor.description]
    return [MistakeReport.from_row(dict(zip(names, row, strict=True))) for row in rows]


async def count(
    conn: aiosqlite.Connection, since: datetime | None, guild_id: int | None = None
) -> int:
    """Reports since a time (None: ever), from one server or (None) all."""
    where, params = _scope(since, guild_id)
    sql = f"SELECT COUNT(*) FROM mistake_reports WHERE {where}"  # noqa: S608
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def forget(conn: aiosqlite.Connection, user_hash: str) -> int:
    cursor = await conn.execute("DELETE FROM mistake_reports WHERE user_hash = ?", (user_hash,))
    return max(cursor.rowcount, 0)


async def channel(conn: aiosqlite.Connection, guild_id: int) -> int | None:
    async with conn.execute(
        "SELECT report_channel_id FROM guild_settings WHERE guild_id = ?", (guild_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


async def set_channel(conn: aiosqlite.Connection, guild_id: int, channel_id: int | None) -> None:
    """Only that column: a server's daily-post settings are never touched."""
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, report_channel_id) VALUES (?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET report_channel_id = excluded.report_channel_id",
        (guild_id, channel_id),
    )
