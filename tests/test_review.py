"""Spaced repetition: cards, FSRS scheduling, sessions, limits, stats and row conversion.

Every time is passed in (an injected clock); nothing reads the wall clock or the machine's zone.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content import Library
from bot.review import (
    LEARN_AHEAD,
    LEARNING_STEPS,
    QUIZ,
    TERM,
    CardState,
    Deck,
    Flashcard,
    Kind,
    Phase,
    RateStatus,
    Rating,
    ReviewEntry,
    ReviewScheduler,
    ReviewService,
    ReviewSessions,
    ReviewSettings,
    card_id,
    fsrs_id,
    interleave,
)
from bot.review._stats import end_of_day
from tests.review_fake import FakeReviewStore, FakeStorageError

ANN = "a" * 32
BOB = "b" * 32
UTC_ZONE = ZoneInfo("UTC")
MORNING = datetime(2024, 3, 15, 8, 0, tzinfo=UTC)


def synthetic_deck(terms: int, questions: int = 0, section: str = "s1") -> Deck:
    cards = [
        Flashcard(card_id(TERM, f"t{n}"), TERM, f"t{n}", section, f"Term {n}", f"Meaning {n}")
        for n in range(terms)
    ]
    cards += [
        Flashcard(
            card_id(QUIZ, f"q{n}"),
            QUIZ,
            f"q{n}",
            "s2",
            f"Question {n}?",
            "Yes",
            choices=("Yes", "No"),
            explanation="Because.",
        )
        for n in range(questions)
    ]
    return Deck(cards)


def service(deck: Deck, store: FakeReviewStore | None = None, **kwargs: object) -> ReviewService:
    return ReviewService(store or FakeReviewStore(), deck, ReviewScheduler(**kwargs))


# -- cards ----------------------------------------------------------------------------------


def test_deck_from_library_has_a_card_per_term_and_question(small_library: Library) -> None:
    deck = Deck.from_library(small_library)
    assert len(deck) == len(small_library.terms) + len(small_library.quiz)
    term = deck.get("term:chapter-vii")
    assert term is not None
    assert term.front == small_library.terms["chapter-vii"].name
    assert term.back == small_library.terms["chapter-vii"].definition
    question = small_library.quiz["q-article-41"]
    card = deck.get("quiz:q-article-41")
    assert card is not None and card.kind == QUIZ
    assert question.question in card.front
    assert all(choice in card.front for choice in question.choices)
    assert question.answer in card.back and question.explanation in card.back


def test_deck_selects_by_section_and_kind(small_library: Library) -> None:
    deck = Deck.from_library(small_library)
    law = deck.select("international-law", Kind.ALL)
    assert {c.section for c in law} == {"international-law"}
    assert {c.kind for c in deck.select(None, Kind.TERMS)} == {TERM}
    assert {c.kind for c in deck.select(None, Kind.QUESTIONS)} == {QUIZ}
    assert [c.id for c in deck.select("successes-case-studies", Kind.QUESTIONS)] == ["quiz:q-yes"]


def test_fsrs_ids_are_stable_distinct_and_never_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [fsrs_id(card_id(TERM, f"term-{n}")) for n in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(0 <= value < 2**63 for value in ids)
    assert fsrs_id("term:mandate") == fsrs_id("term:" + "mandate")
    # Rating a new card must not go through fsrs.Card()'s default id, which sleeps 1 ms.
    monkeypatch.setattr(time, "sleep", lambda _s: pytest.fail("slept on the event loop"))
    ReviewScheduler().rate(ANN, "term:x", None, Rating.Good, MORNING, UTC_ZONE)


def test_interleave_spreads_new_cards_evenly() -> None:
    due, new = synthetic_deck(4).select(), synthetic_deck(0, 2).select()
    mixed = interleave(due[:4], new[:1])
    assert [c.kind for c in mixed] == [TERM, TERM, QUIZ, TERM, TERM]
    assert interleave([], new) == new and interleave(due, []) == due


# -- scheduling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local_time"),
    [("UTC", (0, 1)), ("UTC", (23, 59)), ("Asia/Tokyo", (23, 30)), ("America/Los_Angeles", (6, 0))],
)
def test_a_card_rated_good_is_not_due_again_the_same_day(zone: str, local_time: tuple) -> None:
    tz = ZoneInfo(zone)
    now = datetime(2024, 3, 15, *local_time, tzinfo=tz)
    scheduler = ReviewScheduler()
    state, entry = scheduler.rate(ANN, "term:x", None, Rating.Good, now, tz)
    assert state.due >= end_of_day(now.astimezone(tz).date(), tz)
    assert state.phase is Phase.REVIEW
    assert entry.phase_before is Phase.NEW and entry.local_date == now.astimezone(tz).date()
    # Good again when due: the interval grows.
    second, _ = scheduler.rate(ANN, "term:x", state, Rating.Good, state.due, tz)
    assert second.interval_days > state.interval_days


@pytest.mark.parametrize("rating", [Rating.Again, Rating.Hard])
def test_again_and_hard_come_back_within_the_learning_step(rating: Rating) -> None:
    state, _ = ReviewScheduler().rate(ANN, "term:x", None, rating, MORNING, UTC_ZONE)
    step = LEARNING_STEPS[0]
    limit = step if rating is Rating.Again else step * 1.5
    assert MORNING < state.due <= MORNING + limit
    assert state.phase is Phase.LEARNING


def test_a_lapse_relearns_within_its_step_and_is_counted() -> None:
    scheduler = ReviewScheduler()
    learned, _ = scheduler.rate(ANN, "term:x", None, Rating.Good, MORNING, UTC_ZONE)
    lapsed, entry = scheduler.rate(ANN, "term:x", learned, Rating.Again, learned.due, UTC_ZONE)
    assert lapsed.phase is Phase.RELEARNING
    assert learned.due < lapsed.due <= learned.due + timedelta(minutes=10)
    assert (lapsed.lapses, lapsed.reviews) == (1, 2)
    assert entry.phase_before is Phase.REVIEW
    assert lapsed.first_reviewed == MORNING


def test_times_must_be_aware_and_any_zone_is_converted_to_utc() -> None:
    scheduler = ReviewScheduler()
    with pytest.raises(ValueError, match="aware"):
        scheduler.rate(ANN, "term:x", None, Rating.Good, datetime(2024, 3, 15, 8), UTC_ZONE)
    paris = MORNING.astimezone(ZoneInfo("Europe/Paris"))
    state, entry = scheduler.rate(ANN, "term:x", None, Rating.Again, paris, UTC_ZONE)
    assert entry.reviewed_at == MORNING and entry.reviewed_at.tzinfo is UTC
    assert state.due.tzinfo is not None


# -- rows -----------------------------------------------------------------------------------


def test_fsrs_state_round_trips_through_rows() -> None:
    scheduler = ReviewScheduler()
    state = None
    now = MORNING
    for rating in (Rating.Again, Rating.Good, Rating.Good, Rating.Hard, Rating.Again):
        state, entry = scheduler.rate(ANN, "quiz:q-1", state, rating, now, ZoneInfo("Asia/Kolkata"))
        row = state.to_row()
        json.loads(row["fsrs"])  # a JSON column
        back = CardState.from_row(dict(row))
        assert back == state
        assert (back.due, back.phase, back.interval_days) == (state.due, state.phase,
                                                              state.interval_days)  # fmt: skip
        assert ReviewEntry.from_row(entry.to_row()) == entry
        assert row["due"] < CardState.from_row(row).to_row()["due"] + "~"
        now = state.due
    assert state is not None and state.lapses == 1


def test_row_times_sort_as_text() -> None:
    early, _ = ReviewScheduler().rate(ANN, "t:a", None, Rating.Again, MORNING, UTC_ZONE)
    late, _ = ReviewScheduler().rate(ANN, "t:a", None, Rating.Good, MORNING, UTC_ZONE)
    assert early.to_row()["due"] < late.to_row()["due"]
    assert len(early.to_row()["due"]) == len(late.to_row()["due"])


def test_settings_round_trip_through_rows() -> None:
    plain = ReviewSettings(ANN)
    assert ReviewSettings.from_row(plain.to_row()) == plain
    full = ReviewSettings(
        ANN, new_per_day=25, timezone="Asia/Tokyo", remind=True, remind_time="07:30",
        dm_user_id=1234, last_reminded_on=date(2024, 3, 14), next_reminder_at=MORNING,
    )  # fmt: skip
    assert ReviewSettings.from_row(full.to_row()) == full


# -- sessions -------------------------------------------------------------------------------


async def rate_all(session, rating: Rating, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    rated = []
    while session.current is not None:
        card = session.current
        result = await session.rate(card.id, rating, now)
        assert result.status is RateStatus.RATED
        rated.append(card.id)
    return rated


async def test_new_cards_are_limited_per_local_day() -> None:
    deck = synthetic_deck(30)
    reviews = service(deck)
    session = await reviews.start(ANN, now=MORNING)
    assert session.new_planned == 10
    first_day = await rate_all(session, Rating.Good, MORNING)
    assert len(first_day) == 10
    again = await reviews.start(ANN, now=MORNING + timedelta(hours=3))
    assert again.current is None and again.done
    next_day = await reviews.start(ANN, now=MORNING + timedelta(days=1))
    assert next_day.new_planned == 10
    assert next_day.current is not None and next_day.current.id not in first_day


async def test_the_new_card_limit_is_a_setting_and_counts_the_member_s_own_day() -> None:
    store = FakeReviewStore()
    await store.set_new_per_day(ANN, 3)
    await store.set_review_timezone(ANN, "Pacific/Auckland", None)
    reviews = service(synthetic_deck(20), store)
    # 10:00 UTC on 15 March is 23:00 in Auckland; 12:00 UTC is already 16 March there.
    late = datetime(2024, 3, 15, 10, 0, tzinfo=UTC)
    assert len(await rate_all(await reviews.start(ANN, now=late), Rating.Good, late)) == 3
    after_midnight = late + timedelta(hours=2)
    session = await reviews.start(ANN, now=after_midnight)
    assert session.new_planned == 3
    other = await reviews.start(BOB, now=late)
    assert other.new_planned == 10  # limits are per member


async def test_again_comes_back_in_the_session_after_the_other_cards() -> None:
    reviews = service(synthetic_deck(3))
    session = await reviews.start(ANN, now=MORNING)
    first = session.current
    assert first is not None
    await session.rate(first.id, Rating.Again, MORNING)
    shown = [first.id]
    while session.current is not None:
        card = session.current
        shown.append(card.id)
        await session.rate(card.id, Rating.Good, MORNING)
    assert shown == [first.id, "term:t1", "term:t2", first.id]
    assert session.done and session.reviewed == 4


async def test_a_learning_card_waits_until_it_is_nearly_due() -> None:
    reviews = service(synthetic_deck(1), learning_steps=(timedelta(hours=1),))
    session = await reviews.start(ANN, now=MORNING)
    card = session.current
    assert card is not None
    await session.rate(card.id, Rating.Again, MORNING)
    assert session.current is None and not session.done
    back_at = session.next_learning_at()
    assert back_at == MORNING + timedelta(hours=1)
    assert session.advance(back_at - LEARN_AHEAD - timedelta(seconds=1)) is None
    assert session.advance(back_at - LEARN_AHEAD) == card


async def test_after_a_restart_the_card_rated_good_is_not_shown_first() -> None:
    store = FakeReviewStore()
    deck = synthetic_deck(12)
    session = await service(deck, store).start(ANN, now=MORNING)
    ratings = [Rating.Good, Rating.Again, Rating.Hard, Rating.Easy, Rating.Again]
    rated: dict[Rating, str] = {}
    for rating in ratings:
        card = session.current
        assert card is not None
        await session.rate(card.id, rating, MORNING)
        rated.setdefault(rating, card.id)
    seen = set(store.cards)  # (member, card) of the five rated cards
    # A new process: a new service over the same stored rows, ten minutes later.
    later = MORNING + timedelta(minutes=10)
    fresh = await ReviewService(store, deck, ReviewScheduler()).start(ANN, now=later)
    assert fresh.current is not None and fresh.current.id != rated[Rating.Good]
    shown = await rate_all(fresh, Rating.Good, later)
    assert rated[Rating.Good] not in shown and rated[Rating.Easy] not in shown
    assert rated[Rating.Again] in shown  # due again after its 10-minute step
    assert len([c for c in shown if (ANN, c) not in seen]) == 5  # 10 new a day, 5 used


async def test_due_cards_come_first_most_overdue_first_and_respect_filters() -> None:
    store = FakeReviewStore()
    deck = synthetic_deck(4, 2)
    reviews = service(deck, store)
    scheduler = ReviewScheduler(fuzz=False)
    for n, card in enumerate(["term:t2", "term:t0", "quiz:q1"]):
        state, entry = scheduler.rate(ANN, card, None, Rating.Good, MORNING + timedelta(hours=n),
                                      UTC_ZONE)  # fmt: skip
        await store.save_review(state, entry)
    await store.set_new_per_day(ANN, 0)
    later = MORNING + timedelta(days=30)
    all_cards = await reviews.start(ANN, now=later)
    assert await rate_all(all_cards, Rating.Good, later) == ["term:t2", "term:t0", "quiz:q1"]
    questions = await reviews.start(ANN, kind=Kind.QUESTIONS, now=later + timedelta(days=60))
    assert await rate_all(questions, Rating.Good, later) == ["quiz:q1"]
    section = await reviews.start(ANN, section="s1", now=later + timedelta(days=60))
    assert {c.section for c in [section.current] if c} == {"s1"}


async def test_stale_and_double_clicks_change_nothing() -> None:
    store = FakeReviewStore()
    session = await service(synthetic_deck(3), store).start(ANN, now=MORNING)
    current = session.current
    assert current is not None
    assert (await session.rate("term:t2", Rating.Good, MORNING)).status is RateStatus.STALE
    store.gate = asyncio.Event()  # the first save waits on it, as on a busy database
    first = asyncio.create_task(session.rate(current.id, Rating.Good, MORNING))
    await store.entered.wait()
    second = await session.rate(current.id, Rating.Good, MORNING)
    assert second.status is RateStatus.BUSY
    store.gate.set()
    assert (await first).status is RateStatus.RATED
    assert (await session.rate(current.id, Rating.Good, MORNING)).status is RateStatus.STALE
    assert len(store.log) == 1


async def test_a_failed_save_keeps_the_card_so_the_member_can_retry() -> None:
    store = FakeReviewStore()
    session = await service(synthetic_deck(2), store).start(ANN, now=MORNING)
    card = session.current
    assert card is not None
    store.fail_writes = 1
    with pytest.raises(FakeStorageError):
        await session.rate(card.id, Rating.Good, MORNING)
    assert session.current == card and not store.log
    assert (await session.rate(card.id, Rating.Good, MORNING)).status is RateStatus.RATED
    assert len(store.log) == 1


async def test_cards_of_removed_entries_are_skipped_but_kept() -> None:
    store = FakeReviewStore()
    old = service(synthetic_deck(2), store)
    await rate_all(await old.start(ANN, now=MORNING), Rating.Good, MORNING)
    smaller = service(synthetic_deck(1), store)
    later = MORNING + timedelta(days=90)
    assert await rate_all(await smaller.start(ANN, now=later), Rating.Good, later) == ["term:t0"]
    assert len(store.cards) == 2
    assert (await smaller.stats(ANN, later)).cards_started == 1


def test_sessions_are_one_per_member_bounded_and_expire() -> None:
    now = [0.0]

    class Stub:
        def __init__(self, user: str) -> None:
            self.user_hash = user

    sessions = ReviewSessions(limit=2, idle=60, clock=lambda: now[0])
    first, second = Stub(ANN), Stub(ANN)
    sessions.put(first)  # type: ignore[arg-type]
    sessions.put(second)  # type: ignore[arg-type]
    assert sessions.get(ANN) is second and len(sessions) == 1
    sessions.put(Stub(BOB))  # type: ignore[arg-type]
    sessions.put(Stub("c" * 32))  # type: ignore[arg-type]
    assert len(sessions) == 2 and sessions.get(ANN) is None  # the oldest went
    now[0] = 61
    assert sessions.get(BOB) is None and len(sessions) == 0


# -- stats and forecast ---------------------------------------------------------------------


async def test_stats_count_due_reviews_retention_and_streak() -> None:
    store = FakeReviewStore()
    reviews = service(synthetic_deck(30), store, fuzz=False)
    await store.set_new_per_day(ANN, 6)
    day = MORNING
    for _ in range(3):  # three days in a row: the due cards and six new ones, all Good
        await rate_all(await reviews.start(ANN, now=day), Rating.Good, day)
        day += timedelta(days=1)
    last = day - timedelta(days=1)
    stats = await reviews.stats(ANN, last)
    assert stats.reviews == len(store.log) and stats.cards_started == 18
    assert stats.reviews_today == sum(row["reviewed_on"] == "2024-03-17" for row in store.log)
    assert stats.streak.current == 3 and stats.streak.best == 3
    assert stats.retention is None and stats.mature_cards == 0  # nothing mature yet
    assert stats.new_available == 0
    forecast = await reviews.forecast(ANN, last)
    assert stats.due_today == forecast[0].count
    assert stats.due_this_week == sum(d.count for d in forecast[:7])
    assert stats.due_now == 0 < stats.due_this_week
    skipped = await reviews.stats(ANN, last + timedelta(days=2))
    assert skipped.streak.current == 0 and skipped.streak.best == 3
    seen = await reviews.overview(ANN, last)  # what /review stats shows, in one read
    assert seen.stats == stats and seen.forecast == forecast
    assert seen.settings == await store.review_settings(ANN) and seen.settings.new_per_day == 6


def test_retention_counts_only_mature_cards() -> None:
    from bot.review import ReviewTotals

    assert ReviewTotals(10, 4, 3).retention == 0.75
    assert ReviewTotals(10, 0, 0).retention is None


async def test_retention_from_the_log_of_mature_cards() -> None:
    store = FakeReviewStore()
    scheduler = ReviewScheduler(fuzz=False)
    state, entry = scheduler.rate(ANN, "term:t0", None, Rating.Easy, MORNING, UTC_ZONE)
    await store.save_review(state, entry)
    now = state.due
    while state.interval_days < 21:  # Good until the card is mature
        state, entry = scheduler.rate(ANN, "term:t0", state, Rating.Good, now, UTC_ZONE)
        await store.save_review(state, entry)
        now = state.due
    for rating in (Rating.Good, Rating.Again):
        state, entry = scheduler.rate(ANN, "term:t0", state, rating, now, UTC_ZONE)
        assert entry.mature
        await store.save_review(state, entry)
        now = state.due
    stats = await service(synthetic_deck(1), store).stats(ANN, now)
    assert stats.retention == 0.5


async def test_forecast_covers_14_local_days_with_overdue_cards_today() -> None:
    store = FakeReviewStore()
    await store.set_review_timezone(ANN, "America/New_York", None)
    scheduler = ReviewScheduler(fuzz=False)
    zone = ZoneInfo("America/New_York")
    for n in range(5):
        state, entry = scheduler.rate(ANN, f"term:t{n}", None, Rating.Good, MORNING, zone)
        await store.save_review(state, entry)
    reviews = service(synthetic_deck(5), store)
    later = MORNING + timedelta(days=5)
    forecast = await reviews.forecast(ANN, later)
    assert len(forecast) == 14
    assert forecast[0].day == later.astimezone(zone).date()
    assert [d.day for d in forecast] == [forecast[0].day + timedelta(days=n) for n in range(14)]
    assert forecast[0].count == 5  # all overdue by now
    assert sum(d.count for d in await reviews.forecast(ANN, MORNING)) == 5


# -- cards ----------------------------------------------------------------------------------


async def test_review_cards_show_front_then_back_and_fit_discord() -> None:
    from bot.review import back_card, done_card, front_card, stats_card, until

    question = Flashcard(
        card_id(QUIZ, "q1"), QUIZ, "q1", "s2", "Which article allows force?", "Article 42",
        choices=("Article 41", "Article 42"), explanation="Article 42 covers military action.",
    )  # fmt: skip
    front = front_card(question, "Law", remaining=3)
    assert "A. Article 41" in front.description and "B. Article 42" in front.description
    assert "Article 42 covers" not in front.description
    back = back_card(question, "Law", remaining=3)
    answer = back.fields[0].value
    assert answer.startswith("B. Article 42") and "covers military action" in answer
    assert back.footer == "Law · 3 cards left in this session"
    term = Flashcard(card_id(TERM, "roe"), TERM, "roe", "s1", "ROE", "Orders on force.",
                     note="The article is wrong.")  # fmt: skip
    assert "Orders on force." not in front_card(term, None, 1).description
    assert [f.value for f in back_card(term, None, 1).fields][:2] == [
        "Orders on force.", "The article is wrong.",
    ]  # fmt: skip
    for card in (front, back):
        assert card.size() <= 6000

    reviews = service(synthetic_deck(1))
    session = await reviews.start(ANN, now=MORNING)
    assert session.current is not None
    await session.rate(session.current.id, Rating.Again, MORNING)
    await session.rate(session.current.id, Rating.Again, MORNING)  # shown again (learn-ahead)
    assert session.current is not None  # still learning: comes back once more
    done = done_card(session, MORNING)
    assert "2 cards" in done.description
    stats = await reviews.stats(ANN, MORNING)
    card = stats_card(stats, await reviews.forecast(ANN, MORNING), limit=10)
    values = {f.name: f.value for f in card.fields}
    assert (
        values["Reviews"] == "2 (2 today)"
        and "not enough mature" in values["Retention on mature cards"]
    )
    assert until(MORNING + timedelta(minutes=9), MORNING) == "in 9 minutes"
    assert until(MORNING + timedelta(days=2), MORNING) == "in 2 days"
    assert until(MORNING, MORNING) == "in under a minute"


async def test_stats_card_gives_the_forecast_picture_s_data_as_text() -> None:
    from bot.review import DayCount, stats_card

    store = FakeReviewStore()
    reviews = service(synthetic_deck(3), store)
    stats = await reviews.stats(ANN, MORNING)
    forecast = tuple(DayCount(MORNING.date() + timedelta(days=n), n % 3) for n in range(14))
    card = stats_card(stats, forecast)
    [text] = [f.value for f in card.fields if f.name == "Due over the next 14 days"]
    first, second = text.split("\n")
    assert first.startswith("Today: 0 · Sat 16: 1 · Sun 17: 2")  # 15 March 2024 was a Friday
    assert second.endswith("Thu 28: 1") and len(text.split(" · ")) == 13


async def test_a_session_rebuilt_after_a_restart_resumes_at_the_card_on_screen() -> None:
    store = FakeReviewStore()
    reviews = service(synthetic_deck(5), store)
    session = await reviews.start(ANN, now=MORNING)
    shown = [session.current]
    await session.rate(session.current.id, Rating.Good, MORNING)  # t0: due in days
    shown.append(session.current)
    # The bot restarts with t1 on screen; the member presses "Good" on it.
    resumed, found = await reviews.resume(ANN, shown[1].id, now=MORNING)
    assert found and resumed.current == shown[1]
    result = await resumed.rate(shown[1].id, Rating.Good, MORNING)
    assert result.status is RateStatus.RATED and resumed.current.id == "term:t2"
    # A press on t0's old message finds it rated and not due: the session shows t2 instead.
    again, found = await reviews.resume(ANN, shown[0].id, now=MORNING)
    assert not found and again.current.id == "term:t2"
    # A new card the session would not have picked (beyond the day's limit) is still shown.
    await store.set_new_per_day(ANN, 2)
    late, found = await reviews.resume(ANN, "term:t4", now=MORNING)
    assert found and late.current.id == "term:t4" and late.remaining == 1
    _, found = await reviews.resume(ANN, "term:removed", now=MORNING)
    assert not found
