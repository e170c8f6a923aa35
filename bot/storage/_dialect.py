"""The SQL of one engine: a module per concern, each with the same functions."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True, slots=True)
class Dialect:
    guilds: ModuleType  # server settings
    daily: ModuleType  # the daily-post queue, claims, decks
    scores: ModuleType  # quiz answers, activity, leaderboards, forgetting a user
    usage: ModuleType  # reading the query log
    meta: ModuleType  # the salt, the synced command tree
