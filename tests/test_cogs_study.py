"""Unit tests for the daily, quiz and discuss cogs: callbacks called directly with small fakes
(tests/_cog_fakes.py) on a real, unconnected PeacebotBot with an in-memory database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.client import PeacebotBot
from bot.content import Library
from bot.daily import DailyPostProblem
from bot.storage import GuildSettings
from cogs._permissions import POST, THREADS, missing_permissions
from cogs._study import SectionArgument, SectionNotFound, resolve_section
from cogs.daily import Daily
from cogs.discuss import NO_THREADS, Discuss
from cogs.pictures import UNDRAWN, Pictures
from cogs.quiz import ENDED, Quiz
from tests._cog_fakes import GUILD_ID, FakeContext, FakeInteraction, close_bot, make_bot
from tests.study_clock import FakeClock, FakeWallClock

POSTING = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
MANAGE = discord.Permissions(manage_guild=True)


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    bot = await make_bot(small_library, extensions=("cogs._ui", "cogs.errors"))
    yield bot
    await close_bot(bot)


async def add(bot: PeacebotBot, cog: commands.Cog) -> Any:
    # Added directly (not as extensions) so the classes here are the ones in use.
    await bot.add_cog(cog)
    return cog


def text_channel(permissions: discord.Permissions, channel_id: int = 4040) -> SimpleNamespace:
    return SimpleNamespace(
        id=channel_id, mention=f"<#{channel_id}>", permissions_for=lambda _who: permissions
    )


def in_guild(ctx: FakeContext) -> FakeContext:
    me = SimpleNamespace(id=1)
    ctx.guild = SimpleNamespace(id=GUILD_ID, owner_id=0, me=me)  # type: ignore[misc]
    return ctx


# -- /daily ------------------------------------------------------------------------------------


def test_missing_permissions_names_them_as_discord_does() -> None:
    guild = SimpleNamespace(me=SimpleNamespace(id=1))
    channel = text_channel(POSTING)
    assert missing_permissions(channel, guild) == []
    assert missing_permissions(channel, guild, POST + THREADS) == [
        "Create Public Threads",
        "Send Messages In Threads",
    ]
    assert missing_permissions(text_channel(discord.Permissions(view_channel=True)), guild) == [
        "Send Messages",
        "Embed Links",
    ]
    assert missing_permissions(channel, None) == []  # a direct message: nothing to lack


async def test_daily_set_refuses_a_channel_it_cannot_post_in(bot: PeacebotBot) -> None:
    daily = await add(bot, Daily(bot))
    ctx = in_guild(FakeContext(bot, permissions=MANAGE))
    channel = text_channel(discord.Permissions(view_channel=True, send_messages=True))
    await daily.daily_set.callback(daily, ctx, channel, "09:00", "Europe/London", True)
    (reply,) = ctx.sent
    assert "Embed Links, Create Public Threads, Send Messages In Threads" in (reply.content or "")
    assert "Nothing was changed" in (reply.content or "")
    assert not (await bot.storage.get_settings(GUILD_ID)).daily_enabled


async def test_daily_set_saves_and_answers_with_the_next_post(bot: PeacebotBot) -> None:
    daily = await add(bot, Daily(bot))
    daily.scheduler.clock = FakeWallClock(datetime(2024, 1, 15, 0, 0, tzinfo=UTC))  # 05:30 IST
    ctx = in_guild(FakeContext(bot, permissions=MANAGE))
    await daily.daily_set.callback(daily, ctx, text_channel(POSTING), "7:30", "Asia/Kolkata", False)
    settings = await bot.storage.get_settings(GUILD_ID)
    assert (settings.daily_channel_id, settings.daily_time, settings.timezone) == (
        4040,
        "07:30",
        "Asia/Kolkata",
    )
    assert settings.daily_enabled and not settings.daily_discussion
    (reply,) = ctx.sent
    assert "<#4040> at 07:30 (Asia/Kolkata)" in (reply.content or "")
    assert f"<t:{int(datetime(2024, 1, 15, 2, 0, tzinfo=UTC).timestamp())}:F>" in (
        reply.content or ""
    )
    assert reply.kwargs.get("ephemeral") is True
    # Set after today's time has passed: today's fact is posted straight away.
    daily.scheduler.clock = FakeWallClock(datetime(2024, 1, 15, 3, 0, tzinfo=UTC))  # 08:30 IST
    later = in_guild(FakeContext(bot, permissions=MANAGE))
    await daily.daily_set.callback(
        daily, later, text_channel(POSTING), "7:30", "Asia/Kolkata", False
    )
    assert "Next: now" in (later.sent[0].content or "")


@pytest.mark.parametrize(("time", "zone"), [("25:00", "UTC"), ("09:00", "Mars/Olympus")])
async def test_daily_set_rejects_bad_time_or_zone(bot: PeacebotBot, time: str, zone: str) -> None:
    daily = await add(bot, Daily(bot))
    ctx = in_guild(FakeContext(bot, permissions=MANAGE))
    with pytest.raises(commands.BadArgument):
        await daily.daily_set.callback(daily, ctx, text_channel(POSTING), time, zone, False)


async def test_daily_status_shows_the_last_problem(bot: PeacebotBot) -> None:
    daily = await add(bot, Daily(bot))
    # Any wall-clock time would do; this one is before the 09:00 post, so it is still to come.
    daily.scheduler.clock = FakeWallClock(datetime(2024, 1, 15, 6, 0, tzinfo=UTC))
    await daily.scheduler.configure(GUILD_ID, 4040, "09:00", "UTC", False)
    await bot.storage.set_daily_problem(GUILD_ID, "The daily channel no longer exists.")
    ctx = in_guild(FakeContext(bot))
    await daily.daily_status.callback(daily, ctx)
    embed = ctx.sent[0].embed
    assert embed is not None
    fields = {field.name: field.value for field in embed.fields}
    assert fields["⚠ Last problem"] == "The daily channel no longer exists."
    assert fields["Channel"] == "<#4040>"
    assert fields["Facts left in the deck"].startswith(f"{len(bot.library.facts)} of")
    stamp = int(datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp())
    assert fields["Next post"] == (
        f"Mon 15 Jan 2024, 09:00 UTC server time\n<t:{stamp}:F> (<t:{stamp}:R>) your time"
    )
    assert ctx.deferred  # answered at once, before storage was read


async def test_a_deleted_channel_is_a_daily_problem(
    bot: PeacebotBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = await add(bot, Daily(bot))

    async def gone(channel_id: int) -> None:
        response = SimpleNamespace(status=404, reason="Not Found")
        raise discord.NotFound(response, {"message": "Unknown Channel", "code": 10003})  # type: ignore[arg-type]

    monkeypatch.setattr(bot, "fetch_channel", gone)
    settings = GuildSettings(guild_id=GUILD_ID, daily_channel_id=4040, daily_enabled=True)
    with pytest.raises(DailyPostProblem, match="no longer exists"):
        await daily.send_daily(settings, next(iter(bot.library.facts)))


async def test_daily_now_without_a_channel_says_so(bot: PeacebotBot) -> None:
    daily = await add(bot, Daily(bot))
    ctx = in_guild(FakeContext(bot, permissions=MANAGE))
    await daily.daily_now.callback(daily, ctx)
    assert "/daily set" in (ctx.sent[0].content or "")


# -- sections ----------------------------------------------------------------------------------


def test_section_arguments_are_re_resolved(bot: PeacebotBot) -> None:
    assert resolve_section(bot, None) is None
    assert resolve_section(bot, "  ") is None
    law = bot.library.sections["international-law"]
    assert resolve_section(bot, "international-law") is law  # an autocomplete pick
    assert resolve_section(bot, "International law") is law  # an alias
    assert resolve_section(bot, "internatonal laws") is law  # a typo
    with pytest.raises(SectionNotFound, match="no section matches"):
        resolve_section(bot, "chapter-vii")  # a term's id is not a section
    with pytest.raises(SectionNotFound):
        resolve_section(bot, "qqqq zzzz")


async def test_the_section_converter_reresolves_what_arrives(bot: PeacebotBot) -> None:
    ctx = FakeContext(bot)
    law = bot.library.sections["international-law"]
    assert await SectionArgument().convert(ctx, "international-law") is law
    assert await SectionArgument().convert(ctx, "legal rules") is law
    with pytest.raises(commands.BadArgument, match="no section matches"):
        await SectionArgument().convert(ctx, "@everyone")


# -- /quiz -------------------------------------------------------------------------------------


async def test_a_click_with_no_running_quiz_says_it_ended(bot: PeacebotBot) -> None:
    quiz = await add(bot, Quiz(bot))
    interaction = FakeInteraction(bot)
    await quiz.on_choice(interaction, "0123abcd", 0, 1)
    (reply,) = interaction.replies
    assert reply.content == ENDED and reply.kwargs.get("ephemeral") is True


async def test_quiz_stop_without_a_quiz(bot: PeacebotBot) -> None:
    quiz = await add(bot, Quiz(bot))
    ctx = in_guild(FakeContext(bot))
    await quiz.quiz_stop.callback(quiz, ctx)
    assert "No quiz is running" in (ctx.sent[0].content or "")


class FakeChannel:
    """Where a quiz posts: records messages, which can then be edited."""

    def __init__(self) -> None:
        self.id = 8080
        self.posted: list[tuple[dict[str, Any], Posted]] = []
        self.arrived = asyncio.Event()

    async def send(self, content: str | None = None, **kwargs: Any) -> Posted:
        message = Posted()
        self.posted.append(({"content": content, **kwargs}, message))
        self.arrived.set()
        return message

    def permissions_for(self, _who: Any) -> discord.Permissions:
        return POSTING


async def test_quiz_start_posts_a_question_and_blocks_a_second_quiz(bot: PeacebotBot) -> None:
    quiz = await add(bot, Quiz(bot))
    quiz.clock = FakeClock()
    channel = FakeChannel()
    ctx = in_guild(FakeContext(bot))
    ctx.channel = channel  # type: ignore[misc]
    law = bot.library.sections["international-law"]
    await quiz.quiz.callback(quiz, ctx, 2, section=law)
    assert "on International Laws Governing Peace Missions: 1 question" in (
        ctx.sent[0].content or ""
    )
    await asyncio.wait_for(channel.arrived.wait(), timeout=5)
    sent, _ = channel.posted[0]
    assert sent["embed"].title == "Question 1/1"
    labels = [item.item.label for item in sent["view"].children]
    assert [label[:3] for label in labels] == ["A. ", "B. ", "C. "]
    assert sorted(label[3:] for label in labels) == ["Article 41", "Article 42", "Article 51"]
    second = in_guild(FakeContext(bot))
    second.channel = channel  # type: ignore[misc]
    await quiz.quiz.callback(quiz, second, None, section=None)
    assert "already running" in (second.sent[0].content or "")
    quiz.registry.cancel_all()


async def test_progress_of_someone_who_never_played_in_words_without_a_picture(
    bot: PeacebotBot,
) -> None:
    pictures = await add(bot, Pictures(bot))  # the bot's picture workers are not started
    ctx = in_guild(FakeContext(bot))
    await pictures.progress.callback(pictures, ctx)
    assert ctx.deferred
    (sent,) = ctx.sent
    card, *words = sent.kwargs["embeds"]
    assert "No quiz answers yet" in card.description and UNDRAWN in card.description
    assert "Study streak: **0** days" in card.description
    assert card.fields[0].name == "Exams" and "No exams yet" in card.fields[0].value
    assert "no activity yet" in "\n".join(w.description for w in words)
    assert "file" not in sent.kwargs


# -- /discuss and /fact ------------------------------------------------------------------------


class Posted:
    def __init__(self) -> None:
        self.edits: list[dict[str, Any]] = []

    async def edit(self, **kwargs: Any) -> None:
        self.edits.append(kwargs)


async def test_discuss_where_threads_are_not_possible_says_so(bot: PeacebotBot) -> None:
    discuss = await add(bot, Discuss(bot))
    ctx = in_guild(FakeContext(bot))  # its channel is not a text channel that allows threads
    law = bot.library.sections["international-law"]
    await discuss.discuss.callback(discuss, ctx, section=law)
    embed = ctx.sent[0].embed
    assert embed is not None and embed.title == "Discussion"
    assert embed.footer.text == NO_THREADS


async def test_discuss_in_a_direct_message_has_no_note(bot: PeacebotBot) -> None:
    discuss = await add(bot, Discuss(bot))
    ctx = FakeContext(bot, guild_id=None)
    await discuss.discuss.callback(discuss, ctx, section=None)
    embed = ctx.sent[0].embed
    assert embed is not None and embed.footer.text != NO_THREADS


async def test_fact_of_a_section(bot: PeacebotBot) -> None:
    discuss = await add(bot, Discuss(bot))
    ctx = in_guild(FakeContext(bot))
    await discuss.fact.callback(
        discuss, ctx, section=bot.library.sections["successes-case-studies"]
    )
    embed = ctx.sent[0].embed
    texts = {f.text for f in bot.library.facts.values() if f.section == "successes-case-studies"}
    assert embed is not None and embed.description in texts


async def test_leaderboard_by_section_and_month_with_streaks(bot: PeacebotBot) -> None:
    quiz = await add(bot, Quiz(bot))
    storage = bot.storage
    today = datetime.now(UTC).date()
    long_ago = today - timedelta(days=400)
    answers = [
        (1, "Old Hand", "q-1", "international-law", True, long_ago),
        (2, "Newcomer", "q-1", "international-law", True, today),
        (2, "Newcomer", "q-2", "international-law", False, today),
        (3, "Elsewhere", "q-3", "successes-case-studies", True, today),
    ]
    for user_id, name, question, section, correct, day in answers:
        await storage.record_answer(GUILD_ID, user_id, name, question, section, correct, day)
    law = bot.library.sections["international-law"]

    ctx = in_guild(FakeContext(bot))
    await quiz.leaderboard.callback(quiz, ctx, "month", section=law)
    embed = ctx.sent[0].embed
    assert embed is not None
    assert embed.title == f"Leaderboard: {law.title}, {today.strftime('%B %Y')}"
    assert (embed.description or "").splitlines() == [
        "🥇 **Newcomer**: 1 right of 2 (50%) · 🔥 1 day"
    ]

    ctx = in_guild(FakeContext(bot))
    await quiz.leaderboard.callback(quiz, ctx, None, section=None)
    lines = (ctx.sent[0].embed.description or "").splitlines()  # type: ignore[union-attr]
    # Equal scores: fewer attempts (better accuracy) first, then by name.
    assert [line.split("**")[1] for line in lines] == ["Elsewhere", "Old Hand", "Newcomer"]
    assert "🔥 1 day" in lines[0]
    assert "🔥" not in lines[1]  # an old streak is not a current one
