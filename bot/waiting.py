"""Sleeping on an injected clock until the time is up or someone wakes the sleeper."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def nap(sleep: Awaitable[None], wake: asyncio.Event) -> None:
    """Wait for `sleep` (a clock's sleep) or for `wake` to be set, whichever comes first."""
    timer = asyncio.ensure_future(sleep)
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({timer, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (timer, woken):
            waiter.cancel()
        await asyncio.gather(timer, woken, return_exceptions=True)
