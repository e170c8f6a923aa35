"""Pytest fixtures for the fake Discord API (loaded by `pytest_plugins` in tests/conftest.py).

- `fake_discord`: a started FakeDiscord, closed after the test.
- `minimal_bot`: a harness around `MinimalBot` (constant answers) running against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from . import BotHarness, FakeDiscord, running_bot
from .minimal_bot import MinimalBot


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def minimal_bot(fake_discord: FakeDiscord) -> AsyncIterator[BotHarness]:
    async with running_bot(fake_discord, MinimalBot()) as harness:
        yield harness
