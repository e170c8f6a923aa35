"""`PictureRenderer`: draws pictures in a process pool, never on the event loop.

Drawing a chart is 50-200 ms of pure CPU holding the GIL, so a thread would stall the bot just
as surely as drawing inline; a worker process does not. The pool uses `spawn` (a fork of a
process running an event loop and database threads can inherit held locks). Its workers run at
a lower CPU priority than the bot, import matplotlib and load their fonts once at start, and
each is replaced after `tasks_per_worker` pictures, so a slow leak in a plotting library cannot
grow without end. matplotlib is imported only in the workers: the bot's process never loads it.

`spawn` starts each worker by importing the parent's main module, so an entry script must keep
its work under `if __name__ == "__main__":` (the `peacebot` console script does; a package's
`__main__.py`, as in `python -m bot`, is never re-run by multiprocessing).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.pictures import _describe
from bot.pictures._data import ForecastData, Picture, PictureError, ProgressData, TimelineData

log = logging.getLogger(__name__)

MAX_PNG_BYTES = 300_000
RENDER_TIMEOUT = 20.0
WORKER_NICENESS = 10
SLOW_MS = 1000.0  # a picture slower than this to draw is logged
PictureData = ProgressData | ForecastData | TimelineData
UNAVAILABLE = "Pictures are not available right now; the text version follows."


def describe(data: PictureData) -> tuple[str, str, str]:
    """(alt text, text form, file name) of a picture, without drawing it."""
    if isinstance(data, ProgressData):
        return _describe.progress_alt(data), _describe.progress_text(data), "progress.png"
    if isinstance(data, ForecastData):
        return _describe.forecast_alt(data), _describe.forecast_text(data), "forecast.png"
    if isinstance(data, TimelineData):
        return _describe.timeline_alt(data), _describe.timeline_text(data), "timeline.png"
    raise TypeError(f"no picture for {type(data).__name__}")


def make_picture(data: PictureData) -> Picture:
    """Draw and describe a picture, timing the drawing (wall-clock and CPU: the CPU time is its
    own cost, whatever else the machine was doing). Runs in a worker; the words are made there
    too, since ten requests at once would otherwise describe their data in one loop tick."""
    from bot.pictures._draw import draw

    alt, text, name = describe(data)
    wall, cpu = time.perf_counter(), time.process_time()
    png = draw(data)
    draw_ms = (time.perf_counter() - wall) * 1000
    cpu_ms = (time.process_time() - cpu) * 1000
    return Picture(png, alt, text, name, draw_ms=draw_ms, cpu_ms=cpu_ms)


PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    """A worker whose bot is gone (killed, or a forced exit that skipped the pool's shutdown)
    ends too: otherwise it would wait on its task queue for ever, holding the bot's output
    pipes open."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _warm_worker() -> None:
    """Each worker's start: a watch on its parent, a lower CPU priority than the bot, so when
    both want a core the event loop gets it; then matplotlib and fonts loaded once and kept
    out of full garbage collections (as the bot keeps its own start-up objects)."""
    watch = threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True)
    watch.start()
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    from bot.pictures._draw import warm

    warm()
    gc.collect()
    gc.freeze()


def render_inline(data: PictureData) -> Picture:
    """Draw in this process: for the console and the benchmark's baseline, never the bot."""
    return make_picture(data)


def default_workers() -> int:
    """One worker per core but one, so the event loop keeps a core (at least one worker)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class PictureRenderer:
    """Owns the pool: `await start()` at start-up, `await close()` at shutdown.

    With `eager` (the default) `start()` waits until every worker has loaded matplotlib, so
    the first picture is as fast as the rest; without it the workers start with the first
    picture (tests that start many bots and draw few pictures).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = RENDER_TIMEOUT,
        tasks_per_worker: int = 500,
        eager: bool = True,
    ) -> None:
        self.workers = workers or default_workers()
        self.timeout = timeout
        self.eager = eager
        self._tasks_per_worker = tasks_per_worker
        self._pool: ProcessPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_worker,
            max_tasks_per_child=self._tasks_per_worker,
        )

    async def start(self) -> None:
        """Start the workers and wait until each has loaded matplotlib (a second or two)."""
        if self._pool is not None:
            return
        self._pool = self._new_pool()
        if not self.eager:
            return  # a spawn-context pool starts its workers with the first task
        loop = asyncio.get_running_loop()
        # A no-op per worker makes the pool spawn them all now, not on the first picture.
        await asyncio.gather(*(loop.run_in_executor(self._pool, int) for _ in range(self.workers)))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            # shutdown(wait=True) joins processes: a blocking call, so off the loop.
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def render(self, data: PictureData) -> Picture:
        """The picture for `data`; `PictureError` (with a message for the member) if it cannot
        be drawn. A pool whose worker died is replaced and the picture tried once more."""
        for attempt in (1, 2):
            pool = self._pool
            if pool is None:
                raise PictureError(UNAVAILABLE)
            loop = asyncio.get_running_loop()
            try:
                picture = await asyncio.wait_for(
                    loop.run_in_executor(pool, make_picture, data), self.timeout
                )
            except BrokenProcessPool:
                log.warning("picture worker died; restarting the pool (attempt %d)", attempt)
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
                continue
            except TimeoutError as exc:
                raise PictureError("Drawing took too long; the text version follows.") from exc
            if len(picture.png) > MAX_PNG_BYTES or picture.draw_ms > SLOW_MS:
                log.warning(
                    "%s: %d bytes, drawn in %.0f ms",
                    picture.filename, len(picture.png), picture.draw_ms,
                )  # fmt: skip
            return picture
        raise PictureError(UNAVAILABLE)
