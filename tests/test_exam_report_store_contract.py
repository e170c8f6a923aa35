"""The contract of `ExamStore` and `ReportStore`, run against the in-memory fake the core is
tested with and against `Storage` on SQLite and PostgreSQL: all must pass it unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.exam import ExamRecord
from bot.reports import make_report
from tests.review_fake import FakeReviewStore
from tests.storage_backends import NAMES, Backend, make_backend

ANN, BOB = "a" * 32, "b" * 32
NOW = datetime(2024, 3, 15, 8, tzinfo=UTC)


@pytest.fixture(params=["fake", *NAMES])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """The in-memory fake, then `Storage` on each engine (tests/storage_backends.py)."""
    if request.param == "fake":
        yield FakeReviewStore()
        return
    backend = await make_backend(request.param, tmp_path)
    try:
        yield await backend.open()
    finally:
        await backend.close()


def exam(user: str, minutes: int, correct: int, section: str | None = None) -> ExamRecord:
    started = NOW + timedelta(minutes=minutes)
    return ExamRecord(
        user, section, started, started + timedelta(minutes=4), 5, correct, correct < 3,
        by_section=((section or "law", 5, correct),),
    )  # fmt: skip


def report(user: str, entry: str, at: datetime, what: str = "The year is wrong here.") -> Any:
    return make_report(entry_id=entry, content_version="abc123", what=what, source=None,
                       user_hash=user, at=at, guild_id=42)  # fmt: skip


async def test_exam_history_is_newest_first_per_section_and_limited(store: Any) -> None:
    records = [exam(ANN, 0, 2, "law"), exam(ANN, 10, 4), exam(ANN, 20, 5, "law"), exam(BOB, 5, 1)]
    for record in records:
        await store.save_exam(record)
    assert await store.exam_history(ANN, None, 10) == [records[2], records[1], records[0]]
    assert await store.exam_history(ANN, "law", 10) == [records[2], records[0]]
    assert await store.exam_history(ANN, None, 1) == [records[2]]
    assert await store.exam_history(ANN, "mandates", 10) == []
    assert (await store.exam_history(BOB, None, 10))[0].by_section == (("law", 5, 1),)


async def test_one_report_per_member_per_entry_per_utc_day(store: Any) -> None:
    assert await store.add_report(report(ANN, "oas", NOW))
    again = report(ANN, "oas", NOW + timedelta(hours=15), "The year is still wrong.")
    assert not await store.add_report(again)
    assert await store.add_report(report(ANN, "oas", NOW + timedelta(hours=16)))  # next UTC day
    assert await store.add_report(report(ANN, "unef", NOW))
    assert await store.add_report(report(BOB, "oas", NOW))
    listed = await store.mistake_reports()
    assert [(r.user_hash, r.entry_id) for r in listed] == [
        (ANN, "oas"), (ANN, "unef"), (BOB, "oas"), (ANN, "oas"),
    ]  # fmt: skip
    assert listed[0].what == "The year is wrong here." and listed[0].content_version == "abc123"
    later = NOW + timedelta(hours=1)
    assert [r.at for r in await store.mistake_reports(later)] == [NOW + timedelta(hours=16)]
    assert await store.count_reports() == 4 and await store.count_reports(later) == 1


async def test_report_channel_per_server(store: Any) -> None:
    assert await store.report_channel(42) is None
    await store.set_report_channel(42, 900)
    await store.set_report_channel(43, 901)
    assert await store.report_channel(42) == 900
    await store.set_report_channel(42, None)
    assert await store.report_channel(42) is None and await store.report_channel(43) == 901


async def test_forgetting_removes_only_that_members_exams_and_reports(store: Any) -> None:
    for user in (ANN, BOB):
        await store.save_exam(exam(user, 0, 4))
        await store.add_report(report(user, "oas", NOW))
    assert await store.forget_exams(ANN) == 1 and await store.forget_reports(ANN) == 1
    assert await store.exam_history(ANN, None, 10) == []
    assert [r.user_hash for r in await store.mistake_reports()] == [BOB]
    assert len(await store.exam_history(BOB, None, 10)) == 1


async def test_forget_user_covers_exams_and_reports(backend: Backend) -> None:
    async with backend.opened() as storage:
        ann, bob = storage.user_hash(1), storage.user_hash(2)
        for user in (ann, bob):
            await storage.save_exam(exam(user, 0, 4))
            await storage.add_report(report(user, "oas", NOW))
        assert await storage.forget_user(1) == 2
        assert await storage.exam_history(ann, None, 10) == []
        assert [r.user_hash for r in await storage.mistake_reports()] == [bob]


async def test_the_report_channel_leaves_daily_settings_alone(backend: Backend) -> None:
    async with backend.opened() as storage:
        await storage.enable_daily(42, channel_id=7, daily_time="18:00", timezone="UTC",
                                   discussion=True, next_at=NOW)  # fmt: skip
        await storage.set_report_channel(42, 900)
        settings = await storage.get_settings(42)
        assert settings.daily_enabled and settings.daily_channel_id == 7
        assert await storage.report_channel(42) == 900
