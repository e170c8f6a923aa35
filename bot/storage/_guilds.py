"""SQL for per-server settings and the daily-fact deck."""

from __future__ import annotations

import json
from datetime import date

import aiosqlite

from bot.storage._models import DeckState, GuildSettings


def _settings(row: aiosqlite.Row | tuple) -> GuildSettings:
    return GuildSettings(
        guild_id=row[0],
        daily_channel_id=row[1],
        daily_time=row[2],
        timezone=row[3],
        daily_enabled=bool(row[4]),
        daily_discussion=bool(row[5]),
        prefix=row[6],
        daily_problem=row[7],
    )


async def get_settings(conn: aiosqlite.Connection, guild_id: int) -> GuildSettings:
    async with conn.execute(
        "SELECT guild_id, daily_channel_id, daily_time, timezone, daily_enabled, "
        "daily_discussion, prefix, daily_problem FROM guild_settings WHERE guild_id = ?",
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return _settings(row) if row else GuildSettings(guild_id=guild_id)


async def save_settings(conn: aiosqlite.Connection, settings: GuildSettings) -> None:
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, daily_channel_id, daily_time, timezone, "
        "daily_enabled, daily_discussion, prefix, daily_problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET daily_channel_id = excluded.daily_channel_id, "
        "daily_time = excluded.daily_time, timezone = excluded.timezone, "
        "daily_enabled = excluded.daily_enabled, daily_discussion = excluded.daily_discussion, "
        "prefix = excluded.prefix, daily_problem = excluded.daily_problem",
        (
            settings.guild_id,
            settings.daily_channel_id,
            settings.daily_time,
            settings.timezone,
            int(settings.daily_enabled),
            int(settings.daily_discussion),
            settings.prefix,
            settings.daily_problem,
        ),
    )


async def daily_guilds(conn: aiosqlite.Connection) -> list[GuildSettings]:
    async with conn.execute(
        "SELECT guild_id, daily_channel_id, daily_time, timezone, daily_enabled, "
        "daily_discussion, prefix, daily_problem FROM guild_settings "
        "WHERE daily_enabled = 1 ORDER BY guild_id"
    ) as cursor:
        return [_settings(row) for row in await cursor.fetchall()]


async def get_deck(conn: aiosqlite.Connection, guild_id: int) -> DeckState | None:
    async with conn.execute(
        "SELECT fact_order, position, last_posted_on, last_fact_id FROM fact_deck "
        "WHERE guild_id = ?",
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return DeckState(
        guild_id=guild_id,
        order=tuple(json.loads(row[0])),
        position=row[1],
        last_posted_on=date.fromisoformat(row[2]) if row[2] else None,
        last_fact_id=row[3],
    )


async def claim_daily_post(
    conn: aiosqlite.Connection, guild_id: int, local_date: date, state: DeckState
) -> bool:
    """One statement, so atomic: only the first caller for a date changes the row.

    A date on or before the last posted one counts as posted, so a clock or time-zone change
    that moves the local date backwards cannot bring a second post.
    """
    cursor = await conn.execute(
        "INSERT INTO fact_deck (guild_id, fact_order, position, last_posted_on, last_fact_id) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET fact_order = excluded.fact_order, "
        "position = excluded.position, last_posted_on = excluded.last_posted_on, "
        "last_fact_id = excluded.last_fact_id "
        "WHERE fact_deck.last_posted_on IS NULL "
        "OR fact_deck.last_posted_on < excluded.last_posted_on",
        (
            guild_id,
            json.dumps(list(state.order)),
            state.position,
            local_date.isoformat(),
            state.last_fact_id,
        ),
    )
    return cursor.rowcount == 1


async def save_deck(conn: aiosqlite.Connection, state: DeckState) -> None:
    """Save the rotation without touching `last_posted_on` (for an on-demand fact)."""
    await conn.execute(
        "INSERT INTO fact_deck (guild_id, fact_order, position, last_posted_on, last_fact_id) "
        "VALUES (?, ?, ?, NULL, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET fact_order = excluded.fact_order, "
        "position = excluded.position, last_fact_id = excluded.last_fact_id",
        (state.guild_id, json.dumps(list(state.order)), state.position, state.last_fact_id),
    )
