"""The one error handler: a short reply for every kind of error, and no silent interaction."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.client import PeacebotBot
from bot.content import Library
from bot.storage import StorageError
from cogs.errors import UNEXPECTED, explain, report, unwrap
from tests._cog_fakes import FakeContext, FakeInteraction, close_bot, make_bot


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library)
    yield made
    await close_bot(made)


_TERM = commands.Parameter("term", inspect.Parameter.KEYWORD_ONLY)


def _cooldown() -> commands.CommandOnCooldown:
    return commands.CommandOnCooldown(commands.Cooldown(1, 30), 12.4, commands.BucketType.user)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_cooldown(), "try again in 12 s"),
        (app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 3.0), "try again in 3 s"),
        (commands.MissingPermissions(["manage_guild"]), "Manage Server permission"),
        (app_commands.MissingPermissions(["manage_guild"]), "Manage Server permission"),
        (commands.BotMissingPermissions(["embed_links"]), "I need the Embed Links"),
        (commands.NotOwner(), "bot's owner"),
        (commands.NoPrivateMessage(), "only works in a server"),
        (app_commands.NoPrivateMessage("x"), "only works in a server"),
        (commands.MissingRequiredArgument(_TERM), "Missing `term`"),
        (commands.BadArgument('Member "@everyone" not found'), "doesn't look right"),
        (commands.CheckFailure(), "can't use that command here"),
        (app_commands.CheckFailure(), "can't use that command here"),
        (commands.DisabledCommand(), "turned off"),
        (StorageError("database error: database is locked"), "database is busy or full"),
    ],
)
def test_each_expected_error_gets_its_own_short_reply(error: Exception, expected: str) -> None:
    text = explain(error)
    assert text is not None and expected in text
    assert len(text) < 400


def test_user_text_quoted_in_an_error_is_inert() -> None:
    text = explain(commands.BadArgument('Member "@everyone <@&5>" not found'))
    assert text is not None
    assert "@everyone" not in text and "<@&5>" not in text


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("x"), commands.CommandError()])
def test_unexpected_errors_have_no_canned_reply(error: Exception) -> None:
    assert explain(error) is None


def test_wrappers_are_unwrapped() -> None:
    inner = app_commands.MissingPermissions(["manage_guild"])
    assert unwrap(commands.HybridCommandError(inner)) is inner
    boom = RuntimeError("boom")
    assert unwrap(commands.CommandInvokeError(boom)) is boom


async def test_a_fresh_interaction_gets_an_ephemeral_response(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot)
    await report(interaction, app_commands.MissingPermissions(["manage_guild"]))  # type: ignore[arg-type]
    (sent,) = interaction.response.sent
    assert sent.kwargs["ephemeral"] is True and "Manage Server" in (sent.content or "")


async def test_an_answered_interaction_gets_a_followup(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, answered=True)
    await report(interaction, RuntimeError("late failure"))  # type: ignore[arg-type]
    (sent,) = interaction.followup.sent
    assert sent.content == UNEXPECTED and sent.kwargs["ephemeral"] is True


async def test_unexpected_errors_are_logged_with_their_traceback(
    bot: PeacebotBot, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = FakeContext(bot, command=bot.get_command("define"))
    try:
        raise ValueError("bug in a cog")
    except ValueError as exc:
        wrapped = commands.CommandInvokeError(exc)
    with caplog.at_level(logging.ERROR, logger="cogs.errors"):
        await report(ctx, wrapped)
    assert [s.content for s in ctx.sent] == [UNEXPECTED]
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[1].args == ("bug in a cog",)
    assert "define" in record.getMessage()


async def test_expected_errors_are_not_logged_as_errors(
    bot: PeacebotBot, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = FakeContext(bot)
    with caplog.at_level(logging.ERROR):
        await report(ctx, _cooldown())
    assert not caplog.records
    assert "Slow down" in (ctx.sent[0].content or "")


class _Rejecting(FakeInteraction):
    async def _fail(self, *args: object, **kwargs: object) -> None:
        raise discord.NotFound(_Response(), "Unknown interaction")


class _Response:
    status = 404
    reason = "Not Found"


async def test_a_reply_that_cannot_be_sent_does_not_raise(bot: PeacebotBot) -> None:
    interaction = _Rejecting(bot)
    interaction.response.send_message = interaction._fail  # type: ignore[method-assign]
    await report(interaction, RuntimeError("x"))  # type: ignore[arg-type]


async def test_prefix_and_hybrid_errors_go_through_the_listener(bot: PeacebotBot) -> None:
    ctx = FakeContext(bot, command=bot.get_command("stats"))
    handler = bot.get_cog("ErrorHandler")
    await handler.on_command_error(ctx, commands.MissingPermissions(["manage_guild"]))  # type: ignore[union-attr]
    assert "Manage Server" in (ctx.sent[0].content or "")


async def test_slash_errors_go_through_the_tree(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot)
    await bot.tree.on_error(interaction, app_commands.CheckFailure())  # type: ignore[arg-type]
    assert "can't use" in (interaction.response.sent[0].content or "")
    await bot.unload_extension("cogs.errors")
    assert bot.tree.on_error.__name__ == "on_error"  # the default handler is back


async def test_a_command_with_its_own_handler_is_left_alone(bot: PeacebotBot) -> None:
    @commands.command(name="special")
    async def special(ctx: commands.Context[Any]) -> None:
        pass

    @special.error
    async def special_error(ctx: commands.Context[Any], error: Exception) -> None:
        pass

    bot.add_command(special)
    ctx = FakeContext(bot, command=special)
    await bot.get_cog("ErrorHandler").on_command_error(ctx, commands.CheckFailure())  # type: ignore[union-attr]
    assert ctx.sent == []
