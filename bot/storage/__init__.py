"""Everything peacebot keeps: query log, server settings, fact decks, quiz scores (SQLite).

All SQL lives in this package. Use `Storage.open(path)`; see `Storage` for the methods.
"""

from bot.storage._access import check_writable
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
    "check_writable",
]
