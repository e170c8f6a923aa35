"""What the study cogs (daily, quiz, discuss) share: section arguments and a server's date."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.content import Section
from bot.lookup import UnknownSection
from bot.schedule import ScheduleError, load_timezone, local_today
from bot.text import clean
from cogs._ui import autocomplete_choices

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

SECTIONS = frozenset({"section"})
INPUT_MAX = 200


class SectionNotFound(commands.BadArgument):
    """A section argument that names no section; the error handler shows the message."""


async def section_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Section names as the user types. Only a suggestion: commands re-resolve the value."""
    return autocomplete_choices(interaction.client, current, SECTIONS)


def resolve_section(bot: PeacebotBot, text: str | None) -> Section | None:
    """The section `text` names (the engine's `find_section`); None for no argument. Raises
    `SectionNotFound` with suggestions when it names nothing clearly."""
    try:
        return bot.engine.find_section(clean(text, INPUT_MAX) if text is not None else None)
    except UnknownSection as exc:
        names = [section.name for section in exc.suggestions]
        hint = f" Did you mean {' or '.join(names)}?" if names else " Pick one from the list."
        raise SectionNotFound(f"no section matches “{exc.query}”.{hint}") from exc


class SectionArgument(commands.Converter[Section]):
    """A section parameter of a hybrid command: whatever arrives (an autocomplete pick or typed
    text, slash or prefix) is resolved again here, so a bad value never reaches the command."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> Section:
        section = resolve_section(ctx.bot, argument)
        if section is None:
            raise SectionNotFound("name a section, e.g. international law.")
        return section


def section_parameter(description: str) -> Any:
    """`section: Section | None = section_parameter(...)` in a command's signature."""
    return commands.parameter(converter=SectionArgument, default=None, description=description)


async def server_zone(bot: PeacebotBot, guild_id: int | None) -> ZoneInfo:
    """The server's time zone for dates (streaks, months); UTC when unknown or unreadable."""
    if guild_id is not None:
        try:
            settings = await bot.storage.get_settings(guild_id)
            return load_timezone(settings.timezone)
        except ScheduleError:
            pass
        except Exception:
            log.exception("could not read the time zone of server %s", guild_id)
    return load_timezone("UTC")


async def server_today(bot: PeacebotBot, guild_id: int | None, now: datetime | None = None) -> date:
    return local_today(now or datetime.now(UTC), await server_zone(bot, guild_id))
