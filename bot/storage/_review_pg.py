"""PostgreSQL SQL for spaced-repetition review (beside `_review`): the same tables in
PostgreSQL's types (moments `timestamptz`, local dates `date`, the reminder flag `boolean`).

Rows still go in and out through `bot.review`'s `to_row()` / `from_row()`, which speak text for
times and dates: `_typed` turns a row's text into PostgreSQL values and `_texts` turns a
record back. A day's reminder is claimed as on SQLite, by inserting the row (member, local date)
with ON CONFLICT DO NOTHING RETURNING: a second claimer's insert waits for the first to commit
and then finds the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from bot.review import (
    MATURE_DAYS,
    CardState,
    Phase,
    ReviewEntry,
    ReviewSettings,
    ReviewTotals,
    parse_utc,
)
from bot.storage._pg_status import rows_affected
from bot.storage._review import CARD_COLUMNS, CLAIMS_KEPT_DAYS, LOG_COLUMNS, SETTINGS_COLUMNS

_TIMES = frozenset({"due", "first_reviewed", "reviewed_at", "next_reminder_at"})
_DATES = frozenset({"reviewed_on", "last_reminded_on"})


def _typed(row: Mapping[str, Any], columns: tuple[str, ...]) -> list[Any]:
    """A `to_row()` dict's values for `columns`, times and dates as PostgreSQL takes them."""
    values = []
    for column in columns:
        value = row[column]
        if value is not None and column in _TIMES:
            value = parse_utc(value)
        elif value is not None and column in _DATES:
            value = date.fromisoformat(value)
        values.append(value)
    return values


