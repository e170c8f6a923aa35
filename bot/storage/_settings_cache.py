"""Server settings kept in memory, so a quiz click or a daily post does not read them from disk.

Read-through with write-through invalidation: every settings write made through this process's
`Storage` drops the server's entry once it has committed. A read that began before such a write
may finish after it; each entry therefore remembers how many writes its server had seen when the
read began, and a stale result is not stored. Entries also expire after `ttl` seconds, so a
change made by another process (a second shard, the command line) shows within that time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.storage._models import GuildSettings

Snapshot = tuple[int, int]


class SettingsCache:
    def __init__(
        self,
        limit: int = 10_000,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[int, tuple[float, GuildSettings]] = OrderedDict()
        self._writes: dict[int, int] = {}  # server -> writes seen, for servers written lately
        self._epoch = 0  # bumped whenever `_writes` is cleared, so old snapshots never match
        self.hits = 0
        self.misses = 0

    def get(self, guild_id: int) -> GuildSettings | None:
        entry = self._entries.get(guild_id)
        if entry is None or self._clock() - entry[0] > self.ttl:
            self.misses += 1
            return None
        self._entries.move_to_end(guild_id)
        self.hits += 1
        return entry[1]

    def snapshot(self, guild_id: int) -> Snapshot:
        """Take before reading from the database; hand to `put` with the result."""
        return self._epoch, self._writes.get(guild_id, 0)

    def put(self, settings: GuildSettings, snapshot: Snapshot) -> None:
        guild_id = settings.guild_id
        if snapshot != self.snapshot(guild_id):
            return  # written meanwhile: what was read may be older than the write
        self._entries[guild_id] = (self._clock(), settings)
        self._entries.move_to_end(guild_id)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def invalidate(self, guild_id: int) -> None:
        self._entries.pop(guild_id, None)
        self._writes[guild_id] = self._writes.get(guild_id, 0) + 1
        if len(self._writes) > self.limit:
            self._writes.clear()
            self._epoch += 1

    def __len__(self) -> int:
        return len(self._entries)
