"""Holding REST requests back, so a test can act while the bot waits on Discord."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Hold:
    """Requests whose method matches and whose path (after /api/v10) starts with `prefix` wait
    until `release()`; `arrived` is set when the first of them reaches the fake."""

    method: str
    prefix: str
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.startswith(self.prefix)

    def release(self) -> None:
        self._released.set()

    async def wait(self) -> None:
        self.arrived.set()
        await self._released.wait()


class Holds:
    def __init__(self) -> None:
        self._holds: list[Hold] = []

    def add(self, method: str, prefix: str) -> Hold:
        hold = Hold(method, prefix)
        self._holds.append(hold)
        return hold

    async def wait_if_held(self, request: web.Request, path: str) -> None:
        for hold in self._holds:
            if hold.matches(request.method, path):
                await hold.wait()
