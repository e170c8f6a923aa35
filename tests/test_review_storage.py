"""Review state in the storage, on each engine: it survives closing and reopening the database, a
member's cards go with `forget_user`, and group quiz answers are recorded without moving review
dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.content import Library
from bot.review import QUIZ, Deck, Kind, Rating, ReviewScheduler, ReviewService, card_id
from bot.schedule import load_timezone
from tests.storage_backends import Backend
from tests.storage_helpers import GUILD, USER

NOW = datetime(2024, 3, 15, 8, tzinfo=UTC)
ZONE = load_timezone("UTC")


async def test_fsrs_state_round_trips_through_a_reopened_database(backend: Backend) -> None:
    scheduler = ReviewScheduler(fuzz=False)  # the same rating then schedules the same way
    zone = load_timezone("Europe/Berlin")
    async with backend.opened() as store:
        ann = store.user_hash(USER)
        state, entry = scheduler.rate(ann, "term:chapter-vii", None, Rating.Good, NOW, zone)
        state, entry = scheduler.rate(ann, "term:chapter-vii", state, Rating.Hard, state.due, zone)
        await store.save_review(state, entry)
    async with backend.opened() as store:
        [stored] = await store.card_states(store.user_hash(USER))
        assert stored == state  # every FSRS field: stability, difficulty, step, due, last review
        assert stored.fsrs.stability == state.fsrs.stability
        assert stored.due.tzinfo is not None and stored.due == state.due
        # The stored state schedules exactly as the one in memory would.
        later = state.due + timedelta(days=1)
        again_stored, _ = scheduler.rate(ann, stored.card_id, stored, Rating.Good, later, zone)
        again_memory, _ = scheduler.rate(ann, state.card_id, state, Rating.Good, later, zone)
        assert again_stored.fsrs.to_dict() == again_memory.fsrs.to_dict()


async def test_forget_user_deletes_the_member_s_review_data(backend: Backend) -> None:
    async with backend.opened() as store:
        ann = store.user_hash(USER)
        bob = store.user_hash(USER + 1)
        scheduler = ReviewScheduler()
        for user in (ann, bob):
            state, entry = scheduler.rate(user, "term:x", None, Rating.Good, NOW, ZONE)
            await store.save_review(state, entry)
            await store.set_reminder(user, dm_user_id=USER, remind_time="08:00", next_at=NOW)
            await store.claim_reminder(user, NOW.date(), NOW + timedelta(days=1))
        await store.record_answer(GUILD, USER, "Ann", "q1", "law", True, NOW.date())

        removed = await store.forget_user(USER)
        assert removed >= 5  # card, log entry, settings, claim, and the quiz answer and member
        assert await store.card_states(ann) == []
        assert (await store.review_totals(ann)).reviews == 0
        settings = await store.review_settings(ann)
        assert not settings.remind and settings.dm_user_id is None
        assert [s.user_hash for s in await store.due_reminders(NOW + timedelta(days=2))] == [bob]
        assert len(await store.card_states(bob)) == 1


async def test_group_quiz_answers_do_not_move_review_dates(
    backend: Backend, small_library: Library
) -> None:
    """Only /review reschedules: an answer in a group quiz is recorded for the leaderboard
    and the streak, and the member's review card of that question keeps its date."""
    async with backend.opened() as store:
        deck = Deck.from_library(small_library)
        service = ReviewService(store, deck, ReviewScheduler(), clock=lambda: NOW)
        question = next(iter(small_library.quiz.values()))
        ann = store.user_hash(USER)
        session = await service.start(ann, kind=Kind.QUESTIONS)
        assert session.current is not None and session.current.entry_id == question.id
        await session.rate(session.current.id, Rating.Good, NOW)
        [before] = await store.card_states(ann)
        assert before.card_id == card_id(QUIZ, question.id)

        for answered in (True, False, True):
            await store.record_answer(
                GUILD, USER, "Ann", question.id, question.section, answered, date(2024, 3, 16)
            )
        assert await store.card_states(ann) == [before]
        assert (await store.review_totals(ann)).reviews == 1
        [row] = await store.progress(GUILD, USER)
        assert (row.answered, row.correct) == (3, 2)  # the answers were recorded
