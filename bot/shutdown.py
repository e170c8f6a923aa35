"""Stopping on SIGINT (Ctrl+C) and SIGTERM (`docker stop`): the one place peacebot handles them.

The first signal asks for a graceful stop: `StopSignals.wait()` returns and its owner winds
down (the bot finishes running commands, writes the query log, closes the gateway and the
database). A second signal while that runs ends the process at once, for when the graceful path
hangs. `run_until_stopped` is the usual way to use it: run the work, and on a signal stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """`with StopSignals() as stop:` inside the running event loop, in the main thread.

    Handlers are plain `signal.signal` handlers rather than loop callbacks, so a second signal
    forces the exit even while the event loop is busy. Outside the main thread (or where the
    platform has no such signal) nothing is installed and `wait()` never returns.
    """

    def __init__(self, signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> None:
        self.signals = signals
        self.received: signal.Signals | None = None
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopSignals:
        self._loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                with contextlib.suppress(ValueError, OSError):
                    self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    @property
    def requested(self) -> bool:
        return self.received is not None

    async def wait(self) -> signal.Signals:
        """Return the first stop signal once it has arrived."""
        await self._event.wait()
        assert self.received is not None
        return self.received

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:  # the second one: stop waiting for anything
            os.write(2, b"peacebot: second stop signal, exiting without waiting\n")
            os._exit(128 + signum)
        self.received = signal.Signals(signum)
        assert self._loop is not None
        # A signal handler runs between any two bytecodes of the loop's thread: hand over to the
        # loop rather than touch its state here.
        self._loop.call_soon_threadsafe(self._event.set)


async def run_until_stopped(
    work: Coroutine[Any, Any, T],
    stop: StopSignals,
    *,
    on_stop: Callable[[], Awaitable[object]] | None = None,
    grace: float = 5.0,
) -> T | None:
    """Run `work` until it ends (its result or exception) or a stop signal arrives.

    On a signal, `on_stop()` gets up to `grace` seconds to wind things down; then `work` is
    cancelled if it is still running (e.g. sleeping before a reconnect) and None returned.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        log.info("%s received: stopping", stop.received.name if stop.received else "signal")
        if on_stop is not None:
            try:
                async with asyncio.timeout(grace):
                    await on_stop()
            except TimeoutError:
                log.warning("still stopping after %s s; stopping anyway", grace)
            except Exception:
                log.exception("error while stopping")
        return None
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif not task.cancelled() and task.exception() is not None and stop.requested:
            log.debug("the work ended while stopping", exc_info=task.exception())
