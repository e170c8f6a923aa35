"""Flushing the query log when the process is asked to stop (SIGINT, SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable

from bot.storage._store import Storage

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_signal_flush(
    loop: asyncio.AbstractEventLoop,
    storage: Storage,
    *,
    before_close: Callable[[], Awaitable[object]] | None = None,
    signals: Iterable[signal.Signals] = STOP_SIGNALS,
) -> asyncio.Event:
    """On the first stop signal, run `before_close()` then `storage.close()` (which writes every
    queued query-log row); the returned event is set when that is done, so `main` can wait on it
    and exit. Later signals are ignored while closing. Where the loop cannot take signal
    handlers (Windows), nothing is installed and the caller must close the storage itself.
    """
    stopped = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()

    async def shut_down(name: str) -> None:
        log.info("%s received: writing the query log and closing the database", name)
        try:
            if before_close is not None:
                await before_close()
        except Exception:
            log.exception("error while stopping before closing the database")
        finally:
            try:
                await storage.close()
            finally:
                stopped.set()

    def on_signal(name: str) -> None:
        if tasks or stopped.is_set():
            return
        task = loop.create_task(shut_down(name), name="peacebot-signal-flush")
        tasks.add(task)  # keep a reference until it is done

    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal, sig.name)
    return stopped
