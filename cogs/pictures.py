"""`/progress` and `/timeline`: answers people would rather look at than read.

Both defer first (storage and drawing may be waited on), build the picture's data in the core
(`bot.progress`, `bot.pictures.timeline_data`) and have the bot's process pool draw it
(`bot.pictures.PictureRenderer`, owned by the client): nothing is drawn on the event loop.
Every PNG carries alt text that states its data (`discord.File(description=...)`), and a "Text
version" button sends the same data in full as text. If a picture cannot be drawn, the text
version is sent instead.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import Card, paginate
from bot.content import EARLIEST_YEAR, LATEST_YEAR
from bot.pictures import (
    ORGANISATIONS,
    Picture,
    PictureError,
    TimelineData,
    describe,
    missions_from_library,
    organisation_name,
    timeline_data,
)
from bot.pictures._renderer import PictureData
from bot.progress import Progress, gather_progress
from bot.schedule import local_today
from bot.study_cards import QUIZ_COLOUR, progress_card
from cogs._study import server_zone
from cogs._ui import ReportingView, card_to_embed, guarded
from cogs.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

TIMELINE_COLOUR = 0x0EA5E9
TEXT_PAGE = 1800  # characters of text version per embed
MESSAGE_TEXT_MAX = 5800  # Discord's 6000 for all embeds of a message, with room to spare
UNDRAWN = "The picture could not be drawn just now, so here it is in words."
NONE = "-"  # an unset timeline filter in a custom id
TEXT_TEMPLATE = (
    r"pb:ptext:(?:(?P<progress>p):(?P<owner>\d{1,20})"
    r"|t:(?P<org>\d|-):(?P<first>\d{4}|-):(?P<last>\d{4}|-))"
)
Year = commands.Range[int, EARLIEST_YEAR, LATEST_YEAR]


class OrganisationArgument(commands.Converter[str]):
    """Who led a mission, in any case (`nato`, `Arab League`); for a prefix command a value
    that is none (`!timeline 1990 2000`) is left for the years."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> str:
        found = organisation_name(argument)
        if found is None:
            raise commands.BadArgument(
                f"no organisation of that name: choose one of {', '.join(ORGANISATIONS)}."
            )
        return found


class TextVersionButton(discord.ui.DynamicItem[discord.ui.Button], template=TEXT_TEMPLATE):
    """The picture's data as text, privately, for screen readers and anyone who prefers it.
    Its custom id says how to make the data again: whose progress, or which timeline."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(TEXT_TEMPLATE)

    def __init__(self, custom_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Text version", style=discord.ButtonStyle.secondary, custom_id=custom_id
            )
        )

    @classmethod
    def for_progress(cls, owner_id: int) -> TextVersionButton:
        return cls(f"pb:ptext:p:{owner_id}")

    @classmethod
    def for_timeline(
        cls, organisation: str | None, first: int | None, last: int | None
    ) -> TextVersionButton:
        org = str(ORGANISATIONS.index(organisation)) if organisation else NONE
        return cls(f"pb:ptext:t:{org}:{first or NONE}:{last or NONE}")

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> TextVersionButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._send(interaction), "a text version button")

    async def _send(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Pictures")  # type: ignore[attr-defined]
        match = self.PATTERN.fullmatch(self.custom_id)
        if cog is None or match is None:
            await send_ephemeral(interaction, "This button has expired.")
            return
        await cog.send_text_version(interaction, match)


def text_cards(title: str, text: str, colour: int) -> tuple[Card, ...]:
    """A picture's text form as cards (a timeline's runs to several)."""
    lines = [line.strip() for line in text.splitlines()]
    blocks = [f"• {line}" if n and line and not line.endswith(":") else line
              for n, line in enumerate(lines) if line]  # fmt: skip
    return paginate(title, blocks[1:] or blocks, (), None, colour, page_target=TEXT_PAGE)


def picture_file(picture: Picture) -> discord.File:
    return discord.File(io.BytesIO(picture.png), picture.filename, description=picture.alt_text)


def text_view(button: TextVersionButton) -> discord.ui.View:
    view = ReportingView(timeout=None)
    view.add_item(button)
    return view


def message_chunks(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds grouped into messages Discord accepts: at most 10, and 6000 characters, each."""
    chunks: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        if chunks[-1] and (len(chunks[-1]) == 10 or size + len(embed) > MESSAGE_TEXT_MAX):
            chunks.append([])
            size = 0
        chunks[-1].append(embed)
        size += len(embed)
    return chunks


def timeline_title(organisation: str | None, first: int | None, last: int | None) -> str:
    title = "Missions and operations"
    if organisation:
        title += f" led by {organisation}"
    if first or last:
        title += f", {first or '…'}-{last or 'now'}"
    return title


