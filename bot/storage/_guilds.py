"""SQLite SQL for per-server settings. Every write names the columns it changes and nothing
else, so two writes to one server never undo each other (no read-modify-write of a row)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import aiosqlite

from bot.storage._models import GuildSettings
from bot.storage._querylog import format_at, parse_at

SETTINGS_COLUMNS = (
    "guild_id, daily_channel_id, daily_time, timezone, daily_enabled, daily_discussion, prefix, "
    "daily_problem, daily_next_at, daily_next_on"
)
# The same columns of the alias `s` (the daily queue joins the settings with the decks).
SETTINGS_COLUMNS_OF_S = ", ".join(f"s.{column.strip()}" for column in SETTINGS_COLUMNS.split(","))


def settings_from_row(row: aiosqlite.Row | tuple) -> GuildSettings:
    return GuildSettings(
        guild_id=row[0],
        daily_channel_id=row[1],
        daily_time=row[2],
        timezone=row[3],
        daily_enabled=bool(row[4]),
        daily_discussion=bool(row[5]),
        prefix=row[6],
        daily_problem=row[7],
        daily_next_at=parse_at(row[8]) if row[8] else None,
        daily_next_on=date.fromisoformat(row[9]) if row[9] else None,
    )


def at_text(moment: datetime | None) -> str | None:
    return format_at(moment) if moment is not None else None


async def get_settings(conn: aiosqlite.Connection, guild_id: int) -> GuildSettings:
    async with conn.execute(
        f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?",  # noqa: S608
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return settings_from_row(row) if row else GuildSettings(guild_id=guild_id)


async def enable_daily(
    conn: aiosqlite.Connection,
    guild_id: int,
    channel_id: int,
    daily_time: str,
    timezone: str,
    discussion: bool,
    next_at: datetime | None,
) -> None:
    """Posts on, in `channel_id` at `daily_time`; the problem is cleared. `daily_next_on` is
    left alone, so setting the schedule again never brings a second post for a date."""
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, daily_channel_id, daily_time, timezone, "
        "daily_enabled, daily_discussion, daily_problem, daily_next_at) "
        "VALUES (?, ?, ?, ?, 1, ?, NULL, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET daily_channel_id = excluded.daily_channel_id, "
        "daily_time = excluded.daily_time, timezone = excluded.timezone, daily_enabled = 1, "
        "daily_discussion = excluded.daily_discussion, daily_problem = NULL, "
        "daily_next_at = excluded.daily_next_at",
        (guild_id, channel_id, daily_time, timezone, int(discussion), at_text(next_at)),
    )


async def disable_daily(conn: aiosqlite.Connection, guild_id: int) -> None:
    await conn.execute(
        "UPDATE guild_settings SET daily_enabled = 0, daily_problem = NULL, daily_next_at = NULL "
        "WHERE guild_id = ?",
        (guild_id,),
    )


async def set_daily_problem(
    conn: aiosqlite.Connection, guild_id: int, problem: str | None, local_date: date | None
) -> None:
    """The problem `/daily status` shows; with `local_date`, also on that day's claim row."""
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, daily_problem) VALUES (?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET daily_problem = excluded.daily_problem",
        (guild_id, problem),
    )
    if local_date is not None:
        await conn.execute(
            "UPDATE daily_claims SET problem = ? WHERE guild_id = ? AND local_date = ?",
            (problem, guild_id, local_date.isoformat()),
        )


async def reschedule_daily(
    conn: aiosqlite.Connection, changes: Mapping[int, datetime | None]
) -> None:
    """Move only wake-up times; a server switched off meanwhile stays off (None, out of the
    queue, is always allowed)."""
    await conn.executemany(
        "UPDATE guild_settings SET daily_next_at = ?1 WHERE guild_id = ?2 "
        "AND (daily_enabled = 1 OR ?1 IS NULL)",
        [(at_text(next_at), guild_id) for guild_id, next_at in changes.items()],
    )
