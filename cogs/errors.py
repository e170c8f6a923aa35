"""The one error handler for prefix, hybrid and slash commands, and for buttons.

Every error becomes a short reply (ephemeral where Discord allows it); unexpected ones are
logged with their traceback. An interaction always gets an answer, through a followup when
it was already answered.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.storage import StorageBusy, StorageError
from bot.text import clean, neutralise

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again later."
ALREADY_ACKNOWLEDGED = 40060  # Discord: "Interaction has already been acknowledged"

Target = commands.Context[Any] | discord.Interaction
_WRAPPERS = (
    commands.HybridCommandError,
    commands.CommandInvokeError,
    app_commands.CommandInvokeError,
)


def unwrap(error: BaseException) -> BaseException:
    """The error that actually happened, not discord.py's wrappers around it."""
    while True:
        if isinstance(error, _WRAPPERS):
            error = error.original
        elif isinstance(error, commands.ConversionError | app_commands.TransformerError) and (
            isinstance(error.__cause__, commands.CommandError | app_commands.AppCommandError)
        ):
            error = error.__cause__
        else:
            return error


def answered_elsewhere(error: BaseException) -> bool:
    """Another process answered this interaction first. While two processes serve one shard
    (a rolling deploy), Discord delivers every interaction to both and accepts only the first
    response; the second is refused with 40060, which is no error of ours."""
    return isinstance(error, discord.HTTPException) and error.code == ALREADY_ACKNOWLEDGED


def permission_label(name: str) -> str:
    """`manage_guild` -> `Manage Server`, as Discord shows permissions to people."""
    return name.replace("guild", "server").replace("_", " ").title()


def _permission_names(names: list[str]) -> str:
    return ", ".join(permission_label(name) for name in names)


def explain(error: BaseException) -> str | None:
    """A short reply for an expected error, or None for one that is a bug or an outage."""
    cooldowns = commands.CommandOnCooldown | app_commands.CommandOnCooldown
    if isinstance(error, cooldowns):
        return f"Slow down a little: try again in {max(error.retry_after, 1):.0f} s."
    if isinstance(error, commands.MaxConcurrencyReached):
        return "That command is busy right now; try again in a moment."
    if isinstance(error, commands.MissingPermissions | app_commands.MissingPermissions):
        return f"You need the {_permission_names(error.missing_permissions)} permission for that."
    if isinstance(error, commands.BotMissingPermissions | app_commands.BotMissingPermissions):
        needed = _permission_names(error.missing_permissions)
        return f"I need the {needed} permission in this channel for that."
    if isinstance(error, commands.NotOwner):
        return "Only the bot's owner can use that command."
    if isinstance(error, commands.NoPrivateMessage | app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, commands.PrivateMessageOnly):
        return "That command only works in direct messages."
    if isinstance(error, commands.DisabledCommand):
        return "That command is turned off."
    if isinstance(error, commands.MissingRequiredArgument):
        return f"Missing `{error.param.name}`. See `/help` for how to use the command."
    if isinstance(error, commands.TooManyArguments):
        return "Too many arguments. See `/help` for how to use the command."
    if isinstance(error, commands.UserInputError | app_commands.TransformerError):
        # discord.py's messages may quote what the user typed: make that inert.
        return f"That doesn't look right: {neutralise(clean(str(error), 300))}"
    if isinstance(error, commands.CheckFailure | app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return "That command has changed since your app loaded it; try again in a minute."
    if isinstance(error, StorageBusy):
        return "The database is busy right now. Nothing was changed; try again in a moment."
    if isinstance(error, StorageError):
        return "I couldn't save that: the database is busy or full. Nothing was changed; try again."
    return None


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer privately, whether or not the interaction has been answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # expired interaction, or Discord is down
        if answered_elsewhere(exc):
            log.debug("interaction %s was answered by another process", interaction.id)
            return
        log.warning("could not send an error reply to interaction %s: %s", interaction.id, exc)


async def reply(target: Target, text: str) -> None:
    """Send an error reply to a command context (prefix or hybrid) or an interaction."""
    if not isinstance(target, commands.Context):
        await send_ephemeral(target, text)
    elif target.interaction is not None:
        await send_ephemeral(target.interaction, text)
    else:
        try:
            await target.send(text)
        except discord.HTTPException as exc:  # e.g. no permission to write in the channel
            log.warning("could not send an error reply in channel %s: %s", target.channel.id, exc)


async def report(target: Target, error: BaseException, *, where: str = "") -> None:
    """Handle `error`: reply to the user, and log it with a traceback if it was unexpected."""
    original = unwrap(error)
    if answered_elsewhere(original):
        # Another process serving the same shard answered first: it also does the work, so
        # this one stops here, quietly (a followup now would reach the user).
        log.debug("%s was answered by another process", _describe(target))
        return
    if isinstance(original, discord.Forbidden) and _is_prefix(target):
        # A prefix command where the bot may not write: no reply can get through either, and
        # there is nothing to fix in our code, so no traceback on every attempt.
        channel = target.channel.id if isinstance(target, commands.Context) else "?"
        log.info("cannot answer %s in channel %s: %s", _describe(target), channel, original.text)
        return
    text = explain(original)
    if text is None:
        log.error(
            "unexpected error in %s",
            where or _describe(target),
            exc_info=(type(original), original, original.__traceback__),
        )
        text = UNEXPECTED
    await reply(target, text)


def _is_prefix(target: Target) -> bool:
    return isinstance(target, commands.Context) and target.interaction is None


def _describe(target: Target) -> str:
    if isinstance(target, commands.Context):
        name = target.command.qualified_name if target.command else target.invoked_with
        return f"command {name!r}"
    command = target.command.qualified_name if target.command else "a component"
    return f"/{command} (interaction {target.id})"


class ErrorHandler(commands.Cog):
    """Routes every command error to `report`; installs itself as the app command tree's
    error handler too, so pure slash commands (not only hybrid ones) are covered."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous_tree_handler = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.error(self.on_app_command_error)

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_tree_handler  # type: ignore[method-assign]

    @commands.Cog.listener()
    async def on_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        if isinstance(error, commands.CommandNotFound):
            # Not an error to report: `cogs.meta` may offer the command that was meant.
            self.bot.dispatch("unknown_command", ctx)
            return
        if ctx.command is not None and ctx.command.has_error_handler():
            return  # the command handles its own errors
        if ctx.cog is not None and ctx.cog.has_error_handler():
            return
        await report(ctx, error)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command
        if isinstance(command, app_commands.Command) and command.on_error is not None:
            return  # the command handles its own errors
        await report(interaction, error)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
