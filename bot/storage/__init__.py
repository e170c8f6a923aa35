"""Everything peacebot keeps: query log, server settings, the daily-post queue, fact decks and
quiz scores, in SQLite (a file) or PostgreSQL (a `postgresql://` URL) behind one interface.

All SQL lives in this package. Use `Storage.open(path_or_url)`; see `Storage` (`_store.py`) for
the methods and what each guarantees.
"""

from bot.storage._access import check_writable
from bot.storage._models import (
    ClaimResult,
    Count,
    DailyClaim,
    DailyDue,
    GuildSettings,
    QueryRecord,
    QueryRow,
    ScoreRow,
    SectionScore,
    Shards,
    Stats,
    StorageBusy,
    StorageError,
    SyncClaim,
)
from bot.storage._store import Storage

__all__ = [
    "ClaimResult",
    "Count",
    "DailyClaim",
    "DailyDue",
    "GuildSettings",
    "QueryRecord",
    "QueryRow",
    "ScoreRow",
    "SectionScore",
    "Shards",
    "Stats",
    "Storage",
    "StorageBusy",
    "StorageError",
    "SyncClaim",
    "check_writable",
]
