"""Snowflake ids for the fake API: unique, increasing, and shaped like Discord's."""

from __future__ import annotations

import itertools
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Hands out increasing snowflakes; discord.py derives `created_at` from them."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (now_ms << 22) | (next(self._counter) & 0x3FFFFF)
