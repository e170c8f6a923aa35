"""End to end: `/review` through the real bot, discord.py's own HTTP and gateway code, and the fake
Discord API on 127.0.0.1. The review cog and its reminder queue run on a test clock, so nothing
here waits for real time to pass, and nothing depends on today's date."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import timers
from bot.content import Library
from bot.pictures import PictureRenderer
from bot.review import DMS_CLOSED, card_id
from cogs._ui import REPORT_LABEL
from cogs.review import NO_DMS
from tests.fake_discord import BotHarness, FakeDiscord, MessageRecord, Response, running_bot
from tests.fake_discord.peacebot import peacebot_client
from tests.storage_backends import Backend
from tests.study_clock import FakeWallClock

pytestmark = pytest.mark.e2e

START = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)  # a Monday
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeWallClock:
    """The wall clock of every timer queue the bot makes (the review cog tells the time by its
    reminder queue's), from before the bot starts."""
    fake = FakeWallClock(START)
    monkeypatch.setattr(timers, "SystemClock", lambda: fake)
    return fake


@asynccontextmanager
async def review_bot(
    fake: FakeDiscord, library: Library, db: Path | str, clock: FakeWallClock, **options: Any
) -> AsyncIterator[BotHarness]:
    """The real bot on `db` (a SQLite file or a PostgreSQL URL), its review cog and reminder
    queue on `clock`."""
    async with AsyncExitStack() as stack:
        bot = await stack.enter_async_context(
            peacebot_client(fake, library, db_path=str(db), **options)
        )
        harness = await stack.enter_async_context(running_bot(fake, bot))
        reminders = review(harness).reminders
        assert reminders.clock is clock
        reminders.max_sleep = 7 * 86400.0  # asleep until the next reminder, however far
        reminders.wake()
        yield harness


def review(harness: BotHarness) -> Any:
    cog = harness.bot.get_cog("Review")
    assert cog is not None
    return cog


def shown_card(message: Response | MessageRecord) -> str:
    """The card id on screen, read off its buttons' custom ids (`...:<t|q>:<entry id>`)."""
    custom_id = message.buttons[0]["custom_id"]
    letter, entry = custom_id.rsplit(":", 2)[-2:]
    return card_id("term" if letter == "t" else "quiz", entry)


def direct_messages(harness: BotHarness, user: str) -> list[MessageRecord]:
    channel = harness.world.dm_channels.get(harness.world.users[user].id)
    return [m for m in harness.messages if channel is not None and m.channel_id == channel.id]


def reminders_in(harness: BotHarness, user: str) -> list[MessageRecord]:
    return [m for m in direct_messages(harness, user) if m.buttons]


async def rate(harness: BotHarness, on_screen: Response, label: str) -> Response:
    """Show the answer of the card on screen, then press `label` on its back."""
    back = await harness.click(on_screen.button("Show answer")["custom_id"], on_screen)
    assert [b["label"] for b in back.buttons] == ["Again", "Hard", "Good", "Easy", REPORT_LABEL]
    assert shown_card(back) == shown_card(on_screen)
    # The back is an answer card: its report button names the entry and the content version.
    version, entry = back.button(REPORT_LABEL)["custom_id"].split(":")[2:]
    assert version == harness.bot.library.version
    assert on_screen.button("Show answer")["custom_id"].endswith(f":{entry}")
    return await harness.click(back.button(label)["custom_id"], back)


async def test_five_cards_rated_then_a_restart_the_good_card_is_not_shown_first(
    fake_discord: FakeDiscord, library: Library, tmp_path: Path, clock: FakeWallClock
) -> None:
    db = tmp_path / "bot.sqlite3"
    ratings = ["Good", "Again", "Easy", "Hard", "Good"]
    rated: dict[str, str] = {}
    async with review_bot(fake_discord, library, db, clock) as harness:
        screen = await harness.slash("review start", {"kind": "terms"})
        assert screen.ephemeral and screen.embed["title"] == "Review: glossary term"
        assert "10 cards left" in screen.embed["footer"]["text"]  # the day's new cards
        for label in ratings:
            rated[shown_card(screen)] = label
            screen = await rate(harness, screen, label)
            assert screen.ephemeral and label in screen.content
        assert len(rated) == 5 and shown_card(screen) not in rated
        stored = await harness.bot.storage.card_states(
            harness.bot.storage.user_hash(harness.user.id)
        )
        assert sorted(s.card_id for s in stored) == sorted(rated)
        old_screen = screen

    clock.advance(timedelta(minutes=1))
    async with review_bot(fake_discord, library, db, clock) as harness:
        # A button pressed on the message from before the restart still works: the session is
        # rebuilt from the database, at the card on screen.
        back = await harness.click(old_screen.button("Show answer")["custom_id"], old_screen)
        assert shown_card(back) == shown_card(old_screen)
        assert [b["label"] for b in back.buttons][:4] == ["Again", "Hard", "Good", "Easy"]

        fresh = await harness.slash("review start", {"kind": "terms"})
        first = shown_card(fresh)
        assert rated.get(first) not in ("Good", "Easy")
        # The rest of the session: the Again and Hard cards come back within their learning
        # step, the Good and Easy ones not today.
        seen = [first]
        while fresh.buttons and fresh.buttons[0]["label"] == "Show answer":
            fresh = await rate(harness, fresh, "Good")
            if fresh.buttons and fresh.buttons[0]["label"] == "Show answer":
                seen.append(shown_card(fresh))
        assert fresh.embed["title"] == "Review done"
        assert {card for card, label in rated.items() if label in ("Again", "Hard")} <= set(seen)
        assert not {card for card, label in rated.items() if label in ("Good", "Easy")} & set(seen)


async def test_stats_show_the_forecast_picture_with_alt_text(
    fake_discord: FakeDiscord, library: Library, tmp_path: Path, clock: FakeWallClock
) -> None:
    renderer = PictureRenderer(workers=1)
    async with review_bot(
        fake_discord, library, tmp_path / "stats.sqlite3", clock, pictures=renderer
    ) as harness:
        screen = await harness.slash("review start")
        for label in ("Good", "Easy", "Again"):
            screen = await rate(harness, screen, label)
        stats = await harness.slash("review stats")
        assert stats.ephemeral
        fields = {f["name"]: f["value"] for f in stats.embed["fields"]}
        assert fields["Reviews"] == "3 (3 today)"
        assert fields["Due today"] == "1"  # the Again card
        forecast = fields["Due over the next 14 days"]
        assert forecast.startswith("Today: 1 · Tue 4: ")
        [attachment] = stats.message["attachments"]
        assert attachment["filename"] == "forecast.png"
        assert stats.embed["image"]["url"] == "attachment://forecast.png"
        alt = attachment["description"]
        assert alt.startswith("Bar chart of review cards due on each of the next 14 days, 3 in all")
        assert "today: 1;" in alt
        png = fake_discord.attachment_data[int(attachment["id"])]
        assert png.startswith(PNG_SIGNATURE) and attachment["size"] == len(png) <= 300_000
    assert not renderer.running  # closed with the bot


async def test_a_due_card_brings_one_reminder_whose_button_starts_the_review(
    fake_discord: FakeDiscord, library: Library, tmp_path: Path, clock: FakeWallClock
) -> None:
    async with review_bot(fake_discord, library, tmp_path / "remind.sqlite3", clock) as harness:
        await rate(harness, await harness.slash("review start"), "Again")  # due in 10 minutes
        await harness.slash("review settings", {"timezone": "Asia/Kolkata"})  # 14:30 there
        on = await harness.slash("review remind on", {"time": "15:00"})
        due = START + timedelta(minutes=30)
        assert on.ephemeral and f"<t:{int(due.timestamp())}:F>" in on.content
        [confirmation] = direct_messages(harness, "alice")
        assert "Review reminders are on" in confirmation.content and not confirmation.buttons

        await clock.wait_for_sleeper(due)
        clock.set(due)
        reminder = await harness.wait_for_message(
            lambda m: bool(m.buttons), channel_id=confirmation.channel_id
        )
        assert "1 card due for review" in reminder.content
        # Woken again the same day: nothing more. The queue now sleeps until tomorrow's 15:00.
        review(harness).reminders.wake()
        await clock.wait_for_sleeper(due + timedelta(days=1))
        assert len(reminders_in(harness, "alice")) == 1

        started = await harness.click(reminder.button("Start review")["custom_id"], reminder)
        assert started.ephemeral and started.embed["title"].startswith("Review:")


async def test_closed_dms_are_told_once_and_switch_the_reminder_off(
    fake_discord: FakeDiscord, library: Library, tmp_path: Path, clock: FakeWallClock
) -> None:
    alice = fake_discord.world.users["alice"]
    async with review_bot(fake_discord, library, tmp_path / "closed.sqlite3", clock) as harness:
        storage = harness.bot.storage
        user_hash = storage.user_hash(alice.id)
        alice.accepts_dms = False
        refused = await harness.slash("review remind on", {"time": "09:30"})
        assert refused.ephemeral and refused.content == NO_DMS
        assert not (await storage.review_settings(user_hash)).remind

        alice.accepts_dms = True
        await rate(harness, await harness.slash("review start"), "Again")
        await harness.slash("review remind on", {"time": "09:30"})
        alice.accepts_dms = False  # closed later, before the first reminder
        due = START + timedelta(minutes=30)
        await clock.wait_for_sleeper(due)
        clock.set(due)
        await clock.wait_for_sleeper(due + timedelta(days=1))  # it has claimed the day
        await review(harness).reminders.settle()
        settings = await storage.review_settings(user_hash)
        assert not settings.remind and settings.dm_user_id is None
        assert settings.reminder_notice == DMS_CLOSED
        assert reminders_in(harness, "alice") == []

        told = await command_responses(harness, "review stats")
        assert [r.content for r in told[1:]] == ["", f"⚠ {DMS_CLOSED}"]
        again = await command_responses(harness, "review stats")
        assert [r.content for r in again[1:]] == [""]  # told once


async def command_responses(harness: BotHarness, name: str) -> list[Response]:
    """Every response to `/name`, once its handler has finished."""
    finished = asyncio.ensure_future(harness.bot.wait_for("app_command_completion", timeout=10))
    interaction = await harness.dispatch_slash(name)
    await finished
    return interaction.responses


async def test_two_bots_on_one_database_send_one_reminder(
    fake_discord: FakeDiscord, library: Library, backend: Backend, clock: FakeWallClock
) -> None:
    """Two processes (two bots, each with its own storage on one database, both running the
    reminder queue, as in a rolling deploy): the day's claim lets exactly one of them send."""
    db = backend.location
    async with review_bot(fake_discord, library, db, clock) as first:
        await rate(first, await first.slash("review start"), "Again")
        await first.slash("review remind on", {"time": "09:30"})
        async with review_bot(fake_discord, library, db, clock) as second:
            due = START + timedelta(minutes=30)
            tomorrow = due + timedelta(days=1)
            for harness in (first, second):
                assert review(harness).reminders.running
            await clock.wait_for_sleeper(due, count=2)
            clock.set(due)
            # Both have woken, claimed the day or lost the claim, and gone back to sleep.
            await clock.wait_for_sleeper(tomorrow, count=2)
            for harness in (first, second):
                await review(harness).reminders.settle()
            assert len(reminders_in(second, "alice")) == 1
