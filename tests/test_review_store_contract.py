"""The contract of `ReviewStore`, `ExamStore` and `ReportStore`: what every implementation must do.

Today it runs against the in-memory fake the core is tested with; the storage layer adds its
SQLite (and later PostgreSQL) implementation to `STORES`, and must pass unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.exam import ExamRecord
from bot.reports import make_report
from bot.review import CardState, Rating, ReviewScheduler, ReviewSettings
from tests.review_fake import FakeReviewStore

STORES: dict[str, Callable[[], Any]] = {"fake": FakeReviewStore}
ANN, BOB = "a" * 32, "b" * 32
NOW = datetime(2024, 3, 15, 8, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Any:
    return STORES[request.param]()


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


async def test_exams_and_reports_are_forgotten_too(store: Any) -> None:
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
