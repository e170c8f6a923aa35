"""An in-memory `ReviewStore`, `ExamStore` and `ReportStore` for testing the core.

It keeps rows (the dicts `to_row()` makes), not objects, so every test goes through the same
conversion the database will; `fail_writes` makes the next writes raise like a locked database.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from bot.exam import ExamRecord
from bot.reports import MistakeReport
from bot.review import (
    MATURE_DAYS,
    CardState,
    ReviewEntry,
    ReviewSettings,
    ReviewTotals,
    parse_utc,
    utc_text,
)


class FakeStorageError(Exception):
    pass


class FakeReviewStore:
    def __init__(self) -> None:
        self.cards: dict[tuple[str, str], dict[str, Any]] = {}
        self.log: list[dict[str, Any]] = []
        self.settings: dict[str, dict[str, Any]] = {}
        self.exams: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.report_channels: dict[int, int] = {}
        self.fail_writes = 0
        self.gate: asyncio.Event | None = None  # when set, save_review waits for it
        self.entered = asyncio.Event()  # set once a save_review has started

    def _write(self) -> None:
        if self.fail_writes:
            self.fail_writes -= 1
            raise FakeStorageError("database is locked")

    # -- cards and the log ----------------------------------------------------------------

    async def card_states(self, user_hash: str) -> list[CardState]:
        rows = [row for (user, _card), row in self.cards.items() if user == user_hash]
        return [CardState.from_row(row) for row in rows]

    async def due_card_ids(self, user_hash: str, now: datetime) -> list[str]:
        return [
            card
            for (user, card), row in self.cards.items()
            if user == user_hash and row["due"] <= utc_text(now)
        ]

    async def save_review(self, state: CardState, entry: ReviewEntry) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        self._write()
        self.cards[(state.user_hash, state.card_id)] = state.to_row()
        self.log.append(entry.to_row())

    async def review_totals(self, user_hash: str) -> ReviewTotals:
        mine = [row for row in self.log if row["user_hash"] == user_hash]
        mature = [
            row
            for row in mine
            if row["phase_before"] == "review" and row["interval_days"] >= MATURE_DAYS
        ]
        return ReviewTotals(len(mine), len(mature), sum(row["rating"] >= 3 for row in mature))

    async def review_days(self, user_hash: str, since: date) -> dict[date, int]:
        days: dict[date, int] = {}
        for row in self.log:
            day = date.fromisoformat(row["reviewed_on"])
            if row["user_hash"] == user_hash and day >= since:
                days[day] = days.get(day, 0) + 1
        return days

    async def new_cards_on(self, user_hash: str, local_date: date) -> int:
        return sum(
            row["user_hash"] == user_hash
            and row["phase_before"] == "new"
            and row["reviewed_on"] == local_date.isoformat()
            for row in self.log
        )

    # -- settings and reminders -----------------------------------------------------------

    async def review_settings(self, user_hash: str) -> ReviewSettings:
        row = self.settings.get(user_hash)
        return ReviewSettings.from_row(row) if row else ReviewSettings(user_hash)

    def _row(self, user_hash: str) -> dict[str, Any]:
        return self.settings.setdefault(user_hash, ReviewSettings(user_hash).to_row())

    async def set_new_per_day(self, user_hash: str, limit: int) -> None:
        self._write()
        self._row(user_hash)["new_per_day"] = limit

    async def set_review_timezone(
        self, user_hash: str, timezone: str, next_at: datetime | None
    ) -> None:
        self._write()
        row = self._row(user_hash)
        row["timezone"] = timezone
        if row["remind"]:
            row["next_reminder_at"] = utc_text(next_at) if next_at else None

    async def set_reminder(
        self, user_hash: str, *, dm_user_id: int, remind_time: str, next_at: datetime
    ) -> None:
        self._write()
        row = self._row(user_hash)
        row.update(
            remind=1, dm_user_id=dm_user_id, remind_time=remind_time,
            next_reminder_at=utc_text(next_at), reminder_notice=None,
        )  # fmt: skip

    async def clear_reminder(self, user_hash: str, notice: str | None = None) -> None:
        self._write()
        row = self._row(user_hash)
        row.update(remind=0, dm_user_id=None, next_reminder_at=None, reminder_notice=notice)

    async def move_reminder(self, user_hash: str, next_at: datetime) -> None:
        self._write()
        row = self.settings.get(user_hash)
        if row is not None and row["remind"]:
            row["next_reminder_at"] = utc_text(next_at)

    async def dismiss_reminder_notice(self, user_hash: str, notice: str) -> bool:
        self._write()
        row = self.settings.get(user_hash)
        if row is None or row["reminder_notice"] != notice:
            return False
        row["reminder_notice"] = None
        return True

    async def due_reminders(self, now: datetime, limit: int) -> list[ReviewSettings]:
        due = [
            row
            for row in self.settings.values()
            if row["remind"] and (row["next_reminder_at"] or "~") <= utc_text(now)
        ]
        due.sort(key=lambda row: row["next_reminder_at"])
        return [ReviewSettings.from_row(row) for row in due[:limit]]

    async def next_reminder_at(self) -> datetime | None:
        times = [r["next_reminder_at"] for r in self.settings.values() if r["remind"]]
        times = [t for t in times if t]
        return parse_utc(min(times)) if times else None

    async def claim_reminder(self, user_hash: str, local_date: date, next_at: datetime) -> bool:
        self._write()
        row = self.settings.get(user_hash)
        if row is None or not row["remind"]:
            return False
        last = row["last_reminded_on"]
        if last is not None and last >= local_date.isoformat():
            return False
        row.update(last_reminded_on=local_date.isoformat(), next_reminder_at=utc_text(next_at))
        return True

    async def forget_reviews(self, user_hash: str) -> int:
        self._write()
        before = len(self.cards) + len(self.log) + len(self.settings)
        self.cards = {key: row for key, row in self.cards.items() if key[0] != user_hash}
        self.log = [row for row in self.log if row["user_hash"] != user_hash]
        self.settings.pop(user_hash, None)
        return before - (len(self.cards) + len(self.log) + len(self.settings))

    # -- exams ------------------------------------------------------------------------------

    async def save_exam(self, record: ExamRecord) -> None:
        self._write()
        self.exams.append(record.to_row())

    async def exam_history(
        self, user_hash: str, section: str | None, limit: int
    ) -> list[ExamRecord]:
        mine = [
            row
            for row in self.exams
            if row["user_hash"] == user_hash and (section is None or row["section"] == section)
        ]
        mine.sort(key=lambda row: row["finished_at"], reverse=True)
        return [ExamRecord.from_row(row) for row in mine[:limit]]

    async def forget_exams(self, user_hash: str) -> int:
        self._write()
        before = len(self.exams)
        self.exams = [row for row in self.exams if row["user_hash"] != user_hash]
        return before - len(self.exams)

    # -- reports ----------------------------------------------------------------------------

    async def add_report(self, report: MistakeReport) -> bool:
        self._write()
        row = report.to_row()
        key = (row["user_hash"], row["entry_id"], row["reported_on"])
        if any((r["user_hash"], r["entry_id"], r["reported_on"]) == key for r in self.reports):
            return False
        self.reports.append(row)
        return True

    async def mistake_reports(self, since: datetime | None = None) -> list[MistakeReport]:
        rows = [r for r in self.reports if since is None or r["at"] >= utc_text(since)]
        return [MistakeReport.from_row(row) for row in sorted(rows, key=lambda r: r["at"])]

    async def count_reports(self, since: datetime | None = None) -> int:
        return len(await self.mistake_reports(since))

    async def forget_reports(self, user_hash: str) -> int:
        self._write()
        before = len(self.reports)
        self.reports = [row for row in self.reports if row["user_hash"] != user_hash]
        return before - len(self.reports)

    async def report_channel(self, guild_id: int) -> int | None:
        return self.report_channels.get(guild_id)

    async def set_report_channel(self, guild_id: int, channel_id: int | None) -> None:
        self._write()
        if channel_id is None:
            self.report_channels.pop(guild_id, None)
        else:
            self.report_channels[guild_id] = channel_id
