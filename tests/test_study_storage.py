"""The storage calls the study features rely on, on each engine (the `backend` fixture)."""

from __future__ import annotations

from datetime import date

from tests.storage_backends import Backend


async def test_activity_dates_of_several_members_at_once(backend: Backend) -> None:
    async with backend.opened() as storage:
        await storage.record_answer(1, 10, "Ann", "q-1", "mandates", True, date(2024, 3, 1))
        await storage.record_activity(1, 10, "Ann", date(2024, 3, 2))
        await storage.record_activity(1, 20, "Bob", date(2024, 3, 2))
        await storage.record_activity(2, 20, "Bob", date(2024, 3, 5))  # another server
        ann, bob, nobody = storage.user_hash(10), storage.user_hash(20), storage.user_hash(30)
        found = await storage.activity_dates_of(1, [ann, bob, nobody])
        assert found == {
            ann: [date(2024, 3, 1), date(2024, 3, 2)],
            bob: [date(2024, 3, 2)],
            nobody: [],
        }
        assert await storage.activity_dates_of(1, []) == {}
        rows = await storage.leaderboard(1)
        assert {row.user_hash for row in rows} == {ann}


async def test_answers_per_day_count_one_member_on_one_server_from_a_date(
    backend: Backend,
) -> None:
    """What /progress's calendar reads: answers per local day, right or wrong alike."""
    async with backend.opened() as storage:
        for question, day, correct in (
            ("q-1", 1, True), ("q-2", 1, False), ("q-3", 3, True), ("q-4", 9, True)
        ):  # fmt: skip
            await storage.record_answer(1, 10, "Ann", question, "law", correct, date(2024, 3, day))
        await storage.record_answer(1, 20, "Bob", "q-1", "law", True, date(2024, 3, 3))
        await storage.record_answer(2, 10, "Ann", "q-1", "law", True, date(2024, 3, 3))
        found = await storage.answers_per_day(1, 10, since=date(2024, 3, 2))
        assert found == {date(2024, 3, 3): 1, date(2024, 3, 9): 1}
        everything = await storage.answers_per_day(1, 10, since=date(2024, 1, 1))
        assert everything == {date(2024, 3, 1): 2, date(2024, 3, 3): 1, date(2024, 3, 9): 1}
        assert await storage.answers_per_day(1, 30, since=date(2024, 1, 1)) == {}
