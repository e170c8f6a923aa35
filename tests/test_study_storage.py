"""The storage calls the study features rely on, against a real in-memory database."""

from __future__ import annotations

from datetime import date

from bot.storage import Storage


async def test_activity_dates_of_several_members_at_once() -> None:
    storage = await Storage.open(":memory:")
    try:
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
    finally:
        await storage.close()
