from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import BUNDLED_CONTENT
from bot.content import Library
from bot.loader import load_library
from bot.lookup import LookupEngine
from tests.storage_backends import NAMES, Backend, make_backend

# The fake Discord API and its fixtures (fake_discord, minimal_bot, peacebot).
pytest_plugins = ["tests.fake_discord.fixtures"]

TEST_LIBRARY = Path(__file__).parent / "data" / "library"


@pytest.fixture(scope="session")
def small_library() -> Library:
    """A small library independent of the shipped content."""
    return load_library(TEST_LIBRARY)


@pytest.fixture(scope="session")
def library() -> Library:
    """The bundled content, as users get it (whatever PEACEBOT_CONTENT says)."""
    return load_library(BUNDLED_CONTENT)


@pytest.fixture(scope="session")
def engine(library: Library) -> LookupEngine:
    return LookupEngine(library)


@pytest.fixture(params=NAMES)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A fresh database of each storage engine (see tests/storage_backends.py)."""
    made = await make_backend(request.param, tmp_path)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Backend]:
    """A fresh PostgreSQL schema, for tests of PostgreSQL alone."""
    made = await make_backend("postgres", tmp_path)
    try:
        yield made
    finally:
        await made.close()
