"""Everything peacebot keeps: query log, server settings, the daily-post queue, fact decks and
quiz scores, in SQLite (a file) or PostgreSQL (a `postgresql://` URL) behind one interface.

All SQL lives in this package. Use `Storage.open(path_or_url)`; see `Storage` (`_store.py`) for
the methods and what each guarantees.
"""

from bot.config import is_postgres_url
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
from bot.storage._transfer import Copied, copy_sqlite_to_postgres, parse_source

__all__ = [
    "ClaimResult",
    "Copied",
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
    "copy_sqlite_to_postgres",
    "is_postgres_url",
    "parse_source",
]
