"""The plain data the storage package takes and returns; no SQL here."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


class StorageError(Exception):
    """The database cannot be opened, upgraded or written."""


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One lookup as the bot saw it; `user_id` is hashed before anything is stored."""

    guild_id: int | None
    channel_id: int | None
    user_id: int | None
    command: str
    query: str
    matched_id: str | None
    outcome: str
    score: float | None
    failed: bool
    duration_ms: float
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    daily_channel_id: int | None = None
    daily_time: str = "09:00"
    timezone: str = "UTC"
    daily_enabled: bool = False
    daily_discussion: bool = False
    prefix: str | None = None
    daily_problem: str | None = None


@dataclass(frozen=True, slots=True)
class DeckState:
    """Where a server is in its shuffled fact deck, and the last date a daily fact went out."""

    guild_id: int
    order: tuple[str, ...]
    position: int
    last_posted_on: date | None
    last_fact_id: str | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    display_name: str
    user_hash: str
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class SectionScore:
    section_id: str
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class Count:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    """Usage of the query log. Rows still queued in memory are not counted."""

    total: int
    failed: int
    top_queries: tuple[Count, ...]
    top_entries: tuple[Count, ...]
    no_match_queries: tuple[Count, ...]
    per_command: tuple[Count, ...]
    median_ms: float | None
    since: datetime | None = None
    guild_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        return data


@dataclass(frozen=True, slots=True)
class QueryRow:
    """One stored query-log row, as exported. `at` is ISO 8601 UTC text."""

    at: str
    guild_id: int | None
    channel_id: int | None
    user_hash: str | None
    command: str
    query: str
    matched_id: str | None
    outcome: str
    score: float | None
    failed: bool
    duration_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
