"""Pytest fixtures for the fake Discord API (loaded by `pytest_plugins` in tests/conftest.py).

- `fake_discord`: a started FakeDiscord, closed after the test.
- `minimal_bot`: a harness around `MinimalBot` (constant answers) running against it.
- `peacebot`: a harness around the real `PeacebotBot` (bundled content, in-memory storage).
- `start_peacebot`: the factory behind `peacebot`, for other settings, e.g.
  `await start_peacebot(prefix="", dev_guild=True)`; everything started is closed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import pytest

from . import BotHarness, FakeDiscord, running_bot
from .minimal_bot import MinimalBot
from .peacebot import peacebot_client

if TYPE_CHECKING:
    from bot.content import Library

StartPeacebot = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def minimal_bot(fake_discord: FakeDiscord) -> AsyncIterator[BotHarness]:
    async with running_bot(fake_discord, MinimalBot()) as harness:
        yield harness


@pytest.fixture
async def start_peacebot(
    fake_discord: FakeDiscord, library: Library
) -> AsyncIterator[StartPeacebot]:
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> BotHarness:
            """`options`: prefix, dev_guild, db_path (see peacebot_client) or PeacebotBot
            arguments."""
            bot = await stack.enter_async_context(peacebot_client(fake_discord, library, **options))
            return await stack.enter_async_context(running_bot(fake_discord, bot))

        yield start


@pytest.fixture
async def peacebot(start_peacebot: StartPeacebot) -> BotHarness:
    return await start_peacebot()
