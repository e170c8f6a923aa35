"""End to end through the fake Discord, with the state layer under load: a long `/stats` and
another process holding the database's write lock while people keep using the bot; Discord's
3 s deadline and rate limits; and the small interaction fixes (prefix subcommands in any case,
`!quiz 3`, expired buttons, channels the bot may not write in, answers that cannot be saved)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import StorageBusy
from cogs._ui import EXPIRED
from cogs.quiz import NOT_SAVED
from tests.fake_discord import FakeDiscord
from tests.fake_discord.fixtures import StartPeacebot
from tests.storage_helpers import opened, record
from tests.study_clock import FakeClock

pytestmark = pytest.mark.e2e

LOG_ROWS = 50_000


@contextmanager
def foreign_write_lock(path: Path) -> Iterator[None]:
    """Another process (a `peacebot prune`, a second shard) holding the write lock."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_every_interaction_is_answered_in_time_beside_stats_and_a_foreign_lock(
    start_peacebot: StartPeacebot,
    fake_discord: FakeDiscord,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "bot.sqlite3"
    guild = fake_discord.world.guild_id
    now = datetime.now(UTC)
    async with opened(db, log_batch_size=5000) as store:  # a large log for this server
        for i in range(LOG_ROWS):
            at = now - timedelta(seconds=i * 40)  # about 23 days
            store.log(record(f"term {i % 300}", guild_id=guild, at=at, duration_ms=i % 13))
        assert await store.flush(max_wait=None)
        alice = fake_discord.world.users["alice"].id
        await store.record_answer(guild, alice, "Alice", "q-1", "mandates", True, now.date())
    harness = await start_peacebot(db_path=str(db))
    await harness.slash(
        "daily set", {"channel": "study", "time": "23:59", "timezone": "Pacific/Kiritimati"},
        user="mod",
    )  # fmt: skip
    caplog.set_level(logging.INFO)

    with foreign_write_lock(db):
        # A write first: it waits for the lock, and every read after it must not wait for it.
        write = await harness.dispatch_slash("daily off", user="mod")
        stats = await harness.dispatch_slash("stats", user="mod")
        reads = [
            await harness.dispatch_slash("define", {"term": "rules of engagment"}),
            await harness.dispatch_slash("leaderboard"),
            await harness.dispatch_slash("progress"),
            await harness.dispatch_slash("daily status"),
        ]
        answers = [await fake_discord.wait_for_answer(i.id) for i in (*reads, stats)]
        # Every read was answered while the other process still held the lock.
        assert "Rules of engagement" in answers[0].text()
        assert "Alice" in answers[1].text()
        assert "**1** right of **1**" in answers[2].text()
        assert "Pacific/Kiritimati" in answers[3].text()
        assert f"**{LOG_ROWS}** lookups" in answers[4].text()
        await fake_discord.wait_for_response(write.id)  # deferred at once, answered later
    done = await fake_discord.wait_for_answer(write.id)
    assert "Daily facts are off" in done.content
    assert fake_discord.late_callbacks == []  # nothing came after Discord's 3 s
    for interaction in (*reads, stats, write):
        assert interaction.callback is not None
    assert errors_logged(caplog) == []


async def test_rate_limited_answers_and_posts_still_arrive(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    fake = harness.fake
    fake.rate_limit("POST", r"/interactions/\d+/[^/]+/callback", retry_after=0.3)
    answer = await harness.slash("define", {"term": "roe"})
    assert answer.embed["title"] == "Rules of engagement"
    (hit,) = fake.rate_limited
    assert answer.received_at - hit.at >= 0.3 and answer.latency < fake.interaction_deadline
    fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.2)
    asked = await harness.send_message("!define roe")
    reply = await harness.wait_for_message(after=asked)
    assert reply.embed["title"] == "Rules of engagement"
    assert reply.received_at - fake.rate_limited[-1].at >= 0.2


# -- small interaction fixes ----------------------------------------------------------------------


async def test_prefix_subcommands_in_any_case(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    asked = await harness.send_message("!daily NOW", user="mod")
    reply = await harness.wait_for_message(after=asked)
    assert "No daily channel is set yet" in reply.content
    asked = await harness.send_message("!Quiz STOP")
    reply = await harness.wait_for_message(after=asked)
    assert reply.content == "No quiz is running in this channel."


async def test_prefix_quiz_with_a_count_asks_that_many(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    assert quiz is not None
    quiz.clock = FakeClock()
    asked = await harness.send_message("!quiz 3")
    reply = await harness.wait_for_message(after=asked)
    assert reply.content.startswith("Quiz: 3 questions")
    quiz.registry.cancel_all()


async def test_a_button_nothing_matches_any_more_says_it_expired(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    fake = harness.fake
    button = {"type": 2, "style": 1, "label": "Old", "custom_id": "pb:vote:1:2"}
    old = fake.new_message(
        harness.channel.id,
        fake.world.bot,
        {"content": "from an older version", "components": [{"type": 1, "components": [button]}]},
    )
    reply = await harness.click("pb:vote:1:2", old)
    assert reply.ephemeral and reply.content == EXPIRED
    # A button that still matches is answered by its item alone, not told it expired.
    answer = await harness.slash("define", {"term": "roe"})
    opened_entry = await harness.click(answer.buttons[0]["custom_id"], answer)
    assert opened_entry.content != EXPIRED
    assert len(opened_entry.interaction.responses) == 1


async def test_a_prefix_command_where_the_bot_may_not_write_logs_no_traceback(
    start_peacebot: StartPeacebot, caplog: pytest.LogCaptureFixture
) -> None:
    harness = await start_peacebot()
    study = harness.world.channels["study"]
    study.refuses_bot_posts = True
    caplog.set_level(logging.INFO)
    failed = asyncio.ensure_future(harness.bot.wait_for("command_error", timeout=5))
    await harness.send_message("!define roe", channel=study)
    await failed
    asked = await harness.send_message("!define roe")  # then one that works, in #general
    await harness.wait_for_message(after=asked)
    refused = [r for r in caplog.records if "cannot answer" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_an_answer_that_cannot_be_saved_is_told_to_the_player(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    assert quiz is not None
    quiz.clock = FakeClock()

    async def busy(*args: object) -> None:
        raise StorageBusy("the database is busy")

    harness.bot.storage.record_answer = busy  # type: ignore[method-assign]
    await harness.slash("quiz start", {"questions": 1})
    question = await harness.wait_for_message(lambda m: bool(m.buttons))
    click = await harness.dispatch_click(question.buttons[0]["custom_id"], question)
    first, second = await harness.fake.wait_for_responses(click.id, 2)
    assert "Your answer" in first.content  # the reply did not wait for the save
    assert second.kind == "followup" and second.ephemeral and second.content == NOT_SAVED
    assert quiz.lost_answers == 1
    quiz.registry.cancel_all()
