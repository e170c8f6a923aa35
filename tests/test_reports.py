"""Reporting a mistake: the record, its checks and one report per member per entry per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reports import (
    WHAT_MAX,
    MistakeReport,
    ReportError,
    make_report,
    report_card,
    report_line,
)
from tests.review_fake import FakeReviewStore

ANN, BOB = "a" * 32, "b" * 32
NOON = datetime(2024, 3, 15, 12, tzinfo=UTC)


def report(
    user: str = ANN, entry: str = "ecomog", at: datetime = NOON, **kw: object
) -> MistakeReport:
    fields: dict = {"what": "The withdrawal date is wrong.", "source": None} | kw
    return make_report(
        entry_id=entry, content_version="abc1234567", user_hash=user, at=at, **fields
    )


def test_a_report_is_cleaned_and_checked() -> None:
    made = report(what="  The  date\x00 is wrong\u202e  ", source="  https://un.org/x  ")
    assert made.what == "The date is wrong" and made.source == "https://un.org/x"
    assert report(source="   ").source is None
    assert len(report(what="x" * 5000).what) == WHAT_MAX
    with pytest.raises(ReportError, match="at least"):
        report(what="wrong")
    tokyo = NOON.astimezone(ZoneInfo("Asia/Tokyo"))
    assert report(at=tokyo).at == NOON and report(at=tokyo).at.tzinfo is UTC


async def test_the_store_enforces_the_rule_and_lists_reports() -> None:
    store = FakeReviewStore()
    assert await store.add_report(report())
    assert not await store.add_report(report(what="Another thing is wrong too."))
    assert await store.add_report(report(user=BOB))
    assert await store.add_report(report(at=NOON + timedelta(days=1)))
    listed = await store.mistake_reports(NOON + timedelta(hours=1))
    assert [r.at for r in listed] == [NOON + timedelta(days=1)]
    assert await store.count_reports() == 3
    assert MistakeReport.from_row(report().to_row()) == report()


def test_the_moderators_card_cannot_ping_or_format() -> None:
    card = report_card(report(what="@everyone look **here** <@123>", source="[x](http://e.vil)"),
                       "ECOMOG")  # fmt: skip
    text = " ".join(f.value for f in card.fields)
    assert "@everyone" not in text and "<@123>" not in text and "\\*\\*here" in text
    assert "\\[x\\]\\(http" in text
    assert "abc1234567" in (card.footer or "")
    assert all(len(f.value) <= 1024 for f in card.fields)
    long = report_card(report(what="*" * WHAT_MAX), "ECOMOG")  # each escape doubles
    assert all(len(f.value) <= 1024 for f in long.fields)


def test_report_lines_are_one_line_each() -> None:
    line = report_line(report(what="Line one\nline two is wrong"))
    assert "\n" not in line and line.split("\t")[1] == "ecomog"
