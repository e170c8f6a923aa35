"""`define`, `section`, `search`, `sections` and `terms`: one hybrid command each, serving
`/name` and `!name`. The first three share the engine's one answer path; the last two browse."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import Answer
from bot.content import Section
from bot.text import clean
from cogs._study import section_autocomplete, section_parameter
from cogs._ui import answer_message, autocomplete_choices, log_context
from cogs.errors import answered_elsewhere

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

QUERY_MAX = 200  # longer input is cut; no name in the guide is near this long
SEARCH_MAX = QUERY_MAX  # results fit one page; a longer query could not be paged from a button

TERMS = frozenset({"term"})
SECTIONS = frozenset({"section"})
NAMED = frozenset({"term", "section"})

# Each command may be used this often per user before the error handler asks them to slow down.
RATE, PER = 10, 30.0
TERMS_SECTION = section_parameter("Only the terms of this section (default: all)")


class Letter(commands.Converter[str]):
    """One letter, A to Z: the first letter of the glossary terms to list."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> str:
        letter = clean(argument, 2).strip().casefold()
        if len(letter) != 1 or not ("a" <= letter <= "z"):
            raise commands.BadArgument("the letter must be one letter, A to Z.")
        return letter


class Lookup(commands.Cog):
    """Look things up in the study guide."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot

    # -- autocomplete: only a suggestion; the commands re-resolve whatever they receive -------

    async def term_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return autocomplete_choices(self.bot, current, TERMS)

    async def section_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return autocomplete_choices(self.bot, current, SECTIONS)

    async def entry_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return autocomplete_choices(self.bot, current, NAMED)

    # -- commands ---------------------------------------------------------------------------

    @commands.hybrid_command(name="define", description="Define a term from the study guide")
    @app_commands.describe(term="The term, e.g. Chapter VII or ROE")
    @app_commands.autocomplete(term=term_choices)
    @commands.cooldown(RATE, PER, commands.BucketType.user)
    async def define(self, ctx: commands.Context[Any], *, term: str) -> None:
        started = time.perf_counter()
        query = clean(term, QUERY_MAX)
        answer = self.picked(query, TERMS) or self.bot.librarian.define(query)
        await self.send(ctx, "define", query, answer, started)

    @commands.hybrid_command(name="section", description="Summarise a section of the study guide")
    @app_commands.describe(name="The section, e.g. international law")
    @app_commands.autocomplete(name=section_choices)
    @commands.cooldown(RATE, PER, commands.BucketType.user)
    async def section(self, ctx: commands.Context[Any], *, name: str) -> None:
        started = time.perf_counter()
        query = clean(name, QUERY_MAX)
        answer = self.picked(query, SECTIONS) or self.bot.librarian.section(query)
        await self.send(ctx, "section", query, answer, started)

    @commands.hybrid_command(name="search", description="Search the whole study guide")
    @app_commands.describe(question="A few words or a short question, e.g. who authorised UNMIL")
    @app_commands.autocomplete(question=entry_choices)
    @commands.cooldown(RATE, PER, commands.BucketType.user)
    async def search(self, ctx: commands.Context[Any], *, question: str) -> None:
        started = time.perf_counter()
        query = clean(question, SEARCH_MAX)
        picked = self.picked(query, NAMED)
        if picked is not None:
            await self.send(ctx, "search", query, picked, started)
        else:
            answer = self.bot.librarian.search(query)
            await self.send(ctx, "search", query, answer, started, search=query)

    @commands.hybrid_command(name="sections", description="List the sections of the study guide")
    @commands.cooldown(RATE, PER, commands.BucketType.user)
    async def sections(self, ctx: commands.Context[Any]) -> None:
        started = time.perf_counter()
        answer = self.bot.librarian.sections()
        await self.send(ctx, "sections", "", answer, started)

    @commands.hybrid_command(name="terms", description="Browse the glossary A-Z")
    @app_commands.describe(letter="Only terms starting with this letter, e.g. R")
    @app_commands.autocomplete(section=section_autocomplete)
    @commands.cooldown(RATE, PER, commands.BucketType.user)
    async def terms(
        self,
        ctx: commands.Context[Any],
        section: Section | None = TERMS_SECTION,
        letter: str | None = commands.parameter(converter=Letter, default=None),
    ) -> None:
        started = time.perf_counter()
        answer = self.bot.librarian.terms(section.id if section else None, letter)
        query = " ".join(filter(None, (section.id if section else None, letter)))
        await self.send(ctx, "terms", query, answer, started)

    # -- shared path ------------------------------------------------------------------------

    def picked(self, text: str, kinds: frozenset[str]) -> Answer | None:
        """An autocomplete pick arrives as an entry id: open it if the current library still
        has an entry of the right kind with that id. Anything else is resolved as typed text."""
        entry = self.bot.library.get(text)
        if entry is not None and entry.kind in kinds:
            return self.bot.librarian.open(entry.id)
        return None

    async def send(
        self,
        ctx: commands.Context[Any],
        command: str,
        query: str,
        answer: Answer,
        started: float,
        *,
        search: str | None = None,
    ) -> None:
        """Send an answer and log it; `search` is the query that search results' pages re-run."""
        try:
            await ctx.send(**answer_message(answer, ctx.author.id, search=search))
        except Exception as exc:
            if not answered_elsewhere(exc):  # the process that answered logs the lookup
                log_context(ctx, command, query, answer, started, failed=True)
            raise
        log_context(ctx, command, query, answer, started)


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Lookup(bot))
