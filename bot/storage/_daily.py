"""SQLite SQL for the daily-post queue, its claims and the fact decks.

The queue is `guild_settings.daily_next_at` with a partial index: a wake-up reads the rows that
are due and the earliest time, never every server. A post is claimed by inserting the row
(server, local date) into `daily_claims`; the primary key lets exactly one claimer win, in this
process or another. The claim, the deck's next state and the queue's next entry are written in
one transaction, so they never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import aiosqlite

from bot.deck import Deck
from bot.storage._guilds import SETTINGS_COLUMNS, at_text, settings_from_row
from bot.storage._models import ClaimResult, DailyClaim, DailyDue
from bot.storage._querylog import format_at, parse_at

CLAIMS_KEPT_DAYS = 30  # claim rows older than this are deleted when the server claims again

_DUE = (
    "SELECT "
    + ", ".join(f"s.{column.strip()}" for column in SETTINGS_COLUMNS.split(","))
    + ", d.fact_order, d.position, d.last_fact_id "
    "FROM guild_settings AS s LEFT JOIN fact_deck AS d ON d.guild_id = s.guild_id "
    "WHERE s.daily_next_at IS NOT NULL AND s.daily_next_at <= ? "
    "ORDER BY s.daily_next_at LIMIT ?"
)


def _deck(order: str | None, position: int | None, last_fact_id: str | None) -> Deck | None:
    if order is None or position is None:
        return None
    return Deck(order=tuple(json.loads(order)), position=position, last_fact_id=last_fact_id)


async def get_deck(conn: aiosqlite.Connection, guild_id: int) -> Deck | None:
    async with conn.execute(
        "SELECT fact_order, position, last_fact_id FROM fact_deck WHERE guild_id = ?",
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return _deck(*row) if row else None


async def save_deck(
    conn: aiosqlite.Connection, guild_id: int, before: Deck | None, after: Deck
) -> bool:
    """Compare-and-set: write `after` only if the stored deck is still `before`."""
    order = json.dumps(list(after.order))
    if before is None:
        cursor = await conn.execute(
            "INSERT INTO fact_deck (guild_id, fact_order, position, last_fact_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO NOTHING",
            (guild_id, order, after.position, after.last_fact_id),
        )
    else:
        cursor = await conn.execute(
            "UPDATE fact_deck SET fact_order = ?, position = ?, last_fact_id = ? "
            "WHERE guild_id = ? AND fact_order = ? AND position = ? AND last_fact_id IS ?",
            (
                order,
                after.position,
                after.last_fact_id,
                guild_id,
                json.dumps(list(before.order)),
                before.position,
                before.last_fact_id,
            ),
        )
    return cursor.rowcount == 1


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[DailyDue]:
    """Servers whose `daily_next_at` has come, earliest first, with their decks."""
    async with conn.execute(_DUE, (format_at(now), limit)) as cursor:
        rows = await cursor.fetchall()
    return [DailyDue(settings_from_row(row[:10]), _deck(*row[10:13])) for row in rows]


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    async with conn.execute(
        "SELECT MIN(daily_next_at) FROM guild_settings WHERE daily_next_at IS NOT NULL"
    ) as cursor:
        row = await cursor.fetchone()
    return parse_at(row[0]) if row and row[0] else None


async def claim(
    conn: aiosqlite.Connection, claims: Sequence[DailyClaim], now: datetime
) -> list[ClaimResult]:
    """Claim each post in one transaction (the caller's); a claim that cannot stand is undone
    alone, through its savepoint."""
    results = []
    claimed_at = format_at(now)
    for item in claims:
        await conn.execute("SAVEPOINT daily_claim")
        result = await _claim_one(conn, item, claimed_at)
        if result is ClaimResult.CHANGED:
            await conn.execute("ROLLBACK TO daily_claim")
        await conn.execute("RELEASE daily_claim")
        results.append(result)
    return results


async def _claim_one(conn: aiosqlite.Connection, item: DailyClaim, claimed_at: str) -> ClaimResult:
    day = item.local_date.isoformat()
    won = await conn.execute_fetchall(
        "INSERT INTO daily_claims (guild_id, local_date, fact_id, claimed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, local_date) DO NOTHING RETURNING local_date",
        (item.guild_id, day, item.fact_id, claimed_at),
    )
    # Advance the queue only while posts are still on, to the same channel, and never
    # backwards: a `/daily off` or `/daily set` that came in meanwhile wins.
    queue = await conn.execute(
        "UPDATE guild_settings SET daily_next_on = ?, daily_next_at = ? "
        "WHERE guild_id = ? AND daily_enabled = 1 AND daily_channel_id = ? "
        "AND (daily_next_on IS NULL OR daily_next_on <= ?)",
        (item.next_on.isoformat(), at_text(item.next_at), item.guild_id, item.channel_id, day),
    )
    if not won:
        return ClaimResult.ALREADY_CLAIMED
    if queue.rowcount != 1 or not await save_deck(conn, item.guild_id, item.before, item.after):
        return ClaimResult.CHANGED
    await conn.execute(
        "DELETE FROM daily_claims WHERE guild_id = ? AND local_date < ?",
        (item.guild_id, (item.local_date - timedelta(days=CLAIMS_KEPT_DAYS)).isoformat()),
    )
    return ClaimResult.CLAIMED


async def last_claim(conn: aiosqlite.Connection, guild_id: int) -> date | None:
    """The latest local date a post was claimed for."""
    async with conn.execute(
        "SELECT MAX(local_date) FROM daily_claims WHERE guild_id = ?", (guild_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None
