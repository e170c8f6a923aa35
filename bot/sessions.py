"""Helpers shared by the session state machines (`bot.exam`, `bot.quiz`): at most one running
session per key, and sleeping on a clock until a timeout or a wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from bot.quiz import Clock


class Session(Protocol):
    def start(self) -> asyncio.Task[None]: ...

    def cancel(self) -> None: ...


class TaskSession:
    """A session that owns one task: `start()` runs `_run()`, `cancel()` ends it silently,
    `wait()` returns once it has finished (whatever way)."""

    _task: asyncio.Task[None] | None = None

    def _task_name(self) -> str:
        return type(self).__name__

    def _already_started(self) -> Exception:
        return RuntimeError("this session has already been started")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> asyncio.Task[None]:
        if self._task is not None:
            raise self._already_started()
        self._task = asyncio.create_task(self._run(), name=self._task_name())
        return self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        raise NotImplementedError


K = TypeVar("K", bound=Hashable)
S = TypeVar("S", bound=Session)


class OnePerKey(Generic[K, S]):
    """At most one session per key (a channel, a member); a finished session removes itself."""

    def __init__(self, key: Callable[[S], K], busy: Callable[[], Exception]) -> None:
        self._key = key
        self._busy = busy
        self._sessions: dict[K, S] = {}

    def get(self, key: K) -> S | None:
        return self._sessions.get(key)

    def start(self, session: S) -> asyncio.Task[None]:
        key = self._key(session)
        # No await between the check and the insert, so two starts cannot both pass.
        if key in self._sessions:
            raise self._busy()
        self._sessions[key] = session
        task = session.start()
        task.add_done_callback(lambda _task: self._forget(key, session))
        return task

    def cancel_all(self) -> list[S]:
        """Cancel every session (shutdown); returns them, so what they leave can be awaited."""
        sessions = list(self._sessions.values())
        for session in sessions:
            session.cancel()
        self._sessions.clear()
        return sessions

    def __len__(self) -> int:
        return len(self._sessions)

    def _forget(self, key: K, session: S) -> None:
        if self._sessions.get(key) is session:
            del self._sessions[key]


async def sleep_or_wake(clock: Clock, seconds: float, wake: asyncio.Event) -> None:
    """Sleep on `clock` until `seconds` pass or `wake` is set, whichever comes first."""
    timer = asyncio.ensure_future(clock.sleep(seconds))
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({timer, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (timer, woken):
            waiter.cancel()
        await asyncio.gather(timer, woken, return_exceptions=True)
