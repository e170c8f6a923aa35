"""SQLite SQL for the daily-post queue, its claims and the fact decks.

The queue is `guild_settings.daily_next_at` with a partial index: a wake-up reads the rows that
are due and the earliest time, never every server. A post is claimed by inserting the row
(server, local date) into `daily_claims` (INSERT ... ON CONFLICT DO NOTHING RETURNING); the
primary key lets exactly one claimer win, in this process or another. The claim, the deck's next
state and the queue's next entry are written in one transaction, so they never disagree, and a
whole wake-up's claims take a handful of statements, not a few per server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import aiosqlite

from bot.deck import Deck
from bot.storage._guilds import SETTINGS_COLUMNS_OF_S, at_text, settings_from_row
from bot.storage._models import ClaimResult, DailyClaim, DailyDue, Shards
from bot.storage._querylog import format_at, parse_at

CLAIMS_KEPT_DAYS = 30  # claim rows older than this are deleted when the server claims again

# A process serving some shards reads only its servers' entries: the shard of a server is
# computed from guild_id, which the queue's index holds (it is the rowid), so the filter never
# reads the table for another shard's entry.
_MINE = " AND ((s.guild_id >> 22) % ?) IN (SELECT value FROM json_each(?))"
_DUE = (
    f"SELECT {SETTINGS_COLUMNS_OF_S}, d.fact_order, d.position, d.last_fact_id "  # noqa: S608
    "FROM guild_settings AS s LEFT JOIN fact_deck AS d ON d.guild_id = s.guild_id "
    "WHERE s.daily_next_at IS NOT NULL AND s.daily_next_at <= ?{mine} "
    "ORDER BY s.daily_next_at LIMIT ?"
)
DUE = {False: _DUE.format(mine=""), True: _DUE.format(mine=_MINE)}
_NEXT = (
    "SELECT s.daily_next_at FROM guild_settings AS s WHERE s.daily_next_at IS NOT NULL{mine} "
    "ORDER BY s.daily_next_at LIMIT 1"
)
NEXT = {False: _NEXT.format(mine=""), True: _NEXT.format(mine=_MINE)}


def shard_params(shards: Shards | None) -> tuple:
    return () if shards is None else (shards.count, json.dumps(sorted(shards.ids)))


def deck_from_row(order: str | None, position: int | None, last_fact_id: str | None) -> Deck | None:
    if order is None or position is None:
        return None
    return Deck(order=tuple(json.loads(order)), position=position, last_fact_id=last_fact_id)


def order_text(deck: Deck) -> str:
    """The deck's order as `fact_deck.fact_order` keeps it (a JSON array, in both engines)."""
    return json.dumps(list(deck.order))


async def get_deck(conn: aiosqlite.Connection, guild_id: int) -> Deck | None:
    async with conn.execute(
        "SELECT fact_order, position, last_fact_id FROM fact_deck WHERE guild_id = ?",
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return deck_from_row(*row) if row else None


async def save_deck(
    conn: aiosqlite.Connection, guild_id: int, before: Deck | None, after: Deck
) -> bool:
    """Compare-and-set: write `after` only if the stored deck is still `before`."""
    order = order_text(after)
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
                order_text(before),
                before.position,
                before.last_fact_id,
            ),
        )
    return cursor.rowcount == 1


async def due(
    conn: aiosqlite.Connection, now: datetime, limit: int, shards: Shards | None
) -> list[DailyDue]:
    """Servers (of `shards`; None: all) whose `daily_next_at` has come, earliest first, with
    their decks."""
    params = (format_at(now), *shard_params(shards), limit)
    async with conn.execute(DUE[shards is not None], params) as cursor:
        rows = await cursor.fetchall()
    return [DailyDue(settings_from_row(row[:10]), deck_from_row(*row[10:13])) for row in rows]


async def next_due(conn: aiosqlite.Connection, shards: Shards | None) -> datetime | None:
    async with conn.execute(NEXT[shards is not None], shard_params(shards)) as cursor:
        row = await cursor.fetchone()
    return parse_at(row[0]) if row and row[0] else None


