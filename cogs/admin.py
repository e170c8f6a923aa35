"""Server and bot administration: `stats` (Manage Server) and `reload` (bot owner)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from discord import app_commands
from discord.ext import commands

from bot.answers import Card, Field
from bot.loader import ContentError, load_library
from bot.reloads import RELOAD, RELOADED, ReloadReport, ReloadRequest, process_label, report_event
from bot.reloads import summary as reload_summary
from bot.storage import Count, Stats, StorageError
from bot.text import clean, neutralise, truncate
from cogs._ui import card_to_embed

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

STATS_COLOUR = 0x0EA5E9
DEFAULT_DAYS = 30
ROWS_SHOWN = 10
ERRORS_SHOWN = 5
REPLY_MAX = 2000  # Discord's limit for a message's text
STATS_FLUSH_WAIT = 2.0  # seconds; a busy database must not hold up the reply


class Admin(commands.Cog):
    """Tools for server managers and the bot's owner."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self._unsubscribe: Callable[[], None] | None = None
        self._reloads: set[asyncio.Task[None]] = set()

    async def cog_load(self) -> None:
        # With PostgreSQL a reload asked anywhere (another process, `peacebot reload`) is
        # carried out here too; with SQLite there is no one else to ask.
        if self.bot.storage.multiprocess:
            self._unsubscribe = self.bot.storage.subscribe(self._on_event)

    async def cog_unload(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in self._reloads:
            task.cancel()

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") != RELOAD or not isinstance(event.get("request"), str):
            return
        task = asyncio.create_task(self._reload_and_report(event["request"]))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload_and_report(self, request: str) -> None:
        ok, text = await self.reload_content()
        config = self.bot.config
        shards = "all shards" if config.shard_ids is None else f"shards {config.shard_ids}"
        report = ReloadReport(process_label(shards), ok, text)
        try:
            await self.bot.storage.publish(RELOADED, **report_event(request, report))
        except StorageError as exc:
            log.warning("could not report the reload: %s", exc)

    # Permissions are checked here on the server, for prefix and slash use alike; the
    # default_permissions only hide the command in Discord's menu, which server admins can change.
    @commands.hybrid_command(
        name="stats", description="This server's top queries, misses and use per command"
    )
    @app_commands.describe(days="How many days back to look (1-365, default 30)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def stats(
        self, ctx: commands.Context[Any], days: commands.Range[int, 1, 365] = DEFAULT_DAYS
    ) -> None:
        assert ctx.guild is not None  # guild_only
        await ctx.defer(ephemeral=True)
        since = datetime.now(UTC) - timedelta(days=days)
        await self.bot.storage.flush(max_wait=STATS_FLUSH_WAIT)  # include the last moments
        stats = await self.bot.storage.stats(since=since, guild_id=ctx.guild.id)
        await ctx.send(embed=card_to_embed(stats_card(stats, days)), ephemeral=True)

    @commands.hybrid_command(name="reload", description="Reload the study guide content (owner)")
    @app_commands.default_permissions(administrator=True)
    @commands.is_owner()
    async def reload(self, ctx: commands.Context[Any]) -> None:
        await ctx.defer(ephemeral=True)
        if not self.bot.storage.multiprocess:
            _ok, text = await self.reload_content()
            await ctx.send(text, ephemeral=True)
            return
        reports = await ReloadRequest(self.bot.storage).run()
        text = f"Reload in {len(reports)} process(es):\n" + reload_summary(reports)
        await ctx.send(truncate(text, REPLY_MAX), ephemeral=True)

    async def reload_content(self) -> tuple[bool, str]:
        """Load the content again; keep serving the current library if the new one is invalid.
        Returns whether the new content is served, and what to tell whoever asked."""
        current = self.bot.library.version
        try:
            library = await asyncio.to_thread(load_library, self.bot.config.content_dir)
        except ContentError as exc:
            log.warning("reload rejected: %d problems in the content", len(exc.problems))
            shown = [
                clean(str(problem), 300).replace("`", "'")
                for problem in exc.problems[:ERRORS_SHOWN]
            ]
            more = len(exc.problems) - len(shown)
            text = (
                f"The content has {len(exc.problems)} problem(s); still serving version "
                f"{current}.\n```\n" + "\n".join(shown) + "\n```"
            )
            if more > 0:
                text += f"…and {more} more. Run `peacebot check` to see them all."
            return False, truncate(text, REPLY_MAX)
        self.bot.use_library(library)
        counts = ", ".join(f"{n} {kind}" for kind, n in library.counts().items())
        log.info("content reloaded: version %s -> %s", current, library.version)
        return True, f"Reloaded the content: version {current} → {library.version} ({counts})."


def _rows(counts: tuple[Count, ...], empty: str) -> str:
    """One line per row; query text is what users typed, so it is made inert."""
    lines = [f"{row.count} × {neutralise(clean(row.name, 80))}" for row in counts[:ROWS_SHOWN]]
    return truncate("\n".join(lines), 1024) if lines else empty


def stats_card(stats: Stats, days: int) -> Card:
    median = f"{stats.median_ms:.0f} ms" if stats.median_ms is not None else "n/a"
    summary = (
        f"**{stats.total}** lookups in the last {days} day(s), "
        f"{stats.failed} failed · median answer time {median}"
    )
    return Card(
        title="peacebot usage in this server",
        description=summary,
        fields=(
            Field("Top queries", _rows(stats.top_queries, "none yet")),
            Field("No match", _rows(stats.no_match_queries, "none")),
            Field("Top entries", _rows(stats.top_entries, "none yet"), inline=True),
            Field("Per command", _rows(stats.per_command, "none yet"), inline=True),
        ),
        footer="User ids are stored only as salted hashes.",
        colour=STATS_COLOUR,
    )


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Admin(bot))
