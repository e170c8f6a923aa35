"""Daily facts on Discord: `/daily set|off|now|status` and posting what the scheduler hands out.

The scheduler itself (`bot.daily.DailyScheduler`: the queue, the claims, the rules of time) knows
nothing of Discord; this cog finds the channel, checks permissions, sends the post and turns what
Discord refuses into a `DailyPostProblem` a moderator can read in `/daily status`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.daily import MAX_SLEEP, SHARED_MAX_SLEEP, DailyPostProblem, DailyScheduler
from bot.deck import DeckError
from bot.schedule import (
    DuePost,
    ScheduleError,
    format_time,
    load_timezone,
    parse_time,
    timezone_choices,
)
from bot.storage import GuildSettings
from bot.study_cards import (
    NO_THREADS_NOTE,
    DailyStatus,
    daily_status_card,
    pick_prompt,
    prompt_card,
    thread_name,
)
from cogs._permissions import POST, THREADS, missing_permissions
from cogs._ui import answer_message, card_to_embed

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

NO_OWNER = 0  # a daily post belongs to nobody: every click on its buttons gets a private copy


class Daily(commands.Cog):
    """A fact of the day, posted on each server's own schedule."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.scheduler = DailyScheduler(
            lambda: bot.storage,
            lambda: list(bot.library.facts),
            self.send_daily,
            shards=bot.own_shards,
            max_sleep=SHARED_MAX_SLEEP if bot.storage.multiprocess else MAX_SLEEP,
        )
        self._unsubscribe: Callable[[], None] | None = None

    async def cog_load(self) -> None:
        self._unsubscribe = self.bot.storage.subscribe(self.scheduler.on_event)
        self.scheduler.start(before=self.bot.wait_until_ready)

    async def cog_unload(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.scheduler.stop()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot left a server: nothing of it stays in memory (its settings stay on disk)."""
        self.bot.storage.forget_cached(guild.id)

    # -- sending ------------------------------------------------------------------------------

    async def daily_channel(self, settings: GuildSettings) -> discord.TextChannel:
        channel_id = settings.daily_channel_id
        if channel_id is None:
            raise DailyPostProblem("No daily channel is set; choose one with /daily set.")
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.NotFound:
                raise DailyPostProblem(
                    "The daily channel no longer exists; choose another with /daily set."
                ) from None
            except discord.Forbidden:
                raise DailyPostProblem(
                    "I can no longer see the daily channel; give me View Channel there."
                ) from None
        if not isinstance(channel, discord.TextChannel):
            raise DailyPostProblem("The daily channel is not a text channel any more.")
        return channel

    async def send_daily(self, settings: GuildSettings, fact_id: str) -> None:
        """Post a fact (and, if asked, a discussion thread) in the server's daily channel."""
        channel = await self.daily_channel(settings)
        missing = missing_permissions(channel, channel.guild, POST)
        if missing:
            raise DailyPostProblem(
                f"I am missing {', '.join(missing)} in {channel.mention}, so the fact was not "
                "posted."
            )
        library = self.bot.library
        fact = library.facts.get(fact_id)
        if fact is None:
            raise DailyPostProblem("The fact to post was removed from the content.")
        answer = self.bot.librarian.fact_answer(fact, title="Fact of the day")
        try:
            message = await channel.send(**answer_message(answer, NO_OWNER))
        except discord.Forbidden as exc:
            raise DailyPostProblem(
                f"Discord refused the post in {channel.mention}: {exc.text or exc.status}"
            ) from exc
        if settings.daily_discussion:
            await self.open_discussion(message, fact.section)

    async def open_discussion(self, message: discord.Message, section_id: str) -> None:
        library = self.bot.library
        prompt = pick_prompt(library, section_id)
        if prompt is None:
            return
        section = library.sections.get(prompt.section)
        channel = message.channel
        assert isinstance(channel, discord.TextChannel)
        try:
            thread = await message.create_thread(
                name=thread_name(section.title if section else None)
            )
            await thread.send(embed=card_to_embed(prompt_card(library, prompt)))
        except discord.HTTPException as exc:
            fallback = prompt_card(library, prompt, note=NO_THREADS_NOTE)
            with contextlib.suppress(discord.HTTPException):
                await channel.send(embed=card_to_embed(fallback))
            raise DailyPostProblem(
                f"The fact was posted but no discussion thread could be opened in "
                f"{channel.mention} ({exc.text or exc.status}); check Create Public Threads."
            ) from exc

    # -- commands -----------------------------------------------------------------------------

    @commands.hybrid_group(
        name="daily",
        description="A fact of the day for this server",
        invoke_without_command=True,
        case_insensitive=True,
    )
    @commands.guild_only()
    async def daily(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("Use `daily set`, `daily off`, `daily now` or `daily status`.")

    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in timezone_choices(current)]

    @daily.command(name="set", description="Post a daily fact in a channel at a local time")
    @commands.guild_only()
    @app_commands.describe(
        channel="Where to post",
        time="Local time of day, 24-hour HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Europe/London",
        discussion="Also open a discussion thread with a prompt",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    @commands.has_guild_permissions(manage_guild=True)
    async def daily_set(
        self,
        ctx: commands.Context[Any],
        channel: discord.TextChannel,
        time: str,
        timezone: str = "UTC",
        discussion: bool = False,
    ) -> None:
        assert ctx.guild is not None
        try:
            at = format_time(parse_time(time))
            zone = load_timezone(timezone).key
        except ScheduleError as exc:
            raise commands.BadArgument(str(exc)) from exc
        needs = POST + THREADS if discussion else POST
        missing = missing_permissions(channel, ctx.guild, needs)
        if missing:
            await ctx.send(
                f"I can't post there yet: I need {', '.join(missing)} in {channel.mention}. "
                "Nothing was changed.",
                ephemeral=True,
            )
            return
        await ctx.defer(ephemeral=True)  # a busy database may take longer than Discord waits
        due = await self.scheduler.configure(ctx.guild.id, channel.id, at, zone, discussion)
        extra = " with a discussion thread" if discussion else ""
        await ctx.send(
            f"Daily facts{extra} will be posted in {channel.mention} at {at} ({zone}). "
            f"Next: {_when(due, self.scheduler.clock.now())}.",
            ephemeral=True,
        )

    @daily.command(name="off", description="Stop the daily fact")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def daily_off(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)  # a busy database may take longer than Discord waits
        await self.scheduler.turn_off(ctx.guild.id)
        await ctx.send("Daily facts are off. `/daily set` turns them on again.", ephemeral=True)

    @daily.command(name="now", description="Post the next fact of the deck at once")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def daily_now(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)
        settings = await self.bot.storage.get_settings(ctx.guild.id)
        if settings.daily_channel_id is None:
            await ctx.send("No daily channel is set yet: use `/daily set` first.", ephemeral=True)
            return
        try:
            await self.scheduler.post_now(settings)
        except (DailyPostProblem, DeckError) as exc:
            await self.bot.storage.set_daily_problem(ctx.guild.id, str(exc))
            await ctx.send(f"⚠ {exc}", ephemeral=True)
            return
        await ctx.send(f"Posted in <#{settings.daily_channel_id}>.", ephemeral=True)

    @daily.command(name="status", description="Where and when the daily fact is posted")
    @commands.guild_only()
    async def daily_status(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)
        settings = await self.bot.storage.get_settings(ctx.guild.id)
        status = DailyStatus(
            enabled=settings.daily_enabled and settings.daily_channel_id is not None,
            channel=f"<#{settings.daily_channel_id}>" if settings.daily_channel_id else None,
            daily_time=settings.daily_time,
            timezone=settings.timezone,
            discussion=settings.daily_discussion,
            next_post=self.next_post_text(settings),
            facts_left=await self.scheduler.remaining_facts(ctx.guild.id),
            facts_total=len(self.bot.library.facts),
            problem=settings.daily_problem,
        )
        await ctx.send(embed=card_to_embed(daily_status_card(status)), ephemeral=True)

    def next_post_text(self, settings: GuildSettings) -> str | None:
        due = self.scheduler.next_due(settings)
        if due is None:
            return None
        return _when(due, self.scheduler.clock.now(), settings.timezone)


def _when(due: DuePost | None, now: datetime, timezone: str | None = None) -> str:
    if due is None:
        return "not scheduled"
    if due.is_due(now):
        return "now (today's post was due and is being made)"
    stamp = int(due.at.timestamp())
    discord_time = f"<t:{stamp}:F> (<t:{stamp}:R>)"
    if timezone is None:
        return discord_time
    try:
        local = due.at.astimezone(load_timezone(timezone)).strftime("%a %d %b %Y, %H:%M %Z")
    except ScheduleError:
        return discord_time
    return f"{local} server time\n{discord_time} your time"


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Daily(bot))
