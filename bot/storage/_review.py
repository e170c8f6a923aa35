"""SQLite SQL for spaced-repetition review: card states, the review log, review settings and
the reminder queue with its claims (the tables of migration 4); `_review_pg` is PostgreSQL's.

Rows go in and out through the `to_row()` / `from_row()` of `bot.review`'s dataclasses, so the
columns are named in one place. Members are keyed by `user_hash` only. The reminder queue works
like the daily-post queue: `next_reminder_at` is an indexed column, and a day's reminder is
claimed by inserting the row (member, local date) with ON CONFLICT DO NOTHING RETURNING, so
exactly one claimer wins, in this process or another.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.review import (
    MATURE_DAYS,
    CardState,
    Phase,
    ReviewEntry,
    ReviewSettings,
    ReviewTotals,
    parse_utc,
    utc_text,
)

CLAIMS_KEPT_DAYS = 30  # a member's older claim rows are deleted when they claim again

CARD_COLUMNS = ("user_hash", "card_id", "due", "phase", "fsrs", "reviews", "lapses",
                "first_reviewed")  # fmt: skip
LOG_COLUMNS = ("user_hash", "card_id", "rating", "reviewed_at", "reviewed_on", "phase_before",
               "interval_days", "duration_ms")  # fmt: skip
SETTINGS_COLUMNS = ("user_hash", "new_per_day", "timezone", "remind", "remind_time",
                    "dm_user_id", "last_reminded_on", "next_reminder_at",
                    "reminder_notice")  # fmt: skip


def _select(columns: tuple[str, ...], table: str) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 (fixed names only)


def _insert(columns: tuple[str, ...], table: str) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _values(row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[column] for column in columns)


def _as_row(columns: tuple[str, ...], values: Any) -> dict[str, Any]:
    return dict(zip(columns, values, strict=True))


# -- cards and the log ------------------------------------------------------------------------

_CARDS = _select(CARD_COLUMNS, "review_cards") + " WHERE user_hash = ?"
_SAVE_CARD = (
    _insert(CARD_COLUMNS, "review_cards")
    + " ON CONFLICT (user_hash, card_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in CARD_COLUMNS[2:])
)
_SAVE_ENTRY = _insert(LOG_COLUMNS, "review_log")


async def card_states(conn: aiosqlite.Connection, user_hash: str) -> list[CardState]:
    rows = await conn.execute_fetchall(_CARDS, (user_hash,))
    return [CardState.from_row(_as_row(CARD_COLUMNS, row)) for row in rows]


async def due_card_ids(conn: aiosqlite.Connection, user_hash: str, now: datetime) -> list[str]:
    rows = await conn.execute_fetchall(
        "SELECT card_id FROM review_cards WHERE user_hash = ? AND due <= ?",
        (user_hash, utc_text(now)),
    )
    return [row[0] for row in rows]


async def save_review(conn: aiosqlite.Connection, state: CardState, entry: ReviewEntry) -> None:
    """The card's new state and its log entry, inside the caller's one transaction."""
    await conn.execute(_SAVE_CARD, _values(state.to_row(), CARD_COLUMNS))
    await conn.execute(_SAVE_ENTRY, _values(entry.to_row(), LOG_COLUMNS))


# Read straight off the covering index review_log_member (member, day, phase, rating, interval).
_TOTALS = (
    "SELECT COUNT(*), "
    "COALESCE(SUM(CASE WHEN phase_before = ? AND interval_days >= ? THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN phase_before = ? AND interval_days >= ? AND rating >= ? "
    "THEN 1 ELSE 0 END), 0) "
    "FROM review_log WHERE user_hash = ?"
)


async def review_totals(conn: aiosqlite.Connection, user_hash: str) -> ReviewTotals:
    review, good = Phase.REVIEW.value, 3
    params = (review, MATURE_DAYS, review, MATURE_DAYS, good, user_hash)
    [(reviews, mature, passed)] = await conn.execute_fetchall(_TOTALS, params)
    return ReviewTotals(int(reviews), int(mature), int(passed))


async def review_days(conn: aiosqlite.Connection, user_hash: str, since: date) -> dict[date, int]:
    rows = await conn.execute_fetchall(
        "SELECT reviewed_on, COUNT(*) FROM review_log WHERE user_hash = ? AND reviewed_on >= ? "
        "GROUP BY reviewed_on",
        (user_hash, since.isoformat()),
    )
    return {date.fromisoformat(day): int(count) for day, count in rows}


async def new_cards_on(conn: aiosqlite.Connection, user_hash: str, local_date: date) -> int:
    [(count,)] = await conn.execute_fetchall(
        "SELECT COUNT(*) FROM review_log WHERE user_hash = ? AND reviewed_on = ? "
        "AND phase_before = ?",
        (user_hash, local_date.isoformat(), Phase.NEW.value),
    )
    return int(count)


# -- settings and reminders -------------------------------------------------------------------

_SETTINGS = _select(SETTINGS_COLUMNS, "review_settings")


def _settings(values: Any) -> ReviewSettings:
    return ReviewSettings.from_row(_as_row(SETTINGS_COLUMNS, values))


async def review_settings(conn: aiosqlite.Connection, user_hash: str) -> ReviewSettings:
    rows = await conn.execute_fetchall(_SETTINGS + " WHERE user_hash = ?", (user_hash,))
    return _settings(rows[0]) if rows else ReviewSettings(user_hash)


async def set_new_per_day(conn: aiosqlite.Connection, user_hash: str, limit: int) -> None:
    await conn.execute(
        "INSERT INTO review_settings (user_hash, new_per_day) VALUES (?, ?) "
        "ON CONFLICT (user_hash) DO UPDATE SET new_per_day = excluded.new_per_day",
        (user_hash, limit),
    )


async def set_timezone(
    conn: aiosqlite.Connection, user_hash: str, timezone: str, next_at: datetime | None
) -> None:
    """The zone, and (only while reminders are on) the reminder's next time in it."""
    await conn.execute(
        "INSERT INTO review_settings (user_hash, timezone) VALUES (?, ?) "
        "ON CONFLICT (user_hash) DO UPDATE SET timezone = excluded.timezone, "
        "next_reminder_at = CASE WHEN review_settings.remind = 1 THEN ? "
        "ELSE review_settings.next_reminder_at END",
        (user_hash, timezone, utc_text(next_at) if next_at is not None else None),
    )


