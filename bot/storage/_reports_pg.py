"""PostgreSQL SQL for reports of mistakes and the report channel (beside `_reports`): the same
unique index keeps one report per member, entry and UTC day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.reports import MistakeReport
from bot.storage._pg_status import rows_affected

_COLUMNS = "entry_id, content_version, what, source, user_hash, at, reported_on, guild_id"
_LIST = f"SELECT {_COLUMNS} FROM mistake_reports"  # noqa: S608


async def add(conn: Any, report: MistakeReport) -> bool:
    found = await conn.fetchval(
        f"INSERT INTO mistake_reports ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "  # noqa: S608
        "ON CONFLICT (user_hash, entry_id, reported_on) DO NOTHING RETURNING id",
        report.entry_id,
        report.content_version,
        report.what,
        report.source,
        report.user_hash,
        report.at,
        report.day,
        report.guild_id,
    )
    return found is not None


def _scope(since: datetime | None, guild_id: int | None = None) -> tuple[str, tuple]:
    if guild_id is not None:
        if since is None:
            return "guild_id = $1", (guild_id,)
        return "guild_id = $1 AND at >= $2", (guild_id, since)
    return ("at >= $1", (since,)) if since is not None else ("true", ())


async def listed(conn: Any, since: datetime | None) -> list[MistakeReport]:
    where, params = _scope(since)
    rows = await conn.fetch(f"{_LIST} WHERE {where} ORDER BY at, id", *params)
    return [MistakeReport.from_row({**dict(row), "at": row["at"].isoformat()}) for row in rows]


async def count(conn: Any, since: datetime | None, guild_id: int | None = None) -> int:
    where, params = _scope(since, guild_id)
    sql = f"SELECT COUNT(*) FROM mistake_reports WHERE {where}"  # noqa: S608
    return int(await conn.fetchval(sql, *params))


async def forget(conn: Any, user_hash: str) -> int:
    status = await conn.execute("DELETE FROM mistake_reports WHERE user_hash = $1", user_hash)
    return rows_affected(status)


async def channel(conn: Any, guild_id: int) -> int | None:
    return await conn.fetchval(
        "SELECT report_channel_id FROM guild_settings WHERE guild_id = $1", guild_id
    )


async def set_channel(conn: Any, guild_id: int, channel_id: int | None) -> None:
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, report_channel_id) VALUES ($1, $2) "
        "ON CONFLICT (guild_id) DO UPDATE SET report_channel_id = excluded.report_channel_id",
        guild_id,
        channel_id,
    )