class Pictures(commands.Cog):
    """Progress and timeline pictures."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.now = lambda: datetime.now(UTC)  # tests fix the date

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TextVersionButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(TextVersionButton)

    async def draw(self, data: PictureData) -> Picture | None:
        """The picture, or None (logged) when it cannot be drawn: the text version stands in."""
        try:
            return await self.bot.pictures.render(data)
        except PictureError as exc:
            log.warning("could not draw a %s: %s", type(data).__name__, exc)
            return None

    # -- /progress ----------------------------------------------------------------------------

    async def member_progress(self, guild_id: int, user_id: int) -> Progress:
        zone = await server_zone(self.bot, guild_id)
        today = local_today(self.now(), zone)
        return await gather_progress(
            self.bot.storage, self.bot.library, guild_id, user_id, today, zone
        )

    @commands.hybrid_command(
        name="progress", description="Your quiz accuracy, study calendar, streak and exams"
    )
    @commands.guild_only()
    async def progress(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)  # storage is read and a picture drawn first
        progress = await self.member_progress(ctx.guild.id, ctx.author.id)
        titles = {s.id: s.title for s in self.bot.library.sections.values()}
        exams = progress.exams.line() if progress.exams else None
        card = progress_card(progress.scores, progress.streak, titles, exams)
        picture = await self.draw(progress.picture)
        button = TextVersionButton.for_progress(ctx.author.id)
        await self.send_picture(ctx, card, picture, button, ephemeral=True, data=progress.picture)

    # -- /timeline ----------------------------------------------------------------------------

    async def organisation_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().casefold()
        return [
            app_commands.Choice(name=name, value=name)
            for name in ORGANISATIONS
            if typed in name.casefold()
        ]

    @commands.hybrid_command(
        name="timeline", description="The missions in the glossary on a time axis"
    )
    @app_commands.describe(
        organisation="Only missions led by this organisation (UN, NATO, AU, ECOWAS, EU, ...)",
        from_="Only missions active in or after this year",
        to="Only missions active in or before this year",
    )
    @app_commands.rename(from_="from")
    @app_commands.autocomplete(organisation=organisation_choices)
    async def timeline(
        self,
        ctx: commands.Context[Any],
        organisation: OrganisationArgument | None = None,
        from_: Year | None = None,
        to: Year | None = None,
    ) -> None:
        await ctx.defer()  # the picture is drawn first
        try:
            data = self.timeline_data(organisation, from_, to)
        except PictureError as exc:
            await ctx.send(str(exc), ephemeral=True)
            return
        title = timeline_title(data.organisation, from_, to)
        if not data.missions:
            await ctx.send(f"{title}: no missions match.", ephemeral=True)
            return
        more = (
            f" ({data.left_out} more matched: narrow the years or pick an organisation)"
            if data.left_out
            else ""
        )
        card = Card(
            title=title,
            description=f"{len(data.missions)} missions and operations{more}, coloured by who "
            "led them. “Text version” lists them in words.",
            colour=TIMELINE_COLOUR,
        )
        picture = await self.draw(data)
        button = TextVersionButton.for_timeline(data.organisation, from_, to)
        await self.send_picture(ctx, card, picture, button, ephemeral=False, data=data)

    def timeline_data(
        self, organisation: str | None, first: int | None, last: int | None
    ) -> TimelineData:
        missions = missions_from_library(self.bot.library)
        return timeline_data(missions, self.now().year, organisation, first, last)

    # -- sending ------------------------------------------------------------------------------

    async def send_picture(
        self,
        ctx: commands.Context[Any],
        card: Card,
        picture: Picture | None,
        button: TextVersionButton,
        *,
        ephemeral: bool,
        data: PictureData | None = None,
    ) -> None:
        """The card with the picture in it; without a picture, the card and the words."""
        view = text_view(button)
        if picture is None:
            embeds = [card_to_embed(replace(card, description=f"{card.description}\n\n{UNDRAWN}"))]
            if data is not None:
                words = text_cards(card.title, describe(data)[1], card.colour)
                embeds += [card_to_embed(page) for page in words]
            for chunk in message_chunks(embeds):
                await ctx.send(embeds=chunk, view=view, ephemeral=ephemeral)
                view = None  # type: ignore[assignment]
            return
        embed = card_to_embed(card)
        embed.set_image(url=f"attachment://{picture.filename}")
        await ctx.send(embed=embed, file=picture_file(picture), view=view, ephemeral=ephemeral)

    async def send_text_version(self, interaction: discord.Interaction, match: Any) -> None:
        if match["progress"]:
            if interaction.guild_id is None or int(match["owner"]) != interaction.user.id:
                await send_ephemeral(interaction, "Run /progress to see your own progress.")
                return
            await interaction.response.defer(ephemeral=True, thinking=True)  # storage is read
            progress = await self.member_progress(interaction.guild_id, interaction.user.id)
            data: PictureData = progress.picture
            title, colour = "Your progress in words", QUIZ_COLOUR
        else:
            org = None if match["org"] == NONE else ORGANISATIONS[int(match["org"])]
            first = None if match["first"] == NONE else int(match["first"])
            last = None if match["last"] == NONE else int(match["last"])
            data = self.timeline_data(organisation_name(org) if org else None, first, last)
            title, colour = "Missions and operations in words", TIMELINE_COLOUR
        embeds = [card_to_embed(card) for card in text_cards(title, describe(data)[1], colour)]
        for chunk in message_chunks(embeds):
            if interaction.response.is_done():
                await interaction.followup.send(embeds=chunk, ephemeral=True)
            else:
                await interaction.response.send_message(embeds=chunk, ephemeral=True)


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Pictures(bot))
