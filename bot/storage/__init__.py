"""Everything peacebot keeps: query log, server settings, fact decks, quiz scores (SQLite).

All SQL lives in this package. Use `Storage.open(path)`; see `Storage` for the methods.
"""

from bot.storage._models import (
    Count,
    DeckState,
    GuildSettings,
    QueryRecord,
    QueryRow,
    ScoreRow,
    SectionScore,
    Stats,
    StorageError,
)
from bot.storage._signals import install_signal_flush
from bot.storage._store import Storage

__all__ = [
    "Count",
    "DeckState",
    "GuildSettings",
    "QueryRecord",
    "QueryRow",
    "ScoreRow",
    "SectionScore",
    "Stats",
    "Storage",
    "StorageError",
    "install_signal_flush",
]
