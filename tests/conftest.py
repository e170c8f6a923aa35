from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import BUNDLED_CONTENT
from bot.content import Library
from bot.loader import load_library
from bot.lookup import LookupEngine

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
