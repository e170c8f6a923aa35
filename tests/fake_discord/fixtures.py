"""Pytest fixtures for the fake Discord API (loaded by `pytest_plugins` in tests/conftest.py).

- `fake_discord`: a started FakeDiscord, closed after the test.
- `minimal_bot`: a harness around `MinimalBot` (constant answers) running against it.
- `peacebot`: a harness around the real `PeacebotBot` (bundled content, in-memory storage).
- `start_peacebot`: the factory behind `peacebot`, for other settings, e.g.
  `await start_peacebot(prefix="", dev_guild=True)`; everything started is closed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from . import BotHarness, FakeDiscord, running_bot
from .minimal_bot import MinimalBot

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

        async def start(
            *, prefix: str = "!", dev_guild: bool = False, **bot_options: Any
        ) -> BotHarness:
            bot = await stack.enter_async_context(
                _peacebot(fake_discord, library, prefix, dev_guild, bot_options)
            )
            return await stack.enter_async_context(running_bot(fake_discord, bot))

        yield start


@pytest.fixture
async def peacebot(start_peacebot: StartPeacebot) -> BotHarness:
    return await start_peacebot()


@asynccontextmanager
async def _peacebot(
    fake: FakeDiscord, library: Library, prefix: str, dev_guild: bool, options: dict[str, Any]
) -> AsyncIterator[Any]:
    """A PeacebotBot on `library` with a fresh in-memory Storage, closed afterwards."""
    # Imported here so the fake's own tests run even while the bot does not import.
    from bot.client import PeacebotBot
    from bot.config import BUNDLED_CONTENT, Config
    from bot.storage import Storage

    config = Config(
        token=fake.token,
        content_dir=BUNDLED_CONTENT,
        db_path=":memory:",
        prefix=prefix,
        dev_guild_id=fake.world.guild_id if dev_guild else None,
        log_level="INFO",
    )
    # The fake sends GUILD_CREATE right after READY: no need to wait 2 s for stragglers.
    options.setdefault("guild_ready_timeout", 0.1)
    storage = await Storage.open(":memory:")
    try:
        yield PeacebotBot(config, library=library, storage=storage, **options)
    finally:
        await storage.close()
