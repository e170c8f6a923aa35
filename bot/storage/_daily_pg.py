"""PostgreSQL SQL for the daily-post queue, its claims and the fact decks (beside `_daily`).

The same queue (`guild_settings.daily_next_at`, a partial index holding guild_id too) and the
same claims (a row per server and local date, `INSERT ... ON CONFLICT DO NOTHING RETURNING`).
Where SQLite relies on its single writer, a claim here first locks the servers' settings rows
(`SELECT ... FOR UPDATE`, in id order so two claimers never deadlock): `/daily off`, `/daily set`
and a second process claiming the same servers wait until the claim has committed, and then
see it. Deck changes are compare-and-set statements, so a `/daily now` racing a claim loses
nothing either. A wake-up's claims are a handful of statements whatever their number (arrays
joined with `unnest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot.deck import Deck
from bot.storage._daily import CLAIMS_KEPT_DAYS, deck_from_row, order_text
from bot.storage._guilds import SETTINGS_COLUMNS_OF_S
from bot.storage._guilds_pg import settings_from_row
from bot.storage._models import ClaimResult, DailyClaim, DailyDue, Shards
from bot.storage._pg_status import rows_affected

_MINE = " AND ((s.guild_id >> 22) % $3) = ANY($4::int[])"
_DUE = (
    f"SELECT {SETTINGS_COLUMNS_OF_S}, d.fact_order, d.position, d.last_fact_id "  # noqa: S608
    "FROM guild_settings AS s LEFT JOIN fact_deck AS d ON d.guild_id = s.guild_id "
    "WHERE s.daily_next_at IS NOT NULL AND s.daily_next_at <= $1{mine} "
    "ORDER BY s.daily_next_at LIMIT $2"
)
DUE = {False: _DUE.format(mine=""), True: _DUE.format(mine=_MINE)}
_NEXT = (
    "SELECT s.daily_next_at FROM guild_settings AS s WHERE s.daily_next_at IS NOT NULL{mine} "
    "ORDER BY s.daily_next_at LIMIT 1"
)
NEXT = {
    False: _NEXT.format(mine=""),
    True: _NEXT.format(mine=_MINE.replace("$3", "$1").replace("$4", "$2")),
}


async def get_deck(conn: Any, guild_id: int) -> Deck | None:
    row = await conn.fetchrow(
        "SELECT fact_order, position, last_fact_id FROM fact_deck WHERE guild_id = $1", guild_id
    )
    return deck_from_row(*row) if row else None


async def save_deck(conn: Any, guild_id: int, before: Deck | None, after: Deck) -> bool:
    """Compare-and-set: write `after` only if the stored deck is still `before`."""
    if before is None:
        status = await conn.execute(
            "INSERT INTO fact_deck (guild_id, fact_order, position, last_fact_id) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO NOTHING",
            guild_id,
            order_text(after),
            after.position,
            after.last_fact_id,
        )
    else:
        status = await conn.execute(
            "UPDATE fact_deck SET fact_order = $1, position = $2, last_fact_id = $3 "
            "WHERE guild_id = $4 AND fact_order = $5 AND position = $6 "
            "AND last_fact_id IS NOT DISTINCT FROM $7",
            order_text(after),
            after.position,
            after.last_fact_id,
            guild_id,
            order_text(before),
            before.position,
            before.last_fact_id,
        )
    return rows_affected(status) == 1


def _shard_params(shards: Shards | None) -> tuple:
    return () if shards is None else (shards.count, sorted(shards.ids))


async def due(conn: Any, now: datetime, limit: int, shards: Shards | None) -> list[DailyDue]:
    rows = await conn.fetch(DUE[shards is not None], now, limit, *_shard_params(shards))
    return [DailyDue(settings_from_row(row[:10]), deck_from_row(*row[10:13])) for row in rows]


async def next_due(conn: Any, shards: Shards | None) -> datetime | None:
    return await conn.fetchval(NEXT[shards is not None], *_shard_params(shards))


_LOCK = (
    "SELECT guild_id, daily_enabled, daily_channel_id, daily_next_on FROM guild_settings "
    "WHERE guild_id = ANY($1::bigint[]) ORDER BY guild_id FOR UPDATE"
)
_CLAIM = (
    "INSERT INTO daily_claims (guild_id, local_date, fact_id, claimed_at) "
    "SELECT g, d, f, $4 FROM unnest($1::bigint[], $2::date[], $3::text[]) AS c (g, d, f) "
    "ON CONFLICT (guild_id, local_date) DO NOTHING RETURNING guild_id"
)
_NEW_DECKS = (
    "INSERT INTO fact_deck (guild_id, fact_order, position, last_fact_id) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[]) "
    "ON CONFLICT (guild_id) DO NOTHING RETURNING guild_id"
)
_NEXT_DECKS = (
    "UPDATE fact_deck AS d SET fact_order = c.order_after, position = c.position_after, "
    "last_fact_id = c.last_after FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], "
    "$5::text[], $6::int[], $7::text[]) AS c (guild_id, order_before, position_before, "
    "last_before, order_after, position_after, last_after) "
    "WHERE d.guild_id = c.guild_id AND d.fact_order = c.order_before "
    "AND d.position = c.position_before AND d.last_fact_id IS NOT DISTINCT FROM c.last_before "
    "RETURNING d.guild_id"
)
_UNDO = (
    "DELETE FROM daily_claims AS k USING unnest($1::bigint[], $2::date[]) AS c (g, d) "
    "WHERE k.guild_id = c.g AND k.local_date = c.d"
)
_ADVANCE = (
    "UPDATE guild_settings AS s SET daily_next_on = c.next_on, daily_next_at = c.next_at "
    "FROM unnest($1::bigint[], $2::date[], $3::timestamptz[]) AS c (guild_id, next_on, next_at) "
    "WHERE s.guild_id = c.guild_id"
)
_OLD_CLAIMS = (
    "DELETE FROM daily_claims AS k USING unnest($1::bigint[], $2::date[]) AS c (g, before) "
    "WHERE k.guild_id = c.g AND k.local_date < c.before"
)


async def claim(conn: Any, claims: Sequence[DailyClaim], now: datetime) -> list[ClaimResult]:
    """Claim posts inside the caller's transaction; the outcomes are those of `_daily.claim`.

    1. Lock the servers' settings rows and read them.
    2. Insert every claim row (ON CONFLICT DO NOTHING RETURNING): the rows returned are won.
    3. A won claim stands if posts are on, to the same channel, the date is not before the
       first date still to post, and the deck is still the one drawn from (compare-and-set);
       otherwise its claim row is deleted again (CHANGED).
    4. Move the queue of the claims that stand, and drop their old claim rows.
    """
    items = {item.guild_id: item for item in claims}
    if len(items) != len(claims):
        raise ValueError("one claim per server per batch")
    ids = sorted(items)
    state = {row[0]: row for row in await conn.fetch(_LOCK, ids)}
    won = {
        row[0]
        for row in await conn.fetch(
            _CLAIM,
            [i.guild_id for i in claims],
            [i.local_date for i in claims],
            [i.fact_id for i in claims],
            now,
        )
    }

    def queue_ok(item: DailyClaim) -> bool:
        row = state.get(item.guild_id)
        return (
            row is not None
            and row[1]
            and row[2] == item.channel_id
            and (row[3] is None or row[3] <= item.local_date)
        )

    standing = [i for i in claims if i.guild_id in won and queue_ok(i)]
    decked = await _move_decks(conn, standing)
    results: list[ClaimResult] = []
    undo: list[DailyClaim] = []
    advance: list[DailyClaim] = []
    for item in claims:
        if item.guild_id not in won:
            results.append(ClaimResult.ALREADY_CLAIMED)
            if queue_ok(item):  # the claimer moved it on already; make sure, never backwards
                advance.append(item)
        elif item.guild_id in decked:
            results.append(ClaimResult.CLAIMED)
            advance.append(item)
        else:
            results.append(ClaimResult.CHANGED)
            undo.append(item)
    if undo:
        await conn.execute(_UNDO, [i.guild_id for i in undo], [i.local_date for i in undo])
    if advance:
        await conn.execute(
            _ADVANCE,
            [i.guild_id for i in advance],
            [i.next_on for i in advance],
            [i.next_at for i in advance],
        )
    claimed = [i for i in claims if i.guild_id in decked]
    if claimed:
        keep_from: list[date] = [i.local_date - timedelta(days=CLAIMS_KEPT_DAYS) for i in claimed]
        await conn.execute(_OLD_CLAIMS, [i.guild_id for i in claimed], keep_from)
    return results


async def _move_decks(conn: Any, items: list[DailyClaim]) -> set[int]:
    """The decks' next states, each only where the stored deck is still the one drawn from;
    returns the servers whose deck moved."""
    moved: set[int] = set()
    new = [i for i in items if i.before is None]
    if new:
        rows = await conn.fetch(
            _NEW_DECKS,
            [i.guild_id for i in new],
            [order_text(i.after) for i in new],
            [i.after.position for i in new],
            [i.after.last_fact_id for i in new],
        )
        moved.update(row[0] for row in rows)
    old = [i for i in items if i.before is not None]
    if old:
        rows = await conn.fetch(
            _NEXT_DECKS,
            [i.guild_id for i in old],
            [order_text(i.before) for i in old],  # type: ignore[arg-type]
            [i.before.position for i in old],  # type: ignore[union-attr]
            [i.before.last_fact_id for i in old],  # type: ignore[union-attr]
            [order_text(i.after) for i in old],
            [i.after.position for i in old],
            [i.after.last_fact_id for i in old],
        )
        moved.update(row[0] for row in rows)
    return moved


async def last_claim(conn: Any, guild_id: int) -> date | None:
    return await conn.fetchval(
        "SELECT MAX(local_date) FROM daily_claims WHERE guild_id = $1", guild_id
    )
