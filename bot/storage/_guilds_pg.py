"""PostgreSQL SQL for per-server settings (beside `_guilds`, the SQLite form). Every write names
the columns it changes and nothing else, so two writes to one server never undo each other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.storage._guilds import SETTINGS_COLUMNS  # the same columns in the same order
from bot.storage._models import GuildSettings


def settings_from_row(row: Any) -> GuildSettings:
    return GuildSettings(
        guild_id=row[0],
        daily_channel_id=row[1],
        daily_time=row[2],
        timezone=row[3],
        daily_enabled=row[4],
        daily_discussion=row[5],
        prefix=row[6],
        daily_problem=row[7],
        daily_next_at=row[8],
        daily_next_on=row[9],
    )


async def get_settings(conn: Any, guild_id: int) -> GuildSettings:
    row = await conn.fetchrow(
        f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = $1",  # noqa: S608
        guild_id,
    )
    return settings_from_row(row) if row else GuildSettings(guild_id=guild_id)


async def enable_daily(
    conn: Any,
    guild_id: int,
    channel_id: int,
    daily_time: str,
    timezone: str,
    discussion: bool,
    next_at: datetime | None,
) -> None:
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, daily_channel_id, daily_time, timezone, "
        "daily_enabled, daily_discussion, daily_problem, daily_next_at) "
        "VALUES ($1, $2, $3, $4, true, $5, NULL, $6) "
        "ON CONFLICT (guild_id) DO UPDATE SET daily_channel_id = excluded.daily_channel_id, "
        "daily_time = excluded.daily_time, timezone = excluded.timezone, daily_enabled = true, "
        "daily_discussion = excluded.daily_discussion, daily_problem = NULL, "
        "daily_next_at = excluded.daily_next_at",
        guild_id,
        channel_id,
        daily_time,
        timezone,
        discussion,
        next_at,
    )


async def disable_daily(conn: Any, guild_id: int) -> None:
    await conn.execute(
        "UPDATE guild_settings SET daily_enabled = false, daily_problem = NULL, "
        "daily_next_at = NULL WHERE guild_id = $1",
        guild_id,
    )


async def set_daily_problem(
    conn: Any, guild_id: int, problem: str | None, local_date: date | None
) -> None:
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, daily_problem) VALUES ($1, $2) "
        "ON CONFLICT (guild_id) DO UPDATE SET daily_problem = excluded.daily_problem",
        guild_id,
        problem,
    )
    if local_date is not None:
        await conn.execute(
            "UPDATE daily_claims SET problem = $1 WHERE guild_id = $2 AND local_date = $3",
            problem,
            guild_id,
            local_date,
        )


async def reschedule_daily(conn: Any, changes: Mapping[int, datetime | None]) -> None:
    """One statement for the batch: the new times as arrays, joined to the rows."""
    if not changes:
        return
    await conn.execute(
        "UPDATE guild_settings AS s SET daily_next_at = c.next_at "
        "FROM unnest($1::bigint[], $2::timestamptz[]) AS c (guild_id, next_at) "
        "WHERE s.guild_id = c.guild_id AND (s.daily_enabled OR c.next_at IS NULL)",
        list(changes),
        list(changes.values()),
    )
