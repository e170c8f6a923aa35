"""What the review core needs from the storage layer, as a protocol.

`bot.storage.Storage` (SQLite, and the PostgreSQL backend after it) implements these methods over
four tables; `tests/review_fake.py` is an in-memory implementation the core is tested against,
and `tests/test_review_store_contract.py` holds the contract every implementation must pass.

The SQLite schema is the `_v4_review` migration step in `bot/storage/_migrations.py`; the
dataclasses in `bot.review._model` give the columns.

Every method may raise the storage's own error type (`StorageError`); the core lets it through
so the cog can tell the member their rating was not saved. Writes change only the columns they
name; none reads a whole row to write it back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from bot.review._model import CardState, ReviewEntry, ReviewSettings, ReviewTotals


class ReviewStore(Protocol):
    # -- cards and the log ------------------------------------------------------------------

    async def card_states(self, user_hash: str) -> list[CardState]:
        """Every card state of the member, in any order (a member has at most a few hundred:
        one per term and question they have rated)."""
        ...

    async def due_card_ids(self, user_hash: str, now: datetime) -> list[str]:
        """Ids of the member's cards due at or before `now` (an index range: no FSRS state is
        read, which is what a reminder needs to count)."""
        ...

    async def save_review(self, state: CardState, entry: ReviewEntry) -> None:
        """In one transaction: insert or replace the `(user_hash, card_id)` state row and append
        `entry` to the log. Either both are stored or neither."""
        ...

    async def review_totals(self, user_hash: str) -> ReviewTotals:
        """Counts over the member's whole log: all entries; entries with `phase_before` =
        'review' and `interval_days` >= `MATURE_DAYS`; and those of them rated Good or Easy."""
        ...

    async def review_days(self, user_hash: str, since: date) -> dict[date, int]:
        """Ratings per local date (`reviewed_on`) from `since` on, for streaks and the
        activity calendar. Days without ratings are absent."""
        ...

    async def new_cards_on(self, user_hash: str, local_date: date) -> int:
        """Cards the member rated for the first time (`phase_before` = 'new') on `local_date`:
        what counts against the new-card limit."""
        ...

    # -- settings and reminders -------------------------------------------------------------

    async def review_settings(self, user_hash: str) -> ReviewSettings:
        """The member's settings; `ReviewSettings(user_hash)` (the defaults) without a row."""
        ...

    async def set_new_per_day(self, user_hash: str, limit: int) -> None:
        """Set only `new_per_day` (creating the row with defaults if needed)."""
        ...

    async def set_review_timezone(
        self, user_hash: str, timezone: str, next_at: datetime | None
    ) -> None:
        """Set `timezone` and, if reminders are on, `next_reminder_at` = `next_at` (the same
        wall-clock time in the new zone), in one statement."""
        ...

    async def set_reminder(
        self, user_hash: str, *, dm_user_id: int, remind_time: str, next_at: datetime
    ) -> None:
        """Turn reminders on: set `remind` = 1, `dm_user_id`, `remind_time` and
        `next_reminder_at`, and clear `reminder_notice`; leave `last_reminded_on` as it is (no
        second reminder that day)."""
        ...

    async def clear_reminder(self, user_hash: str, notice: str | None = None) -> None:
        """Turn reminders off: `remind` = 0, `dm_user_id` and `next_reminder_at` NULL, and
        `reminder_notice` = `notice` (why, when the bot turned them off)."""
        ...

    async def move_reminder(self, user_hash: str, next_at: datetime) -> None:
        """Set only `next_reminder_at`, and only while reminders are on (the queue's entry was
        early: nothing is claimed)."""
        ...

    async def dismiss_reminder_notice(self, user_hash: str, notice: str) -> bool:
        """Clear `reminder_notice` if it is still `notice`; True when this call cleared it, so
        the member is told once even if two commands race."""
        ...

    async def due_reminders(self, now: datetime, limit: int) -> list[ReviewSettings]:
        """Rows with reminders on and `next_reminder_at` <= `now`, earliest first, at most
        `limit` (an index range scan: the cost follows the reminders due, not the members)."""
        ...

    async def next_reminder_at(self) -> datetime | None:
        """The earliest `next_reminder_at` of any member with reminders on, for the timer."""
        ...

    async def claim_reminder(self, user_hash: str, local_date: date, next_at: datetime) -> bool:
        """Claim the member's reminder for `local_date` before it is sent: atomically mark the
        date reminded and move `next_reminder_at` to `next_at`, only if reminders are on and
        `last_reminded_on` is NULL or earlier than `local_date`; True when this call claimed it.
        With several processes exactly one claims a member's day (the storage keeps a claim row
        keyed by member and date), so the message goes out once."""
        ...

    # -- forgetting -------------------------------------------------------------------------

    async def forget_reviews(self, user_hash: str) -> int:
        """Delete the member's cards, log, settings and reminder claims; return how many rows
        went. Part of `Storage.forget_user`."""
        ...
