"""End to end: daily posts, quizzes and discussions through the real bot, discord.py's own HTTP
and gateway code, and the fake Discord API on 127.0.0.1. Time-dependent parts use the cogs'
injectable clocks, so nothing here waits for real time to pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content import Library, QuizQuestion
from bot.study_cards import THREAD_PREFIX
from cogs.discuss import THREAD_GUIDE
from tests.fake_discord import BotHarness, MessageRecord, MessageView
from tests.fake_discord.fixtures import StartPeacebot
from tests.study_clock import FakeClock, ShiftedClock

pytestmark = pytest.mark.e2e

FACT_TITLE = "Fact of the day"


def is_fact_post(record: MessageRecord) -> bool:
    return bool(record.embeds) and record.embed.get("title") == FACT_TITLE


def fact_posts(harness: BotHarness) -> list[MessageRecord]:
    return [record for record in harness.messages if is_fact_post(record)]


def zone_far_from_midnight() -> str:
    """A zone whose local time is far from midnight now, so "today" cannot change mid-test."""
    now = datetime.now(UTC)

    def distance(name: str) -> float:
        local = now.astimezone(ZoneInfo(name))
        minutes = local.hour * 60 + local.minute
        return min(minutes, 24 * 60 - minutes)

    return max(("UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"), key=distance)


async def test_daily_post_for_the_current_minute_arrives_in_the_right_channel(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    zone = zone_far_from_midnight()
    local_now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    study = harness.world.channels["study"]

    reply = await harness.slash(
        "daily set",
        {"channel": "study", "time": local_now.strftime("%H:%M"), "timezone": zone},
        user="mod",
    )
    assert reply.ephemeral
    assert f"<#{study.id}>" in reply.content

    post = await harness.wait_for_message(is_fact_post, channel_id=study.id)
    fact = next(f for f in library.facts.values() if f.text == post.embed["description"])
    section = library.sections[fact.section]
    fields = {field["name"]: field["value"] for field in post.embed["fields"]}
    assert fields["Section"] == section.title
    assert fact.source.title in fields["Source"]
    assert post.embed.get("url") == fact.source.url
    # A button opens the fact's section (for anyone: the post belongs to nobody).
    (open_section,) = [b["custom_id"] for b in post.buttons if b["label"] == section.title]
    opened = await harness.click(open_section, post, user="alice")
    assert opened.ephemeral and opened.embed["title"] == section.title
    report = post.button("Report a mistake")  # a fact post is an answer card too
    assert report["custom_id"] == f"pb:report:{library.version}:{fact.id}"

    storage = harness.bot.storage
    assert await storage.last_daily_claim(harness.world.guild_id) == local_now.date()

    status = await harness.slash("daily status", user="alice")
    text = status.text()
    assert f"<#{study.id}>" in text and "<t:" in text and ":R>" in text
    assert f"{len(library.facts) - 1} of {len(library.facts)}" in text
    # Setting the schedule again the same day does not bring a second post.
    await harness.slash(
        "daily set",
        {"channel": "study", "time": local_now.strftime("%H:%M"), "timezone": zone},
        user="mod",
    )
    await harness.slash("daily status", user="alice")
    assert len(fact_posts(harness)) == 1
    assert all(record.channel_id == study.id for record in fact_posts(harness))


async def test_scheduler_wakes_at_the_due_minute_and_opens_a_discussion(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    daily = harness.bot.get_cog("Daily")
    assert daily is not None  # extensions load their own module copy: no isinstance
    real = datetime.now(UTC)
    target = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    # The bot's clock reads 08:59:59.7 now, so the 09:00 post is due in 0.3 s of real time.
    shift = target - timedelta(seconds=0.3) - real
    daily.scheduler.clock = ShiftedClock(shift)

    reply = await harness.slash(
        "daily set",
        {"channel": "general", "time": "09:00", "timezone": "UTC", "discussion": True},
        user="mod",
    )
    assert f"<t:{int(target.timestamp())}:F>" in reply.content
    post = await harness.wait_for_message(is_fact_post, channel_id=harness.channel.id)
    # The discussion thread is opened on the post itself, with the prompt inside it.
    prompt = await harness.wait_for_message(channel_id=post.id)
    assert prompt.embed["title"] == "Discussion"
    thread = harness.world.channel(post.id)
    assert thread is not None and thread.name.startswith(THREAD_PREFIX)
    assert await harness.bot.storage.last_daily_claim(harness.world.guild_id) == date(2024, 6, 3)


async def test_daily_set_is_refused_without_manage_server(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    reply = await harness.slash(
        "daily set", {"channel": "study", "time": "09:00", "timezone": "UTC"}, user="alice"
    )
    assert reply.ephemeral and "Manage Server" in reply.content
    settings = await harness.bot.storage.get_settings(harness.world.guild_id)
    assert not settings.daily_enabled


async def test_timezone_autocomplete(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    choices = await harness.autocomplete(
        "daily set", "timezone", "kolk", options={"channel": "study", "time": "09:00"}
    )
    assert [c["value"] for c in choices] == ["Asia/Kolkata"]


# -- quizzes -----------------------------------------------------------------------------------


def question_of(message: MessageView, library: Library) -> QuizQuestion:
    text = message.embed["description"].split("\n")[0]
    return next(q for q in library.quiz.values() if q.question == text)


def choice_id(message: MessageView, answer: str, *, right: bool) -> str:
    """The custom id of the button for the right answer (or of a wrong one)."""
    description = message.embed["description"]
    letters = [line[2] for line in description.split("\n") if line.startswith("**")]
    texts = [line.split("** ", 1)[1] for line in description.split("\n") if line.startswith("**")]
    index = next(i for i, text in enumerate(texts) if (text == answer) == right)
    assert letters[index] == "ABCDE"[index]
    return message.buttons[index]["custom_id"]


async def test_quiz_answered_by_two_members_gives_the_right_scoreboard(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    assert quiz is not None
    clock = FakeClock()
    quiz.clock, quiz.pause = clock, 0

    started = await harness.slash("quiz start", {"questions": 2}, user="alice")
    assert "2 questions" in started.content

    first = await harness.wait_for_message(lambda m: bool(m.buttons), channel_id=harness.channel.id)
    assert first.embed["title"] == "Question 1/2"
    answer = question_of(first, library).answer
    mine = await harness.click(choice_id(first, answer, right=True), first, user="alice")
    assert mine.ephemeral and "Your answer" in mine.content
    await harness.click(choice_id(first, answer, right=False), first, user="mod")
    again = await harness.click(choice_id(first, answer, right=False), first, user="alice")
    assert again.ephemeral and "already answered" in again.content

    await clock.advance_when_sleeping(30)  # time is up for question 1
    second = await harness.wait_for_message(
        lambda m: bool(m.embeds) and m.embed.get("title") == "Question 2/2", after=first
    )
    revealed = harness.fake.snapshot(first.id)
    assert revealed is not None
    shown = MessageRecord(message=revealed, body={})  # question 1 as it stands now: revealed
    assert "is right" in shown.embed["title"]
    assert "1 person" in shown.embed["description"]
    choices = [b for b in shown.buttons if b["custom_id"].startswith("pb:quiz:")]
    assert choices and all(button.get("disabled") for button in choices)
    report = shown.button("Report a mistake")  # a reveal is an answer card too
    assert report["custom_id"].endswith(f":{question_of(first, library).id}")

    answer = question_of(second, library).answer
    await harness.click(choice_id(second, answer, right=True), second, user="alice")
    await harness.click(choice_id(second, answer, right=True), second, user="mod")
    # Both players have answered: question 2 closes without waiting for its time limit.
    board = await harness.wait_for_message(
        lambda m: bool(m.embeds) and m.embed.get("title") == "Quiz results", after=second
    )
    lines = board.embed["description"].split("\n")
    assert lines == ["🥇 **Alice**: 2/2 right", "🥈 **Mod**: 1/2 right"]

    rows = await harness.bot.storage.leaderboard(harness.world.guild_id)
    assert [(row.display_name, row.answered, row.correct) for row in rows] == [
        ("Alice", 2, 2),
        ("Mod", 2, 1),
    ]
    standings = await harness.slash("leaderboard", {"period": "month"})
    assert standings.embed["description"].startswith("🥇 **Alice**: 2 right of 2 (100%) · 🔥 1 day")
    progress = await harness.slash("progress", user="mod")
    assert progress.ephemeral and "**1** right of **2**" in progress.embed["description"]


async def test_old_quiz_buttons_after_a_restart_say_the_quiz_ended(
    start_peacebot: StartPeacebot,
) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    assert quiz is not None
    quiz.clock = FakeClock()
    await harness.slash("quiz start", {"questions": 3}, user="alice")
    question = await harness.wait_for_message(
        lambda m: bool(m.buttons), channel_id=harness.channel.id
    )
    again = await harness.slash("quiz start", {}, user="mod")
    assert again.ephemeral and "already running" in again.content

    await harness.bot.reload_extension("cogs.quiz")  # the quiz is gone, its buttons are not
    reply = await harness.click(question.buttons[0]["custom_id"], question, user="mod")
    assert reply.ephemeral and "This quiz has ended" in reply.content


async def test_quiz_stop_by_starter_or_moderator_only(start_peacebot: StartPeacebot) -> None:
    harness = await start_peacebot()
    quiz = harness.bot.get_cog("Quiz")
    assert quiz is not None
    quiz.clock = FakeClock()
    await harness.slash("quiz start", {"questions": 3}, user="owner")
    await harness.wait_for_message(lambda m: bool(m.buttons), channel_id=harness.channel.id)
    refused = await harness.slash("quiz stop", user="alice")
    assert refused.ephemeral and "Only the person who started" in refused.content
    stopped = await harness.slash("quiz stop", user="mod")  # Manage Messages
    assert stopped.ephemeral
    board = await harness.wait_for_message(
        lambda m: bool(m.embeds) and m.embed.get("title") == "Quiz results",
        channel_id=harness.channel.id,
    )
    assert "stopped early" in board.embed["footer"]["text"]
    assert "1 of 3" in board.embed["footer"]["text"]


# -- discussions -------------------------------------------------------------------------------


async def test_discuss_opens_a_thread_and_taking_part_counts_for_the_streak(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    section = next(iter(library.sections.values()))
    reply = await harness.slash("discuss", {"section": section.id})
    assert not reply.ephemeral
    assert reply.embed["title"] == "Discussion"
    assert reply.message is not None
    message_id = int(reply.message["id"])

    guide = await harness.wait_for_message(channel_id=message_id)
    assert guide.content == THREAD_GUIDE
    thread = harness.world.channel(message_id)
    assert thread is not None and thread.is_thread
    assert thread.parent_id == harness.channel.id
    assert thread.name.startswith(THREAD_PREFIX)

    recorded = asyncio.ensure_future(harness.bot.wait_for("study_activity", timeout=5))
    await harness.send_message("UNMIL shows why mandates matter.", channel=thread)
    guild_id, user_id, day = await recorded
    assert (guild_id, user_id) == (harness.world.guild_id, harness.user.id)
    dates = await harness.bot.storage.activity_dates(harness.world.guild_id, harness.user.id)
    assert dates == [day]


async def test_fact_with_a_typed_section_name(
    start_peacebot: StartPeacebot, library: Library
) -> None:
    harness = await start_peacebot()
    section = library.sections["international-law"]
    reply = await harness.slash("fact", {"section": "internatonal law"})
    fact_texts = {f.text for f in library.facts.values() if f.section == section.id}
    assert reply.embed["description"] in fact_texts
    wrong = await harness.slash("fact", {"section": "zzzz qqqq"})
    assert wrong.ephemeral and "no section matches" in wrong.content
