"""Everything peacebot keeps: query log, server settings, the daily-post queue, fact decks and
quiz scores (SQLite now; the interface is engine-neutral).

All SQL lives in this package. Use `Storage.open(path)`; see `Storage` (`_store.py`) for the
methods and what each guarantees.
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
    Stats,
    StorageBusy,
    StorageError,
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
    "Stats",
    "Storage",
    "StorageBusy",
    "StorageError",
    "check_writable",
]
