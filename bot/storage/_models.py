"""The plain data the storage package takes and returns; no SQL here."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.deck import Deck


class StorageError(Exception):
    """The database cannot be opened, upgraded, read or written. Nothing was changed."""


class StorageBusy(StorageError):
    """Another writer (a second process, a long prune) held the database for longer than this
    storage waits (its busy timeout). Nothing was changed; trying again later may succeed."""


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
    """A server's settings and its place in the daily-post queue.

    `daily_next_on` is the first local date not yet posted for (every earlier date was posted
    or has passed); it only ever moves forward, which is what makes a second post for one date
    impossible. `daily_next_at` is when the scheduler should next look at this server (UTC), or
    None when posts are off; it is a hint the scheduler re-checks, never the authority.
    `prefix` is reserved for a per-server prefix and not settable yet.
    """

    guild_id: int
    daily_channel_id: int | None = None
    daily_time: str = "09:00"
    timezone: str = "UTC"
    daily_enabled: bool = False
    daily_discussion: bool = False
    prefix: str | None = None
    daily_problem: str | None = None
    daily_next_at: datetime | None = None
    daily_next_on: date | None = None


@dataclass(frozen=True, slots=True)
class DailyDue:
    """A server whose daily post is due, with its fact deck as stored (None: never drawn)."""

    settings: GuildSettings
    deck: Deck | None


@dataclass(frozen=True, slots=True)
class DailyClaim:
    """What the scheduler asks to claim: the post for `local_date`, drawn from `before` (the deck
    it read) leaving `after`. On success the server's queue entry moves to `next_on` /
    `next_at`."""

    guild_id: int
    local_date: date
    channel_id: int
    fact_id: str
    before: Deck | None
    after: Deck
    next_on: date
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards one process serves: a server belongs to shard `(guild_id >> 22) % count`
    (Discord's rule). Queue reads take one to see only their own servers' posts."""

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"shard ids {sorted(self.ids)} do not fit {self.count} shards")

    def owns(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.count in self.ids


@dataclass(frozen=True, slots=True)
class SyncClaim:
    """The outcome of `Storage.claim_command_sync`: `claimed` says this caller must sync (the
    digest stored was `previous`, now it is the caller's); otherwise that digest was synced."""

    claimed: bool
    previous: str | None


class ClaimResult(StrEnum):
    CLAIMED = "claimed"  # this caller owns the post: send it
    ALREADY_CLAIMED = "already_claimed"  # someone (another process, an earlier run) did
    CHANGED = "changed"  # settings or deck changed since they were read: read again


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
    """Usage of the query log, and the reports of mistakes in the same period and server.
    Rows still queued in memory are not counted."""

    total: int
    failed: int
    top_queries: tuple[Count, ...]
    top_entries: tuple[Count, ...]
    no_match_queries: tuple[Count, ...]
    per_command: tuple[Count, ...]
    median_ms: float | None
    since: datetime | None = None
    guild_id: int | None = None
    reports: int = 0

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
