"""`/discuss` (a prompt with its own thread), `/fact` (a random fact now), and discussion
activity: a member's message in a discussion thread counts towards their study streak."""

from __future__ import annotations

import logging
import random
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.content import Section
from bot.study_cards import (
    NO_THREADS_NOTE,
    is_discussion_thread,
    pick_prompt,
    prompt_card,
    thread_name,
)
from cogs._permissions import THREADS, missing_permissions
from cogs._study import section_autocomplete, section_parameter, server_today
from cogs._ui import answer_message, card_to_embed, log_context

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

DISCUSS_SECTION = section_parameter("A prompt from this section (default: any)")
FACT_SECTION = section_parameter("A fact from this section (default: any)")
NO_THREADS = NO_THREADS_NOTE
THREAD_GUIDE = "Share your thoughts here. Each day you take part counts towards your study streak."
REMEMBERED_MAX = 10_000  # (server, member, day) triples already saved, to spare the database
THREADS_MAX = 10_000  # thread id -> whether it is a discussion thread of ours


def can_open_thread(channel: Any, guild: Any) -> bool:
    """Whether the bot may start a public thread from a message in `channel`."""
    if not isinstance(channel, discord.TextChannel) or guild is None:
        return False
    return not missing_permissions(channel, guild, THREADS)


class Discuss(commands.Cog):
    """Discussion prompts and random facts."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.rng = random.Random()
        self._remembered: set[tuple[int, int, date]] = set()
        self._threads: dict[int, bool] = {}

    @commands.hybrid_command(
        name="discuss", description="Post a discussion prompt and open a thread for it"
    )
    @app_commands.describe(section="A prompt from this section (default: any)")
    @app_commands.autocomplete(section=section_autocomplete)
    @commands.cooldown(3, 60.0, commands.BucketType.channel)
    async def discuss(
        self, ctx: commands.Context[Any], *, section: Section | None = DISCUSS_SECTION
    ) -> None:
        chosen = section
        library = self.bot.library
        prompt = pick_prompt(library, chosen.id if chosen else None, self.rng)
        if prompt is None:
            await ctx.send("There are no discussion prompts yet.", ephemeral=True)
            return
        in_server = ctx.guild is not None
        threads = in_server and can_open_thread(ctx.channel, ctx.guild)
        note = NO_THREADS if in_server and not threads else None
        message = await ctx.send(embed=card_to_embed(prompt_card(library, prompt, note=note)))
        if not threads:
            return
        section_entry = library.sections.get(prompt.section)
        try:
            thread = await message.create_thread(
                name=thread_name(section_entry.title if section_entry else None)
            )
            self._threads[thread.id] = True
            await thread.send(THREAD_GUIDE)
        except discord.HTTPException as exc:
            log.info("no thread for /discuss in channel %s: %s", ctx.channel.id, exc)
            fallback = card_to_embed(prompt_card(library, prompt, note=NO_THREADS))
            await message.edit(embed=fallback)

    @commands.hybrid_command(name="fact", description="A random fact from the study guide")
    @app_commands.describe(section="A fact from this section (default: any)")
    @app_commands.autocomplete(section=section_autocomplete)
    @commands.cooldown(10, 30.0, commands.BucketType.user)
    async def fact(
        self, ctx: commands.Context[Any], *, section: Section | None = FACT_SECTION
    ) -> None:
        started = time.perf_counter()
        chosen = section
        answer = self.bot.librarian.fact(chosen.id if chosen else None, rng=self.rng)
        await ctx.send(**answer_message(answer, ctx.author.id))
        log_context(ctx, "fact", chosen.id if chosen else "", answer, started)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Taking part in a discussion thread the bot opened counts as a day of study."""
        if message.guild is None or message.author.bot:
            return
        if not await self.is_discussion_thread(message.channel):
            return
        guild_id, author = message.guild.id, message.author
        try:
            today = await server_today(self.bot, guild_id)
            key = (guild_id, author.id, today)
            if key in self._remembered:
                return
            await self.bot.storage.record_activity(guild_id, author.id, author.display_name, today)
        except Exception:
            log.exception("could not save discussion activity in server %s", guild_id)
            return
        if len(self._remembered) >= REMEMBERED_MAX:
            self._remembered.clear()
        self._remembered.add(key)
        self.bot.dispatch("study_activity", guild_id, author.id, today)

    async def is_discussion_thread(self, channel: Any) -> bool:
        """A thread the bot opened for a prompt. A thread missing from the cache (its
        THREAD_CREATE not seen) arrives as a PartialMessageable: it is looked up once."""
        me = self.bot.user
        if me is None:
            return False
        if isinstance(channel, discord.Thread):
            return channel.owner_id == me.id and is_discussion_thread(channel.name)
        if not isinstance(channel, discord.PartialMessageable):
            return False
        known = self._threads.get(channel.id)
        if known is None:
            try:
                fetched = await self.bot.fetch_channel(channel.id)
            except discord.HTTPException:
                return False  # not remembered: a later message may succeed
            known = (
                isinstance(fetched, discord.Thread)
                and fetched.owner_id == me.id
                and is_discussion_thread(fetched.name)
            )
            if len(self._threads) >= THREADS_MAX:
                self._threads.clear()
            self._threads[channel.id] = known
        return known


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Discuss(bot))
