"""Daily facts: `/daily set|off|now|status` and the one task that posts them on time.

`DailyScheduler` knows nothing of Discord: it reads the servers' settings and decks, works out
with `bot.schedule` which post is due, claims it in storage and hands it to a `send` callable
(the cog). The claim is saved BEFORE the message is sent, so a crash between the two loses one
post instead of ever making two. Between posts the task sleeps until the earliest due one, and
`/daily set` wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.deck import Deck, DeckError, draw, facts_left
from bot.schedule import (
    DuePost,
    ScheduleError,
    format_time,
    load_timezone,
    next_post,
    parse_time,
    timezone_choices,
)
from bot.storage import DeckState, GuildSettings, Storage
from bot.study_cards import NO_THREADS_NOTE, pick_prompt, prompt_card, thread_name
from cogs._ui import answer_message, card_to_embed
from cogs.errors import permission_label

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

MAX_SLEEP = 3600.0  # re-read the wall clock at least hourly (suspend, clock changes)
RETRY_SECONDS = 60.0  # after a storage error
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
THREAD_PERMISSIONS = ("create_public_threads", "send_messages_in_threads")
NO_OWNER = 0  # a daily post belongs to nobody: every click on its buttons gets a private copy

Send = Callable[[GuildSettings, str], Awaitable[None]]


class DailyPostProblem(Exception):
    """A post could not be made for a reason a moderator can fix; shown by `/daily status`."""


def missing_permissions(permissions: discord.Permissions, discussion: bool) -> list[str]:
    wanted = POST_PERMISSIONS + (THREAD_PERMISSIONS if discussion else ())
    return [permission_label(name) for name in wanted if not getattr(permissions, name)]


def deck_from_state(state: DeckState | None) -> Deck | None:
    if state is None or not state.order:
        return None
    return Deck(order=state.order, position=state.position, last_fact_id=state.last_fact_id)


def state_from_deck(guild_id: int, deck: Deck, last_posted_on: date | None) -> DeckState:
    return DeckState(
        guild_id=guild_id,
        order=deck.order,
        position=deck.position,
        last_posted_on=last_posted_on,
        last_fact_id=deck.last_fact_id,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DailyScheduler:
    """The one task that posts every server's daily fact."""

    def __init__(
        self,
        storage: Callable[[], Storage],
        fact_ids: Callable[[], Sequence[str]],
        send: Send,
        *,
        now: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self._storage = storage
        self._fact_ids = fact_ids
        self._send = send
        self._now = now
        self._rng = rng or random.Random()
        self._max_sleep = max_sleep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One deck change at a time per server (a scheduled post racing `/daily now`).
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # The local date each server's post was last attempted for in this process, so a
        # claim the database refuses can never make the loop spin.
        self._attempted: dict[int, date] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, before: Callable[[], Awaitable[Any]] | None = None) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(before), name="daily-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        """Settings changed: recompute the next due post now."""
        self._wake.set()

    async def _run(self, before: Callable[[], Awaitable[Any]] | None) -> None:
        if before is not None:
            await before()
        while True:
            self._wake.clear()
            try:
                earliest = await self.tick()
                delay = self._max_sleep
                if earliest is not None:
                    delay = (earliest - self._now()).total_seconds()
            except Exception:
                log.exception("daily posts: could not check what is due; retrying")
                delay = RETRY_SECONDS
            delay = min(max(delay, 0.0), self._max_sleep)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    # -- one pass -----------------------------------------------------------------------------

    async def tick(self) -> datetime | None:
        """Make every post that is due now; return when the next one is due (None: none)."""
        storage = self._storage()
        now = self._now()
        earliest: datetime | None = None
        due_now: list[tuple[GuildSettings, DuePost]] = []
        for settings in await storage.daily_guilds():
            if settings.daily_channel_id is None:
                continue
            state = await storage.get_deck(settings.guild_id)
            last = state.last_posted_on if state is not None else None
            try:
                due = next_post(settings.daily_time, settings.timezone, last, now)
            except ScheduleError as exc:
                await self.set_problem(settings.guild_id, f"The schedule is invalid: {exc}")
                continue
            if due.is_due(now):
                if self._attempted.get(settings.guild_id) != due.local_date:
                    due_now.append((settings, due))
                due = next_post(settings.daily_time, settings.timezone, due.local_date, now)
            earliest = due.at if earliest is None else min(earliest, due.at)
        if due_now:
            await asyncio.gather(*(self._post_due(settings, due) for settings, due in due_now))
        return earliest

    async def _post_due(self, settings: GuildSettings, due: DuePost) -> None:
        guild_id = settings.guild_id
        self._attempted[guild_id] = due.local_date
        try:
            async with self._locks[guild_id]:
                storage = self._storage()
                state = await storage.get_deck(guild_id)
                fact_id, deck = draw(deck_from_state(state), self._fact_ids(), self._rng)
                new_state = state_from_deck(guild_id, deck, due.local_date)
                if not await storage.claim_daily_post(guild_id, due.local_date, new_state):
                    log.info(
                        "daily post of %s for server %s was already made", due.local_date, guild_id
                    )
                    return
        except DeckError as exc:
            await self.set_problem(guild_id, f"Nothing to post: {exc}.")
            return
        except Exception:
            log.exception("daily post for server %s: could not claim %s", guild_id, due.local_date)
            return
        await self._deliver(settings, fact_id)

    async def post_now(self, settings: GuildSettings) -> str:
        """`/daily now`: the next fact of the deck at once; the day's scheduled post still comes.
        Returns the fact id. Raises `DailyPostProblem` or `DeckError`."""
        guild_id = settings.guild_id
        async with self._locks[guild_id]:
            storage = self._storage()
            state = await storage.get_deck(guild_id)
            fact_id, deck = draw(deck_from_state(state), self._fact_ids(), self._rng)
            last = state.last_posted_on if state is not None else None
            await storage.save_deck(state_from_deck(guild_id, deck, last))
        await self._send(settings, fact_id)
        return fact_id

    async def _deliver(self, settings: GuildSettings, fact_id: str) -> None:
        try:
            await self._send(settings, fact_id)
        except DailyPostProblem as exc:
            log.warning("daily post for server %s failed: %s", settings.guild_id, exc)
            await self.set_problem(settings.guild_id, str(exc))
        except Exception:
            log.exception("daily post for server %s failed", settings.guild_id)
            await self.set_problem(settings.guild_id, "The last post failed unexpectedly.")
        else:
            if settings.daily_problem:
                await self.set_problem(settings.guild_id, None)

    async def set_problem(self, guild_id: int, problem: str | None) -> None:
        """Store (or clear) the problem `/daily status` shows. Re-reads the settings first so a
        concurrent `/daily set` is not overwritten with stale values."""
        try:
            storage = self._storage()
            current = await storage.get_settings(guild_id)
            if current.daily_problem != problem:
                await storage.save_settings(replace(current, daily_problem=problem))
        except Exception:
            log.exception("could not save the daily-post problem of server %s", guild_id)

    async def remaining_facts(self, guild_id: int) -> int:
        return facts_left(
            deck_from_state(await self._storage().get_deck(guild_id)), self._fact_ids()
        )


class Daily(commands.Cog):
    """A fact of the day, posted on each server's own schedule."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.clock: Callable[[], datetime] = _utcnow  # tests may shift it
        self.scheduler = DailyScheduler(
            lambda: bot.storage,
            lambda: list(bot.library.facts),
            self.send_daily,
            now=lambda: self.clock(),
        )

    async def cog_load(self) -> None:
        self.scheduler.start(before=self.bot.wait_until_ready)

    async def cog_unload(self) -> None:
        await self.scheduler.stop()

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
        missing = missing_permissions(channel.permissions_for(channel.guild.me), False)
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
        name="daily", description="A fact of the day for this server", invoke_without_command=True
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
            at = parse_time(time)
            zone = load_timezone(timezone)
        except ScheduleError as exc:
            raise commands.BadArgument(str(exc)) from exc
        missing = missing_permissions(channel.permissions_for(ctx.guild.me), discussion)
        if missing:
            await ctx.send(
                f"I can't post there yet: I need {', '.join(missing)} in {channel.mention}. "
                "Nothing was changed.",
                ephemeral=True,
            )
            return
        await ctx.defer(ephemeral=True)  # a busy database may take longer than Discord waits
        storage = self.bot.storage
        current = await storage.get_settings(ctx.guild.id)
        settings = replace(
            current,
            daily_channel_id=channel.id,
            daily_time=format_time(at),
            timezone=zone.key,
            daily_enabled=True,
            daily_discussion=discussion,
            daily_problem=None,
        )
        await storage.save_settings(settings)
        self.scheduler.wake()
        due = await self.next_due(settings)
        extra = " with a discussion thread" if discussion else ""
        await ctx.send(
            f"Daily facts{extra} will be posted in {channel.mention} at {format_time(at)} "
            f"({zone.key}). Next: {_when(due, self.clock())}.",
            ephemeral=True,
        )

    @daily.command(name="off", description="Stop the daily fact")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def daily_off(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)  # a busy database may take longer than Discord waits
        storage = self.bot.storage
        current = await storage.get_settings(ctx.guild.id)
        await storage.save_settings(replace(current, daily_enabled=False, daily_problem=None))
        self.scheduler.wake()
        await ctx.send("Daily facts are off. `/daily set` turns them on again.", ephemeral=True)

    @daily.command(name="now", description="Post the next fact of the deck at once")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def daily_now(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        settings = await self.bot.storage.get_settings(ctx.guild.id)
        if settings.daily_channel_id is None:
            await ctx.send("No daily channel is set yet: use `/daily set` first.", ephemeral=True)
            return
        await ctx.defer(ephemeral=True)
        try:
            await self.scheduler.post_now(settings)
        except (DailyPostProblem, DeckError) as exc:
            await self.scheduler.set_problem(ctx.guild.id, str(exc))
            await ctx.send(f"⚠ {exc}", ephemeral=True)
            return
        await ctx.send(f"Posted in <#{settings.daily_channel_id}>.", ephemeral=True)

    @daily.command(name="status", description="Where and when the daily fact is posted")
    @commands.guild_only()
    async def daily_status(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        settings = await self.bot.storage.get_settings(ctx.guild.id)
        await ctx.send(embed=await self.status_embed(settings), ephemeral=True)

    # -- status -------------------------------------------------------------------------------

    async def next_due(self, settings: GuildSettings) -> DuePost | None:
        if not settings.daily_enabled or settings.daily_channel_id is None:
            return None
        state = await self.bot.storage.get_deck(settings.guild_id)
        last = state.last_posted_on if state is not None else None
        try:
            return next_post(settings.daily_time, settings.timezone, last, self.clock())
        except ScheduleError:
            return None

    async def status_embed(self, settings: GuildSettings) -> discord.Embed:
        enabled = settings.daily_enabled and settings.daily_channel_id is not None
        embed = discord.Embed(
            title="Daily fact",
            colour=discord.Colour(0xF59E0B),
            description="On." if enabled else "Off. A moderator can turn it on with `/daily set`.",
        )
        if settings.daily_channel_id is not None:
            embed.add_field(name="Channel", value=f"<#{settings.daily_channel_id}>", inline=True)
        embed.add_field(
            name="Time", value=f"{settings.daily_time} ({settings.timezone})", inline=True
        )
        embed.add_field(
            name="Discussion thread",
            value="yes" if settings.daily_discussion else "no",
            inline=True,
        )
        due = await self.next_due(settings)
        if due is not None:
            embed.add_field(
                name="Next post", value=_when(due, self.clock(), settings.timezone), inline=False
            )
        left = await self.scheduler.remaining_facts(settings.guild_id)
        embed.add_field(
            name="Facts left in the deck",
            value=f"{left} of {len(self.bot.library.facts)} (then a new shuffle)",
            inline=False,
        )
        if settings.daily_problem:
            embed.add_field(
                name="⚠ Last problem", value=settings.daily_problem[:1024], inline=False
            )
        return embed


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