async def set_reminder(
    conn: aiosqlite.Connection,
    user_hash: str,
    dm_user_id: int,
    remind_time: str,
    next_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO review_settings (user_hash, remind, dm_user_id, remind_time, "
        "next_reminder_at) VALUES (?, 1, ?, ?, ?) "
        "ON CONFLICT (user_hash) DO UPDATE SET remind = 1, dm_user_id = excluded.dm_user_id, "
        "remind_time = excluded.remind_time, next_reminder_at = excluded.next_reminder_at, "
        "reminder_notice = NULL",
        (user_hash, dm_user_id, remind_time, utc_text(next_at)),
    )


async def clear_reminder(conn: aiosqlite.Connection, user_hash: str, notice: str | None) -> None:
    await conn.execute(
        "UPDATE review_settings SET remind = 0, dm_user_id = NULL, next_reminder_at = NULL, "
        "reminder_notice = ? WHERE user_hash = ?",
        (notice, user_hash),
    )


async def move_reminder(conn: aiosqlite.Connection, user_hash: str, next_at: datetime) -> None:
    await conn.execute(
        "UPDATE review_settings SET next_reminder_at = ? WHERE user_hash = ? AND remind = 1",
        (utc_text(next_at), user_hash),
    )


async def dismiss_notice(conn: aiosqlite.Connection, user_hash: str, notice: str) -> bool:
    cursor = await conn.execute(
        "UPDATE review_settings SET reminder_notice = NULL "
        "WHERE user_hash = ? AND reminder_notice = ?",
        (user_hash, notice),
    )
    return cursor.rowcount == 1


_DUE_REMINDERS = (
    _SETTINGS + " WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= ? AND remind = 1 "
    "ORDER BY next_reminder_at LIMIT ?"
)


async def due_reminders(
    conn: aiosqlite.Connection, now: datetime, limit: int
) -> list[ReviewSettings]:
    rows = await conn.execute_fetchall(_DUE_REMINDERS, (utc_text(now), limit))
    return [_settings(row) for row in rows]


async def next_reminder_at(conn: aiosqlite.Connection) -> datetime | None:
    [(first,)] = await conn.execute_fetchall(
        "SELECT MIN(next_reminder_at) FROM review_settings WHERE next_reminder_at IS NOT NULL"
    )
    return parse_utc(first) if first else None


async def claim_reminder(
    conn: aiosqlite.Connection,
    user_hash: str,
    local_date: date,
    next_at: datetime,
    now: datetime,
) -> bool:
    """Inside the caller's transaction: the claim row first (the primary key lets one claimer
    win), then the member's queue entry, only while reminders are on and the date is new to
    them; if that finds nothing to move, the claim is taken back."""
    day = local_date.isoformat()
    won = await conn.execute_fetchall(
        "INSERT INTO review_reminders (user_hash, local_date, claimed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_hash, local_date) DO NOTHING RETURNING user_hash",
        (user_hash, day, utc_text(now)),
    )
    if not won:
        return False
    moved = await conn.execute(
        "UPDATE review_settings SET last_reminded_on = ?, next_reminder_at = ? "
        "WHERE user_hash = ? AND remind = 1 AND (last_reminded_on IS NULL OR last_reminded_on < ?)",
        (day, utc_text(next_at), user_hash, day),
    )
    if moved.rowcount != 1:
        await conn.execute(
            "DELETE FROM review_reminders WHERE user_hash = ? AND local_date = ?", (user_hash, day)
        )
        return False
    await conn.execute(
        "DELETE FROM review_reminders WHERE user_hash = ? AND local_date < ?",
        (user_hash, (local_date - timedelta(days=CLAIMS_KEPT_DAYS)).isoformat()),
    )
    return True


# -- forgetting -------------------------------------------------------------------------------


async def forget(conn: aiosqlite.Connection, user_hash: str) -> int:
    """Delete the member's review rows; return how many."""
    deleted = 0
    for table in ("review_cards", "review_log", "review_settings", "review_reminders"):
        cursor = await conn.execute(
            f"DELETE FROM {table} WHERE user_hash = ?",  # noqa: S608 (fixed names only)
            (user_hash,),
        )
        deleted += max(cursor.rowcount, 0)
    return deleted
