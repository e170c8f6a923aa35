"""`help`, `about`, and "did you mean" for mistyped prefix commands."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import fuzz, process, utils

from bot.answers import Card
from bot.text import clean, truncate
from cogs._ui import answer_message, card_to_embed, log_context

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

HELP_COLOUR = 0x3B6EA5
DESCRIPTION_MAX = 4096
# How close a mistyped command name must be (rapidfuzz ratio, 0-100) to be offered.
TYPO_CUTOFF = 75.0
CONTENT_MAX = 2000  # Discord's limit for a message's text


class CorrectedContext(commands.Context[Any]):
    """A mistyped prefix command run as the one that was meant: its first reply says which,
    so the member gets one message, not a "did you mean" and then the answer."""

    note = ""

    async def send(self, content: str | None = None, **kwargs: Any) -> discord.Message:  # type: ignore[override]
        note, self.note = self.note, ""
        if note:
            joined = f"{note}\n{content}" if content else note
            content = joined if len(joined) <= CONTENT_MAX else content
        return await super().send(content, **kwargs)


class Meta(commands.Cog):
    """About the bot itself."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot

    @commands.hybrid_command(name="help", description="List the commands and what they do")
    async def help(self, ctx: commands.Context[Any]) -> None:
        lines = [line for command in self._listed() for line in await self._lines(ctx, command)]
        text = "\n".join(line for line in lines if line)
        footer = None
        if self.bot.config.prefix:
            footer = f"Commands also work with the prefix {self.bot.config.prefix}, e.g. " + (
                f"{self.bot.config.prefix}define mandate"
            )
        card = Card(
            title="peacebot commands",
            description=truncate(text, DESCRIPTION_MAX),
            fields=(),
            footer=footer,
            url=None,
            colour=HELP_COLOUR,
        )
        await ctx.send(embed=card_to_embed(card), ephemeral=True)

    @commands.hybrid_command(
        name="about", description="What the bot knows: counts, sources, version"
    )
    async def about(self, ctx: commands.Context[Any]) -> None:
        started = time.perf_counter()
        answer = self.bot.librarian.about()
        first = answer.pages[0]  # the core knows the content's version; add the bot's own
        footer = " · ".join(filter(None, (f"peacebot {self.bot.version}", first.footer)))
        answer = replace(answer, pages=(replace(first, footer=footer), *answer.pages[1:]))
        await ctx.send(**answer_message(answer, ctx.author.id))
        log_context(ctx, "about", "", answer, started)

    # -- help -------------------------------------------------------------------------------

    def _listed(self) -> list[commands.Command[Any, ..., Any] | app_commands.AppCommand | Any]:
        """Prefix/hybrid commands, then slash-only commands, each once, sorted by name."""
        listed: dict[str, Any] = {c.name: c for c in self.bot.commands if not c.hidden}
        for app_command in self.bot.tree.get_commands():
            listed.setdefault(app_command.name, app_command)
        return [listed[name] for name in sorted(listed)]

    async def _lines(self, ctx: commands.Context[Any], command: Any) -> list[str | None]:
        """A group is listed as its sub-commands, as Discord shows them (`/quiz start`)."""
        if not isinstance(command, commands.Group):
            return [await self._line(ctx, command)]
        lines = []
        fallback = getattr(command, "fallback", None)
        if fallback:
            lines.append(await self._line(ctx, command, f"{command.name} {fallback}"))
        for sub in sorted(command.commands, key=lambda c: c.name):
            lines.append(await self._line(ctx, sub, sub.qualified_name))
        return lines

    async def _line(
        self, ctx: commands.Context[Any], command: Any, name: str | None = None
    ) -> str | None:
        if isinstance(command, commands.Command):
            try:
                if not await command.can_run(ctx):
                    return None
            except commands.CommandError:
                return None  # never show a command the user may not run
            usage = f"{name or command.name} {command.signature}".strip()
            summary = command.description or command.short_doc
        else:
            needed = getattr(command, "default_permissions", None)
            if needed is not None and not ctx.permissions >= needed:
                return None
            usage = command.name
            summary = getattr(command, "description", "")
        sub = getattr(command, "commands", None)
        if sub and name is None:
            usage += " (" + ", ".join(sorted(c.name for c in sub)) + ")"
        return f"`/{usage}` — {summary}"

    # -- mistyped prefix commands -----------------------------------------------------------

    @commands.Cog.listener()
    async def on_unknown_command(self, ctx: commands.Context[Any]) -> None:
        """`!defien mandate` runs `!define mandate` when only one command is close, its answer
        saying so; several close ones are listed ("Did you mean `!section` or `!sections`?")."""
        typed = ctx.invoked_with
        if not typed or ctx.interaction is not None:
            return
        candidates = await self._runnable_names(ctx)
        found = process.extract(
            typed,
            list(candidates),
            scorer=fuzz.ratio,
            processor=utils.default_process,
            score_cutoff=TYPO_CUTOFF,
            limit=None,
        )
        meant: list[commands.Command[Any, ..., Any]] = []
        for name, _score, _index in found:
            if candidates[name] not in meant:
                meant.append(candidates[name])
        if not meant:
            return
        prefix = ctx.clean_prefix
        if len(meant) > 1:
            options = " or ".join(f"`{prefix}{c.name}`" for c in meant[:3])
            await ctx.send(f"Did you mean {options}?")
            return
        command = meant[0]
        corrected = CorrectedContext(
            message=ctx.message,
            bot=ctx.bot,
            view=ctx.view,  # already past the mistyped name: the arguments follow
            args=[],
            kwargs={},
            prefix=ctx.prefix,
            command=command,
            invoked_with=command.name,
        )
        # What was typed is close to a command name, but it is still the member's text.
        shown = clean(typed, 32).replace("`", "'")
        corrected.note = f"(`{prefix}{shown}` → `{prefix}{command.name}`)"
        await self.bot.invoke(corrected)

    async def _runnable_names(self, ctx: commands.Context[Any]) -> dict[str, Any]:
        names: dict[str, Any] = {}
        for command in self.bot.commands:
            if command.hidden:
                continue
            try:
                if not await command.can_run(ctx):
                    continue
            except commands.CommandError:
                continue
            for name in (command.name, *command.aliases):
                names[name] = command
        return names


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Meta(bot))
