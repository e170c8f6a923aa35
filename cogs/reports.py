"""Reporting a mistake: the form behind every answer card's "Report a mistake" button, the
moderators' channel the reports go to (`/reports channel`, Manage Server), and storing them.

The form is stateless: its custom id names the entry and the content version, and its submission
is read from the interaction here (an `on_interaction` listener), not by a modal object kept in
memory, so a form opened before a restart can still be sent after it. A report is checked by
`bot.reports.make_report`, stored once per member, entry and UTC day, then posted with the
member's words neutralised. Whatever fails, the member is told, and keeps what they wrote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.content import ID_PATTERN
from bot.reports import SOURCE_MAX, WHAT_MAX, WHAT_MIN, ReportError, make_report, report_card
from bot.storage import StorageError
from bot.text import clean, neutralise, truncate
from cogs._permissions import missing_permissions
from cogs._ui import card_to_embed, guarded
from cogs.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

FORM_TEMPLATE = rf"pb:reportform:(?P<version>[0-9a-f]{{1,16}}):(?P<entry>{ID_PATTERN})"
FORM_PATTERN = re.compile(FORM_TEMPLATE)
WHAT_ID, SOURCE_ID = "what", "source"
ECHO_MAX = 1500  # what the member wrote, shown back when the report could not be taken

THANKS = "Thank you: your report is saved for the content maintainers"
DUPLICATE = (
    "You have already reported this entry today; thank you. One report per entry a day is "
    "enough for the maintainers to look at it."
)
NOT_SAVED = (
    "Your report could not be saved (the database is busy), so it was not sent. "
    "Please try again in a few minutes; here is what you wrote:"
)


class ReportForm(discord.ui.Modal, title="Report a mistake"):
    """What is wrong, and where the member read otherwise. Sent stopped, so discord.py keeps
    no copy: `Reports.on_interaction` reads the submission."""

    def __init__(self, entry_id: str, version: str, about: str) -> None:
        super().__init__(custom_id=f"pb:reportform:{version}:{entry_id}", timeout=None)
        self.add_item(
            discord.ui.Label(
                text="What is wrong?",
                description=truncate(f"About: {about}", 100),
                component=discord.ui.TextInput(
                    custom_id=WHAT_ID,
                    style=discord.TextStyle.paragraph,
                    min_length=WHAT_MIN,
                    max_length=WHAT_MAX,
                    placeholder="Say what is wrong and, if you know it, what is right.",
                ),
            )
        )
        self.add_item(
            discord.ui.Label(
                text="Source (optional)",
                description="Where you read otherwise: a title, a link, a page.",
                component=discord.ui.TextInput(
                    custom_id=SOURCE_ID, required=False, max_length=SOURCE_MAX
                ),
            )
        )


def submitted_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """The text inputs of a modal submission by custom id (inside labels or action rows)."""

    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from walk(item.get("components") or [])
            if isinstance(item.get("component"), dict):
                yield from walk([item["component"]])

    return {
        str(item["custom_id"]): str(item.get("value") or "")
        for item in walk(components)
        if item.get("type") == 4 and "custom_id" in item
    }


def entry_title(bot: PeacebotBot, entry_id: str) -> str | None:
    entry = bot.library.get(entry_id)
    if entry is None:
        return None
    for attribute in ("name", "question", "text", "prompt"):
        title = getattr(entry, attribute, None)
        if title:
            return str(title)
    return None


def echo(what: str, source: str) -> str:
    """What the member wrote, inert, to copy and send again."""
    text = neutralise(clean(what, ECHO_MAX))
    if source.strip():
        text += f"\nSource: {neutralise(clean(source, SOURCE_MAX))}"
    return f">>> {text}" if text else ""


class Reports(commands.Cog):
    """Reports of mistakes in the content, for the maintainers and the server's moderators."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.clock = lambda: datetime.now(UTC)  # tests move the day

    # -- the form -----------------------------------------------------------------------------

    async def open_form(
        self, interaction: discord.Interaction, entry_id: str, version: str
    ) -> None:
        """The button's answer: the form, at once (a modal must be the first response)."""
        about = entry_title(self.bot, entry_id) or entry_id
        form = ReportForm(entry_id, version, clean(about, 100))
        form.stop()  # keep no copy in memory: the submission is read in on_interaction
        await interaction.response.send_modal(form)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data = interaction.data or {}
        match = FORM_PATTERN.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        values = submitted_values(list(data.get("components") or []))  # type: ignore[arg-type]
        await guarded(
            interaction,
            lambda: self.take_report(interaction, match["entry"], match["version"], values),
            "a report form",
        )

    async def take_report(
        self, interaction: discord.Interaction, entry_id: str, version: str, values: dict[str, str]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # storage is written
        what, source = values.get(WHAT_ID, ""), values.get(SOURCE_ID, "")
        user = interaction.user
        try:
            report = make_report(
                entry_id=entry_id,
                content_version=version,
                what=what,
                source=source or None,
                user_hash=self.bot.storage.user_hash(user.id),
                at=self.clock(),
                guild_id=interaction.guild_id,
            )
        except ReportError as exc:
            await send_ephemeral(interaction, f"{exc}\n{echo(what, source)}")
            return
        try:
            stored = await self.bot.storage.add_report(report)
        except StorageError as exc:
            log.warning("could not save a mistake report on %s: %s", entry_id, exc)
            await send_ephemeral(interaction, f"{NOT_SAVED}\n{echo(what, source)}")
            return
        if not stored:
            await send_ephemeral(interaction, DUPLICATE)
            return
        posted = await self.post_to_moderators(report, interaction.guild_id)
        where = " and sent to this server's moderators." if posted else "."
        await send_ephemeral(interaction, THANKS + where)

    async def post_to_moderators(self, report: Any, guild_id: int | None) -> bool:
        """Post the report in the server's reports channel, if it has one the bot can use."""
        if guild_id is None:
            return False
        try:
            channel_id = await self.bot.storage.report_channel(guild_id)
        except StorageError as exc:
            log.warning("could not read the reports channel of server %s: %s", guild_id, exc)
            return False
        if channel_id is None:
            return False
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.info("the reports channel %s of server %s is gone", channel_id, guild_id)
            return False
        card = report_card(report, entry_title(self.bot, report.entry_id))
        try:
            await channel.send(
                embed=card_to_embed(card), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as exc:
            log.warning("could not post a report in channel %s: %s", channel_id, exc)
            return False
        return True

    # -- /reports -----------------------------------------------------------------------------

    @commands.hybrid_group(
        name="reports",
        description="Where members' reports of mistakes are posted",
        invoke_without_command=True,
        case_insensitive=True,
    )
    @app_commands.default_permissions(manage_guild=True)
    @commands.guild_only()
    async def reports(self, ctx: commands.Context[Any]) -> None:
        await ctx.send("Use `reports channel` to choose where reports are posted.", ephemeral=True)

    @reports.command(
        name="channel",
        description="Post reported mistakes in a channel (leave it out to stop posting them)",
    )
    @app_commands.describe(channel="The moderators' channel for reports")
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def reports_channel(
        self, ctx: commands.Context[Any], channel: discord.TextChannel | None = None
    ) -> None:
        assert ctx.guild is not None
        if channel is not None:
            missing = missing_permissions(channel, ctx.guild)
            if missing:
                await ctx.send(
                    f"I can't post there yet: I need {', '.join(missing)} in "
                    f"{channel.mention}. Nothing was changed.",
                    ephemeral=True,
                )
                return
        await ctx.defer(ephemeral=True)  # a busy database may take longer than Discord waits
        await self.bot.storage.set_report_channel(ctx.guild.id, channel.id if channel else None)
        if channel is None:
            text = "Reports are no longer posted here; they are still kept for the maintainers."
        else:
            text = f"Reported mistakes will be posted in {channel.mention}."
        await ctx.send(text, ephemeral=True)


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Reports(bot))
