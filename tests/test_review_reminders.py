"""Review reminders: the member's own time and zone, daylight saving, and claiming each day once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.review import (
    ReviewSettings,
    first_reminder,
    plan_reminder,
    reminder_text,
    validate_reminder,
)
from bot.schedule import ScheduleError
from tests.review_fake import FakeReviewStore

ANN = "a" * 32


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def reminding(zone: str, time: str = "08:00", last: date | None = None) -> ReviewSettings:
    return ReviewSettings(ANN, timezone=zone, remind=True, remind_time=time, last_reminded_on=last)


@pytest.mark.parametrize(
    ("zone", "now", "expected_utc", "local_day"),
    [
        # 08:00 in Tokyo (UTC+9) is 23:00 UTC the evening before.
        ("Asia/Tokyo", at(2024, 3, 14, 12), at(2024, 3, 14, 23), date(2024, 3, 15)),
        # 08:00 in Kolkata (UTC+5:30) is 02:30 UTC.
        ("Asia/Kolkata", at(2024, 3, 15, 1), at(2024, 3, 15, 2, 30), date(2024, 3, 15)),
        # Los Angeles switched to daylight time on 10 March 2024: UTC-7 afterwards.
        ("America/Los_Angeles", at(2024, 3, 9, 12), at(2024, 3, 9, 16), date(2024, 3, 9)),
        ("America/Los_Angeles", at(2024, 3, 11, 12), at(2024, 3, 11, 15), date(2024, 3, 11)),
    ],
)
def test_first_reminder_is_at_the_member_s_local_time(
    zone: str, now: datetime, expected_utc: datetime, local_day: date
) -> None:
    due = first_reminder("08:00", zone, None, now)
    assert (due.at, due.local_date) == (expected_utc, local_day)


def test_turning_reminders_on_after_today_s_time_starts_tomorrow() -> None:
    due = first_reminder("08:00", "Europe/London", None, at(2024, 6, 1, 9))
    assert due.local_date == date(2024, 6, 2) and due.at == at(2024, 6, 2, 7)  # BST, UTC+1


def test_a_time_the_clocks_skip_reminds_when_they_jump() -> None:
    # New York skipped 02:00-03:00 on 10 March 2024; 02:30 happens at the jump, 07:00 UTC.
    due = first_reminder("02:30", "America/New_York", None, at(2024, 3, 10, 5))
    assert due.at == at(2024, 3, 10, 7)


def test_plan_waits_sends_and_skips_quietly() -> None:
    settings = reminding("Asia/Tokyo")
    assert plan_reminder(settings, 5, at(2024, 3, 14, 22, 59)) is None
    plan = plan_reminder(settings, 5, at(2024, 3, 14, 23, 0))
    assert plan is not None and plan.send
    assert plan.local_date == date(2024, 3, 15) and plan.next_at == at(2024, 3, 15, 23)
    quiet = plan_reminder(settings, 0, at(2024, 3, 14, 23, 0))
    assert quiet is not None and not quiet.send and quiet.local_date == date(2024, 3, 15)
    off = ReviewSettings(ANN, timezone="Asia/Tokyo")
    assert plan_reminder(off, 5, at(2024, 3, 14, 23)) is None


def test_a_day_already_reminded_is_not_reminded_again_but_a_missed_one_catches_up() -> None:
    done = reminding("UTC", last=date(2024, 3, 15))
    assert plan_reminder(done, 3, at(2024, 3, 15, 20)) is None
    missed = reminding("UTC", last=date(2024, 3, 14))
    plan = plan_reminder(missed, 3, at(2024, 3, 15, 20))  # the bot was down at 08:00
    assert plan is not None and plan.send and plan.local_date == date(2024, 3, 15)


def test_validation_names_the_problem() -> None:
    assert validate_reminder("7:05", "Europe/Paris") == "07:05"
    with pytest.raises(ScheduleError, match="HH:MM"):
        validate_reminder("25:00", "UTC")
    with pytest.raises(ScheduleError, match="time zone"):
        validate_reminder("08:00", "Mars/Olympus")


def test_reminder_text_counts() -> None:
    assert "1 card due" in reminder_text(1, 0)
    assert "12 cards due for review and 3 new" in reminder_text(12, 3)


async def test_reminders_are_claimed_once_per_day_and_the_store_finds_them_by_time() -> None:
    store = FakeReviewStore()
    now = at(2024, 3, 14, 12)
    due = first_reminder("08:00", "Asia/Tokyo", None, now)
    await store.set_review_timezone(ANN, "Asia/Tokyo", None)
    await store.set_reminder(ANN, dm_user_id=42, remind_time="08:00", next_at=due.at)
    assert await store.next_reminder_at() == due.at
    assert await store.due_reminders(due.at - timedelta(seconds=1), 10) == []
    [settings] = await store.due_reminders(due.at, 10)
    plan = plan_reminder(settings, 2, due.at)
    assert plan is not None
    claims = [await store.claim_reminder(ANN, plan.local_date, plan.next_at) for _ in range(2)]
    assert claims == [True, False]  # a second process (or a retry) cannot claim the day again
    assert await store.next_reminder_at() == plan.next_at
    assert await store.due_reminders(due.at, 10) == []
    await store.clear_reminder(ANN)
    cleared = await store.review_settings(ANN)
    assert not cleared.remind and cleared.dm_user_id is None
    assert await store.next_reminder_at() is None
