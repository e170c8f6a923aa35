"""help, about, and "did you mean" for mistyped prefix commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.client import PeacebotBot
from bot.content import Library
from tests._cog_fakes import OWNER_ID, FakeContext, close_bot, make_bot


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library)
    yield made
    await close_bot(made)


async def call(bot: PeacebotBot, name: str, ctx: FakeContext, **kwargs: Any) -> None:
    command = bot.get_command(name)
    assert command is not None
    ctx.command = command
    await command.callback(command.cog, ctx, **kwargs)  # type: ignore[misc]


async def help_text(bot: PeacebotBot, **ctx_options: Any) -> str:
    ctx = FakeContext(bot, **ctx_options)
    await call(bot, "help", ctx)
    (sent,) = ctx.sent
    assert sent.embed is not None and sent.kwargs["ephemeral"] is True
    return sent.embed.description or ""


async def test_help_lists_each_command_with_its_description(bot: PeacebotBot) -> None:
    text = await help_text(bot, permissions=discord.Permissions(manage_guild=True))
    lines = text.splitlines()
    for name in ("define", "section", "search", "help", "about", "stats"):
        (line,) = [line for line in lines if line.startswith((f"`/{name}`", f"`/{name} "))]
        description = bot.get_command(name).description  # type: ignore[union-attr]
        assert line.endswith(f"— {description}")
    assert "`/define <term>`" in text


async def test_help_hides_what_the_user_may_not_run(bot: PeacebotBot) -> None:
    text = await help_text(bot)
    assert "/stats" not in text  # needs Manage Server
    assert "/reload" not in text  # bot owner only
    owner_text = await help_text(bot, user_id=OWNER_ID)
    assert "/reload" in owner_text


async def test_about_shows_counts_sources_and_version(bot: PeacebotBot) -> None:
    ctx = FakeContext(bot)
    await call(bot, "about", ctx)
    embed = ctx.sent[0].embed
    assert embed is not None
    assert "**7** glossary terms" in (embed.description or "")
    assert embed.footer.text == f"peacebot {bot.version} · content version {bot.library.version}"
    assert embed.fields[0].name.startswith("Sources")


# -- mistyped prefix commands -------------------------------------------------------------------


async def unknown(bot: PeacebotBot, typed: str, rest: str, **ctx_options: Any) -> FakeContext:
    ctx = FakeContext(bot, invoked_with=typed, rest=rest, **ctx_options)
    meta = bot.get_cog("Meta")
    await meta.on_unknown_command(ctx)  # type: ignore[union-attr]
    return ctx


async def test_several_close_commands_are_only_listed(bot: PeacebotBot) -> None:
    # "sectoin" is close to both `section` and `sections`
    ctx = await unknown(bot, "sectoin", " law")
    (hint,) = ctx.sent
    assert hint.content is not None and hint.content.startswith("Did you mean ")
    assert "`!section`" in hint.content and "`!sections`" in hint.content


async def test_nothing_close_gets_no_reply(bot: PeacebotBot) -> None:
    ctx = await unknown(bot, "hello", " there")
    assert ctx.sent == []


async def test_a_command_the_user_may_not_run_is_never_suggested(bot: PeacebotBot) -> None:
    ctx = await unknown(bot, "relaod", "")
    assert ctx.sent == []
    ctx = await unknown(bot, "stast", "")
    assert ctx.sent == []


async def test_unknown_prefix_commands_reach_meta(bot: PeacebotBot) -> None:
    ctx = FakeContext(bot, invoked_with="sectoin", rest=" law")
    waiter = asyncio.ensure_future(bot.wait_for("unknown_command", timeout=5))
    await asyncio.sleep(0)
    bot.dispatch("command_error", ctx, commands.CommandNotFound('Command "sectoin" is not found'))
    assert await waiter is ctx
    for _ in range(20):  # let the listeners scheduled by dispatch run
        await asyncio.sleep(0)
    assert [s.content for s in ctx.sent] == ["Did you mean `!section` or `!sections`?"]


async def test_help_lists_groups_as_discord_shows_them(bot: PeacebotBot) -> None:
    text = await help_text(bot)
    assert "`/quiz start [questions] [section]`" in text
    assert "`/quiz stop`" in text
    assert "`/daily status`" in text
    assert "/daily set" not in text  # needs Manage Server
    manager = await help_text(bot, permissions=discord.Permissions(manage_guild=True))
    assert "`/daily set <channel> <time>" in manager
