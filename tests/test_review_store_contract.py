"""The contract of `ReviewStore`, `ExamStore` and `ReportStore`: what every implementation must do.

It runs against the in-memory fake the core is tested with and against `bot.storage.Storage` on
each engine (SQLite, and PostgreSQL where `tests/storage_backends.py` has a server), and every
one must pass unchanged. The exam and report tests run on the stores in `EXAM_STORES` (the
storage gains those tables in their own migration).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.exam import ExamRecord
from bot.reports import make_report
from bot.review import CardState, Rating, ReviewScheduler, ReviewSettings
from tests.review_fake import FakeReviewStore
from tests.storage_backends import NAMES, make_backend

STORES = ("fake", *NAMES)  # the fake, then every storage engine
EXAM_STORES = ("fake",)
ANN, BOB = "a" * 32, "b" * 32
NOW = datetime(2024, 3, 15, 8, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


async def opened_store(name: str, folder: Path) -> AsyncIterator[Any]:
    if name == "fake":
        yield FakeReviewStore()
        return
    backend = await make_backend(name, folder)
    try:
        yield await backend.open()
    finally:
        await backend.close()


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for made in opened_store(request.param, tmp_path):
        yield made


@pytest.fixture(params=EXAM_STORES)
async def exam_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for made in opened_store(request.param, tmp_path):
        yield made


async def test_fsrs_state_round_trips_through_the_store(store: Any) -> None:
    scheduler = ReviewScheduler()
    state, entry = scheduler.rate(ANN, "term:x", None, Rating.Good, NOW, UTC_ZONE)
    await store.save_review(state, entry)
    state2, entry2 = scheduler.rate(ANN, "term:x", state, Rating.Again, state.due, UTC_ZONE)
    await store.save_review(state2, entry2)
    assert await store.card_states(ANN) == [state2]  # replaced, not added
    assert await store.card_states(BOB) == []
    assert isinstance((await store.card_states(ANN))[0], CardState)


async def test_log_counts(store: Any) -> None:
    scheduler = ReviewScheduler()
    for n, rating in enumerate((Rating.Good, Rating.Again, Rating.Easy)):
        state, entry = scheduler.rate(ANN, f"term:{n}", None, rating, NOW, UTC_ZONE)
        await store.save_review(state, entry)
    tomorrow = NOW + timedelta(days=1)
    state, entry = scheduler.rate(ANN, "term:9", None, Rating.Good, tomorrow, UTC_ZONE)
    await store.save_review(state, entry)
    assert await store.new_cards_on(ANN, date(2024, 3, 15)) == 3
    assert await store.review_days(ANN, date(2024, 3, 1)) == {
        date(2024, 3, 15): 3,
        date(2024, 3, 16): 1,
    }
    assert await store.review_days(ANN, date(2024, 3, 16)) == {date(2024, 3, 16): 1}
    totals = await store.review_totals(ANN)
    assert (totals.reviews, totals.mature_reviews) == (4, 0)


async def test_settings_defaults_and_column_updates(store: Any) -> None:
    assert await store.review_settings(ANN) == ReviewSettings(ANN)
    await store.set_new_per_day(ANN, 4)
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    await store.set_review_timezone(ANN, "Asia/Tokyo", NOW + timedelta(hours=1))
    settings = await store.review_settings(ANN)
    assert (settings.new_per_day, settings.timezone, settings.remind) == (4, "Asia/Tokyo", True)
    assert settings.next_reminder_at == NOW + timedelta(hours=1)
    assert settings.dm_user_id == 7


async def test_forget_removes_cards_log_and_settings(store: Any) -> None:
    scheduler = ReviewScheduler()
    for user in (ANN, BOB):
        state, entry = scheduler.rate(user, "term:x", None, Rating.Good, NOW, UTC_ZONE)
        await store.save_review(state, entry)
        await store.set_new_per_day(user, 3)
    assert await store.forget_reviews(ANN) >= 3
    assert await store.card_states(ANN) == []
    assert await store.review_settings(ANN) == ReviewSettings(ANN)
    assert (await store.review_totals(ANN)).reviews == 0
    assert len(await store.card_states(BOB)) == 1


async def test_exams_and_reports_are_forgotten_too(exam_store: Any) -> None:
    store = exam_store
    for user in (ANN, BOB):
        await store.save_exam(ExamRecord(user, None, NOW, NOW + timedelta(minutes=5), 5, 4, False))
        await store.add_report(
            make_report(entry_id="oas", content_version="v1", what="The count is out of date.",
                        source=None, user_hash=user, at=NOW)
        )  # fmt: skip
    assert await store.forget_exams(ANN) == 1 and await store.forget_reports(ANN) == 1
    assert await store.exam_history(ANN, None, 10) == []
    assert [r.user_hash for r in await store.mistake_reports()] == [BOB]
    assert len(await store.exam_history(BOB, None, 10)) == 1


async def test_mature_ratings_are_counted_for_retention(store: Any) -> None:
    scheduler = ReviewScheduler(fuzz=False)
    state, entry = scheduler.rate(ANN, "term:x", None, Rating.Good, NOW, UTC_ZONE)
    await store.save_review(state, entry)
    when = state.due
    # Good until the interval passes three weeks: only the ratings after that count as mature.
    for _ in range(8):
        state, entry = scheduler.rate(ANN, "term:x", state, Rating.Good, when, UTC_ZONE)
        await store.save_review(state, entry)
        when = state.due
    state, entry = scheduler.rate(ANN, "term:x", state, Rating.Again, when, UTC_ZONE)
    await store.save_review(state, entry)
    totals = await store.review_totals(ANN)
    assert totals.reviews == 10
    assert 2 <= totals.mature_reviews < 10
    assert totals.mature_passed == totals.mature_reviews - 1  # the Again
    [stored] = await store.card_states(ANN)
    assert stored == state and stored.lapses == 1 and stored.reviews == 10


async def test_due_card_ids_come_from_the_due_time(store: Any) -> None:
    scheduler = ReviewScheduler()
    again, entry = scheduler.rate(ANN, "term:again", None, Rating.Again, NOW, UTC_ZONE)
    await store.save_review(again, entry)
    good, entry = scheduler.rate(ANN, "term:good", None, Rating.Good, NOW, UTC_ZONE)
    await store.save_review(good, entry)
    assert await store.due_card_ids(ANN, NOW) == []
    assert await store.due_card_ids(ANN, again.due) == ["term:again"]
    assert sorted(await store.due_card_ids(ANN, good.due)) == ["term:again", "term:good"]
    assert await store.due_card_ids(BOB, good.due) == []


async def test_the_zone_moves_the_reminder_only_while_it_is_on(store: Any) -> None:
    later = NOW + timedelta(hours=5)
    await store.set_review_timezone(ANN, "Europe/Paris", later)
    settings = await store.review_settings(ANN)
    assert (settings.timezone, settings.next_reminder_at) == ("Europe/Paris", None)
    await store.move_reminder(ANN, later)  # reminders are off: nothing to move
    assert (await store.review_settings(ANN)).next_reminder_at is None
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    await store.move_reminder(ANN, later)
    assert await store.next_reminder_at() == later


async def test_reminders_are_found_by_time_and_claimed_once_per_day(store: Any) -> None:
    for n, user in enumerate((ANN, BOB, "c" * 32)):
        await store.set_reminder(
            user, dm_user_id=n + 1, remind_time="08:00", next_at=NOW + timedelta(minutes=n)
        )
    assert await store.next_reminder_at() == NOW
    assert await store.due_reminders(NOW - timedelta(seconds=1), 10) == []
    due = await store.due_reminders(NOW + timedelta(minutes=1), 10)
    assert [s.user_hash for s in due] == [ANN, BOB]  # earliest first
    assert [s.dm_user_id for s in due] == [1, 2] and all(s.remind for s in due)
    assert [s.user_hash for s in await store.due_reminders(NOW + timedelta(hours=1), 1)] == [ANN]

    today, tomorrow = date(2024, 3, 15), NOW + timedelta(days=1)
    assert await store.claim_reminder(ANN, today, tomorrow)
    assert not await store.claim_reminder(ANN, today, tomorrow)  # another process, or a retry
    assert not await store.claim_reminder(ANN, today - timedelta(days=1), tomorrow)  # earlier
    settings = await store.review_settings(ANN)
    assert settings.last_reminded_on == today and settings.next_reminder_at == tomorrow
    assert await store.next_reminder_at() == NOW + timedelta(minutes=1)  # BOB is next

    await store.clear_reminder(BOB)
    assert not await store.claim_reminder(BOB, today, tomorrow)  # off: nothing to claim
    await store.set_reminder(BOB, dm_user_id=2, remind_time="08:00", next_at=NOW)
    assert await store.claim_reminder(BOB, today, tomorrow)  # on again: the day is still free
    # Turning reminders on again the same day does not bring a second reminder that day.
    await store.set_reminder(ANN, dm_user_id=1, remind_time="09:00", next_at=NOW)
    assert not await store.claim_reminder(ANN, today, tomorrow)
    assert await store.claim_reminder(ANN, today + timedelta(days=1), tomorrow)


async def test_a_notice_is_dismissed_once_and_turning_reminders_on_clears_it(store: Any) -> None:
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    await store.clear_reminder(ANN, notice="Your DMs are closed.")
    settings = await store.review_settings(ANN)
    assert not settings.remind and settings.dm_user_id is None
    assert settings.next_reminder_at is None and await store.next_reminder_at() is None
    assert settings.reminder_notice == "Your DMs are closed."
    assert not await store.dismiss_reminder_notice(ANN, "another notice")
    assert await store.dismiss_reminder_notice(ANN, "Your DMs are closed.")
    assert not await store.dismiss_reminder_notice(ANN, "Your DMs are closed.")
    assert (await store.review_settings(ANN)).reminder_notice is None
    await store.clear_reminder(ANN, notice="again")
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    assert (await store.review_settings(ANN)).reminder_notice is None


async def test_forget_removes_reminder_claims(store: Any) -> None:
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    assert await store.claim_reminder(ANN, date(2024, 3, 15), NOW + timedelta(days=1))
    assert await store.forget_reviews(ANN) >= 1
    await store.set_reminder(ANN, dm_user_id=7, remind_time="07:00", next_at=NOW)
    assert await store.claim_reminder(ANN, date(2024, 3, 15), NOW + timedelta(days=1))
