"""The smallest useful discord.py bot: the harness's own test subject and the benchmark baseline.

It answers `/ping` and `!ping` with a constant string and offers constant autocomplete choices,
so whatever it costs is discord.py plus the fake API, with no work of ours.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

PONG = "pong"
CHOICES = [app_commands.Choice(name=f"choice {i}", value=f"value-{i}") for i in range(25)]


class MinimalBot(commands.Bot):
    def __init__(self, *, message_content: bool = True, guild_ready_timeout: float = 0.1) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        super().__init__(
            command_prefix="!",
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            # The fake sends GUILD_CREATE right after READY: no need to wait 2 s for stragglers.
            guild_ready_timeout=guild_ready_timeout,
            help_command=None,
        )
        self.tree.add_command(ping)
        self.tree.add_command(pick)
        self.add_command(ping_prefix)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@app_commands.command(description="Answer with a constant string")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(PONG)


@app_commands.command(description="Pick one of 25 constant choices")
@app_commands.describe(item="What to pick")
async def pick(interaction: discord.Interaction, item: str) -> None:
    await interaction.response.send_message(item)


@pick.autocomplete("item")
async def pick_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return CHOICES


@commands.command(name="ping")
async def ping_prefix(ctx: commands.Context) -> None:
    await ctx.send(PONG)
