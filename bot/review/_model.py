"""The review state the storage keeps, as plain data with conversions to and from table rows.

Four tables (see `ReviewStore` for the methods over them):
- `review_cards`: one row per member and card: the FSRS card as JSON (the truth) plus `due`
  and `phase` copied out of it as columns, so "what is due" is an indexed query;
- `review_log`: one row per rating, never updated;
- `review_settings`: one row per member who changed a setting or turned reminders on;
- `review_reminders`: one claim row per member and local date a reminder was due.

Members are keyed by the salted `user_hash` alone, not by server: a member's cards and
reminders are theirs wherever they study. Times are ISO 8601 UTC text of fixed width
(`2024-05-01T12:00:00.000000Z`), so text order is time order, as in the query log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import Rating, State

DEFAULT_NEW_PER_DAY = 10
MAX_NEW_PER_DAY = 100
MATURE_DAYS = 21.0  # Anki's line between young and mature cards: an interval of three weeks
DEFAULT_REMIND_TIME = "18:00"

Row = Mapping[str, Any]


class Phase(StrEnum):
    """Where a card is in learning; NEW means the member has never rated it (no row yet)."""

    NEW = "new"
    LEARNING = "learning"
    REVIEW = "review"
    RELEARNING = "relearning"

    @classmethod
    def of(cls, state: State) -> Phase:
        return {
            State.Learning: cls.LEARNING,
            State.Review: cls.REVIEW,
            State.Relearning: cls.RELEARNING,
        }[state]


def as_utc(now: datetime) -> datetime:
    """py-fsrs accepts only `timezone.utc`: convert any aware time, refuse a naive one."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("review times must be timezone-aware")
    return now.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"stored time {text!r} has no time zone")
    return moment.astimezone(UTC)


def _optional(value: Any, parse: Any) -> Any:
    return None if value is None else parse(value)


@dataclass(frozen=True, slots=True)
class CardState:
    """A member's FSRS state for one card. `fsrs` is never mutated: a review makes a new one."""

    user_hash: str
    card_id: str
    fsrs: FsrsCard
    reviews: int = 0
    lapses: int = 0  # times a card that had been learned was rated Again
    first_reviewed: datetime | None = None

    @property
    def due(self) -> datetime:
        return self.fsrs.due

    @property
    def phase(self) -> Phase:
        return Phase.of(self.fsrs.state)

    @property
    def interval_days(self) -> float:
        """The interval the card was last scheduled for, in days (0 before its first review)."""
        if self.fsrs.last_review is None:
            return 0.0
        return (self.fsrs.due - self.fsrs.last_review).total_seconds() / 86400.0

    @property
    def mature(self) -> bool:
        return self.phase is Phase.REVIEW and self.interval_days >= MATURE_DAYS

    def to_row(self) -> dict[str, Any]:
        return {
            "user_hash": self.user_hash,
            "card_id": self.card_id,
            "due": utc_text(self.fsrs.due),
            "phase": self.phase.value,
            "fsrs": self.fsrs.to_json(),
            "reviews": self.reviews,
            "lapses": self.lapses,
            "first_reviewed": _optional(self.first_reviewed, utc_text),
        }

    @classmethod
    def from_row(cls, row: Row) -> CardState:
        return cls(
            user_hash=row["user_hash"],
            card_id=row["card_id"],
            fsrs=FsrsCard.from_json(row["fsrs"]),
            reviews=int(row["reviews"]),
            lapses=int(row["lapses"]),
            first_reviewed=_optional(row["first_reviewed"], parse_utc),
        )


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One rating, as the review log keeps it."""

    user_hash: str
    card_id: str
    rating: Rating
    reviewed_at: datetime
    local_date: date  # the member's local date, for streaks and the activity calendar
    phase_before: Phase
    interval_days: float  # the interval the card had been scheduled for; 0 for a new card
    duration_ms: int | None = None

    @property
    def mature(self) -> bool:
        return self.phase_before is Phase.REVIEW and self.interval_days >= MATURE_DAYS

    @property
    def passed(self) -> bool:
        return self.rating in (Rating.Good, Rating.Easy)

    def to_row(self) -> dict[str, Any]:
        return {
            "user_hash": self.user_hash,
            "card_id": self.card_id,
            "rating": int(self.rating),
            "reviewed_at": utc_text(self.reviewed_at),
            "reviewed_on": self.local_date.isoformat(),
            "phase_before": self.phase_before.value,
            "interval_days": self.interval_days,
            "duration_ms": self.duration_ms,
        }

    @classmethod
    def from_row(cls, row: Row) -> ReviewEntry:
        return cls(
            user_hash=row["user_hash"],
            card_id=row["card_id"],
            rating=Rating(int(row["rating"])),
            reviewed_at=parse_utc(row["reviewed_at"]),
            local_date=date.fromisoformat(row["reviewed_on"]),
            phase_before=Phase(row["phase_before"]),
            interval_days=float(row["interval_days"]),
            duration_ms=_optional(row["duration_ms"], int),
        )


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """A member's review settings; a member without a row has these defaults.

    `dm_user_id` is the one raw Discord id the review tables hold: a direct message cannot be
    sent to a hash. It is kept only while reminders are on and cleared when they are turned off.
    """

    user_hash: str
    new_per_day: int = DEFAULT_NEW_PER_DAY
    timezone: str = "UTC"
    remind: bool = False
    remind_time: str = DEFAULT_REMIND_TIME
    dm_user_id: int | None = None
    last_reminded_on: date | None = None
    next_reminder_at: datetime | None = None  # indexed; None while reminders are off
    reminder_notice: str | None = None  # why reminders stopped, told once at the next /review

    def to_row(self) -> dict[str, Any]:
        return {
            "user_hash": self.user_hash,
            "new_per_day": self.new_per_day,
            "timezone": self.timezone,
            "remind": int(self.remind),
            "remind_time": self.remind_time,
            "dm_user_id": self.dm_user_id,
            "last_reminded_on": _optional(self.last_reminded_on, date.isoformat),
            "next_reminder_at": _optional(self.next_reminder_at, utc_text),
            "reminder_notice": self.reminder_notice,
        }

    @classmethod
    def from_row(cls, row: Row) -> ReviewSettings:
        return cls(
            user_hash=row["user_hash"],
            new_per_day=int(row["new_per_day"]),
            timezone=row["timezone"],
            remind=bool(row["remind"]),
            remind_time=row["remind_time"],
            dm_user_id=_optional(row["dm_user_id"], int),
            last_reminded_on=_optional(row["last_reminded_on"], date.fromisoformat),
            next_reminder_at=_optional(row["next_reminder_at"], parse_utc),
            reminder_notice=row["reminder_notice"],
        )


@dataclass(frozen=True, slots=True)
class ReviewTotals:
    """Counts over a member's whole review log (aggregated by the storage, not shipped row by
    row): all ratings, ratings of mature cards, and how many of those were Good or Easy."""

    reviews: int = 0
    mature_reviews: int = 0
    mature_passed: int = 0

    @property
    def retention(self) -> float | None:
        return self.mature_passed / self.mature_reviews if self.mature_reviews else None