def _texts(record: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    """A record as the `from_row()` of `bot.review` reads it (times and dates as text)."""
    row: dict[str, Any] = {}
    for column in columns:
        value = record[column]
        if isinstance(value, date):  # datetimes too: both give ISO 8601, which from_row reads
            value = value.isoformat()
        row[column] = value
    return row


def _marks(count: int, start: int = 1) -> str:
    return ", ".join(f"${n}" for n in range(start, start + count))


# -- cards and the log ------------------------------------------------------------------------

_CARDS = f"SELECT {', '.join(CARD_COLUMNS)} FROM review_cards WHERE user_hash = $1"  # noqa: S608
_SAVE_CARD = (
    f"INSERT INTO review_cards ({', '.join(CARD_COLUMNS)}) "  # noqa: S608
    f"VALUES ({_marks(len(CARD_COLUMNS))}) ON CONFLICT (user_hash, card_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in CARD_COLUMNS[2:])
)
_SAVE_ENTRY = (
    f"INSERT INTO review_log ({', '.join(LOG_COLUMNS)}) "  # noqa: S608
    f"VALUES ({_marks(len(LOG_COLUMNS))})"
)


async def card_states(conn: Any, user_hash: str) -> list[CardState]:
    records = await conn.fetch(_CARDS, user_hash)
    return [CardState.from_row(_texts(record, CARD_COLUMNS)) for record in records]


async def due_card_ids(conn: Any, user_hash: str, now: datetime) -> list[str]:
    records = await conn.fetch(
        "SELECT card_id FROM review_cards WHERE user_hash = $1 AND due <= $2", user_hash, now
    )
    return [record["card_id"] for record in records]


async def save_review(conn: Any, state: CardState, entry: ReviewEntry) -> None:
    await conn.execute(_SAVE_CARD, *_typed(state.to_row(), CARD_COLUMNS))
    await conn.execute(_SAVE_ENTRY, *_typed(entry.to_row(), LOG_COLUMNS))


async def review_totals(conn: Any, user_hash: str) -> ReviewTotals:
    record = await conn.fetchrow(
        "SELECT COUNT(*) AS reviews, "
        "COUNT(*) FILTER (WHERE phase_before = $2 AND interval_days >= $3) AS mature, "
        "COUNT(*) FILTER (WHERE phase_before = $2 AND interval_days >= $3 AND rating >= 3) "
        "AS passed FROM review_log WHERE user_hash = $1",
        user_hash,
        Phase.REVIEW.value,
        MATURE_DAYS,
    )
    return ReviewTotals(record["reviews"], record["mature"], record["passed"])


async def review_days(conn: Any, user_hash: str, since: date) -> dict[date, int]:
    records = await conn.fetch(
        "SELECT reviewed_on, COUNT(*) AS n FROM review_log "
        "WHERE user_hash = $1 AND reviewed_on >= $2 GROUP BY reviewed_on",
        user_hash,
        since,
    )
    return {record["reviewed_on"]: int(record["n"]) for record in records}


async def new_cards_on(conn: Any, user_hash: str, local_date: date) -> int:
    count = await conn.fetchval(
        "SELECT COUNT(*) FROM review_log WHERE user_hash = $1 AND reviewed_on = $2 "
        "AND phase_before = $3",
        user_hash,
        local_date,
        Phase.NEW.value,
    )
    return int(count)


# -- settings and reminders -------------------------------------------------------------------

_SETTINGS = f"SELECT {', '.join(SETTINGS_COLUMNS)} FROM review_settings"  # noqa: S608


def _settings(record: Any) -> ReviewSettings:
    return ReviewSettings.from_row(_texts(record, SETTINGS_COLUMNS))


async def review_settings(conn: Any, user_hash: str) -> ReviewSettings:
    record = await conn.fetchrow(_SETTINGS + " WHERE user_hash = $1", user_hash)
    return _settings(record) if record else ReviewSettings(user_hash)


async def set_new_per_day(conn: Any, user_hash: str, limit: int) -> None:
    await conn.execute(
        "INSERT INTO review_settings (user_hash, new_per_day) VALUES ($1, $2) "
        "ON CONFLICT (user_hash) DO UPDATE SET new_per_day = excluded.new_per_day",
        user_hash,
        limit,
    )


async def set_timezone(conn: Any, user_hash: str, timezone: str, next_at: datetime | None) -> None:
    await conn.execute(
        "INSERT INTO review_settings (user_hash, timezone) VALUES ($1, $2) "
        "ON CONFLICT (user_hash) DO UPDATE SET timezone = excluded.timezone, "
        "next_reminder_at = CASE WHEN review_settings.remind THEN $3::timestamptz "
        "ELSE review_settings.next_reminder_at END",
        user_hash,
        timezone,
        next_at,
    )


async def set_reminder(
    conn: Any, user_hash: str, dm_user_id: int, remind_time: str, next_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO review_settings (user_hash, remind, dm_user_id, remind_time, "
        "next_reminder_at) VALUES ($1, true, $2, $3, $4) "
        "ON CONFLICT (user_hash) DO UPDATE SET remind = true, dm_user_id = excluded.dm_user_id, "
        "remind_time = excluded.remind_time, next_reminder_at = excluded.next_reminder_at, "
        "reminder_notice = NULL",
        user_hash,
        dm_user_id,
        remind_time,
        next_at,
    )


async def clear_reminder(conn: Any, user_hash: str, notice: str | None) -> None:
    await conn.execute(
        "UPDATE review_settings SET remind = false, dm_user_id = NULL, next_reminder_at = NULL, "
        "reminder_notice = $2 WHERE user_hash = $1",
        user_hash,
        notice,
    )


async def move_reminder(conn: Any, user_hash: str, next_at: datetime) -> None:
    await conn.execute(
        "UPDATE review_settings SET next_reminder_at = $2 WHERE user_hash = $1 AND remind",
        user_hash,
        next_at,
    )


async def dismiss_notice(conn: Any, user_hash: str, notice: str) -> bool:
    status = await conn.execute(
        "UPDATE review_settings SET reminder_notice = NULL "
        "WHERE user_hash = $1 AND reminder_notice = $2",
        user_hash,
        notice,
    )
    return rows_affected(status) == 1


async def due_reminders(conn: Any, now: datetime, limit: int) -> list[ReviewSettings]:
    records = await conn.fetch(
        _SETTINGS + " WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= $1 AND remind "
        "ORDER BY next_reminder_at LIMIT $2",
        now,
        limit,
    )
    return [_settings(record) for record in records]


async def next_reminder_at(conn: Any) -> datetime | None:
    return await conn.fetchval(
        "SELECT next_reminder_at FROM review_settings WHERE next_reminder_at IS NOT NULL "
        "ORDER BY next_reminder_at LIMIT 1"
    )


async def claim_reminder(
    conn: Any, user_hash: str, local_date: date, next_at: datetime, now: datetime
) -> bool:
    """As `_review.claim_reminder`: the claim row first, then the member's queue entry (only
    while reminders are on and the date is new to them), else the claim is taken back."""
    won = await conn.fetchval(
        "INSERT INTO review_reminders (user_hash, local_date, claimed_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (user_hash, local_date) DO NOTHING RETURNING user_hash",
        user_hash,
        local_date,
        now,
    )
    if won is None:
        return False
    moved = await conn.execute(
        "UPDATE review_settings SET last_reminded_on = $2, next_reminder_at = $3 "
        "WHERE user_hash = $1 AND remind AND (last_reminded_on IS NULL OR last_reminded_on < $2)",
        user_hash,
        local_date,
        next_at,
    )
    if rows_affected(moved) != 1:
        await conn.execute(
            "DELETE FROM review_reminders WHERE user_hash = $1 AND local_date = $2",
            user_hash,
            local_date,
        )
        return False
    await conn.execute(
        "DELETE FROM review_reminders WHERE user_hash = $1 AND local_date < $2",
        user_hash,
        local_date - timedelta(days=CLAIMS_KEPT_DAYS),
    )
    return True


# -- forgetting -------------------------------------------------------------------------------


async def forget(conn: Any, user_hash: str) -> int:
    deleted = 0
    for table in ("review_cards", "review_log", "review_settings", "review_reminders"):
        status = await conn.execute(
            f"DELETE FROM {table} WHERE user_hash = $1",  # noqa: S608 (fixed names only)
            user_hash,
        )
        deleted += rows_affected(status)
    return deleted