_CLAIM_ROWS = 200  # claims per INSERT statement: 800 parameters, within every SQLite's limit
_CLAIM = "INSERT INTO daily_claims (guild_id, local_date, fact_id, claimed_at) VALUES "
_STATE = (
    "SELECT s.guild_id, s.daily_enabled, s.daily_channel_id, s.daily_next_on, "
    "d.fact_order, d.position, d.last_fact_id "
    "FROM guild_settings AS s LEFT JOIN fact_deck AS d ON d.guild_id = s.guild_id "
    "WHERE s.guild_id IN (SELECT value FROM json_each(?))"
)


async def claim(
    conn: aiosqlite.Connection, claims: Sequence[DailyClaim], now: datetime
) -> list[ClaimResult]:
    """Claim posts inside the caller's transaction, a handful of statements for the batch.

    1. Insert every claim row with ON CONFLICT DO NOTHING RETURNING: the rows returned are the
       claims won; the others were claimed before, by this process or another.
    2. Read the won servers' settings and decks. A claim stands only if posts are still on, to
       the same channel, the date is not before the first date still to post, and the deck is
       the one the caller drew from; otherwise its claim row is deleted again (CHANGED).
    3. Move the queue and the decks of the claims that stand, and drop their old claim rows.
    Between 1 and 3 nothing else can write: the transaction holds SQLite's write lock
    (PostgreSQL's form, in `_daily_pg`, locks the servers' rows first instead).
    """
    items = {item.guild_id: item for item in claims}
    if len(items) != len(claims):
        raise ValueError("one claim per server per batch")
    won: set[int] = set()
    claimed_at = format_at(now)
    batch = list(claims)
    for start in range(0, len(batch), _CLAIM_ROWS):
        part = batch[start : start + _CLAIM_ROWS]
        sql = (
            _CLAIM
            + ", ".join(["(?, ?, ?, ?)"] * len(part))
            + " ON CONFLICT (guild_id, local_date) DO NOTHING RETURNING guild_id"
        )
        values = [
            v
            for item in part
            for v in (item.guild_id, item.local_date.isoformat(), item.fact_id, claimed_at)
        ]
        won.update(row[0] for row in await conn.execute_fetchall(sql, values))
    state = {row[0]: row for row in await conn.execute_fetchall(_STATE, (json.dumps(list(items)),))}
    results: list[ClaimResult] = []
    undo, advance, decks = [], [], []
    for item in claims:
        row = state.get(item.guild_id)
        queue_ok = (
            row is not None
            and bool(row[1])
            and row[2] == item.channel_id
            and (row[3] is None or row[3] <= item.local_date.isoformat())
        )
        if item.guild_id not in won:
            results.append(ClaimResult.ALREADY_CLAIMED)
            if queue_ok:  # the claimer moved it on already; make sure, never backwards
                advance.append(item)
        elif queue_ok and deck_from_row(*row[4:7]) == item.before:  # type: ignore[index]
            results.append(ClaimResult.CLAIMED)
            advance.append(item)
            decks.append(item)
        else:
            results.append(ClaimResult.CHANGED)
            undo.append((item.guild_id, item.local_date.isoformat()))
    if undo:
        await conn.executemany(
            "DELETE FROM daily_claims WHERE guild_id = ? AND local_date = ?", undo
        )
    if advance:
        await conn.executemany(
            "UPDATE guild_settings SET daily_next_on = ?, daily_next_at = ? WHERE guild_id = ?",
            [(i.next_on.isoformat(), at_text(i.next_at), i.guild_id) for i in advance],
        )
    if decks:
        await conn.executemany(
            "INSERT INTO fact_deck (guild_id, fact_order, position, last_fact_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            "fact_order = excluded.fact_order, position = excluded.position, "
            "last_fact_id = excluded.last_fact_id",
            [
                (
                    i.guild_id,
                    order_text(i.after),
                    i.after.position,
                    i.after.last_fact_id,
                )
                for i in decks
            ],
        )
        await conn.executemany(
            "DELETE FROM daily_claims WHERE guild_id = ? AND local_date < ?",
            [
                (i.guild_id, (i.local_date - timedelta(days=CLAIMS_KEPT_DAYS)).isoformat())
                for i in decks
            ],
        )
    return results


async def last_claim(conn: aiosqlite.Connection, guild_id: int) -> date | None:
    """The latest local date a post was claimed for."""
    async with conn.execute(
        "SELECT MAX(local_date) FROM daily_claims WHERE guild_id = ?", (guild_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None
