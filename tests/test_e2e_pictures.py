"""End to end: pictures through the real bot and the fake Discord API, drawn in the bot's own
process pool."""

from __future__ import annotations

import pytest

from bot.pictures import PictureRenderer
from tests.fake_discord.fixtures import StartPeacebot

pytestmark = pytest.mark.e2e


async def test_the_bot_starts_its_picture_workers_and_stops_them(
    start_peacebot: StartPeacebot,
) -> None:
    renderer = PictureRenderer(workers=1, eager=False)
    harness = await start_peacebot(pictures=renderer)
    assert harness.bot.pictures is renderer and renderer.running  # started in setup_hook
    await harness.bot.close()
    assert not renderer.running
