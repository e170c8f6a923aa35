"""The daily-fact scheduler: a timer queue kept in the database, worked by one task.

Each server's next look-in time is an indexed column (`Storage.due_daily_posts`), so a wake-up
reads only the servers that are due and the earliest time after them: its cost grows with the
posts due, not with the number of servers. For each due server the rules of `bot.schedule`
decide the local date of the post (time zones, daylight saving, catch-up the same local day).

Several processes: each scheduler reads only the queue entries of its own shards (`shards`), and
hears (`on_event`) when another process changed the schedule of one of its servers; a missed
event is caught up within `SHARED_MAX_SLEEP`.

At most once: a post is claimed in the database (a row per server and local date, together with
the deck's next state) before it is sent, so a crash between the two loses one post instead of
ever making two, and a second process cannot post the same date. A claim that fails (the
database is busy) is retried; a send that fails is stored as the day's problem, which
`/daily status` shows. Nothing here knows Discord: posts go out through the injected `deliver`
callable, which raises `DailyPostProblem` for what a moderator can fix. Time comes from an
injected `WallClock`, so tests never wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from bot.deck import DeckError, draw, facts_left
from bot.schedule import DuePost, ScheduleError, format_time, load_timezone, next_post, parse_time
from bot.sessions import sleep_or_wake
from bot.storage import (
    ClaimResult,
    DailyClaim,
    DailyDue,
    GuildSettings,
    Shards,
    Storage,
    StorageError,
)

log = logging.getLogger(__name__)

MAX_SLEEP = 3600.0  # re-read the wall clock at least hourly (suspend, clock changes)
SHARED_MAX_SLEEP = 300.0  # with other processes changing schedules: at least every 5 minutes
RETRY_SECONDS = 30.0  # after a claim or a pass failed on the database
RETRY_CHANGED = 1.0  # after a claim lost to a concurrent change: read again soon
BATCH = 500  # due servers read and claimed per transaction
MAX_SENDING = 20  # posts sent at once; discord.py queues the rest behind its rate limits
STOP_WAIT = 5.0  # seconds posts in flight may take to finish when the scheduler stops
_DAY = timedelta(days=1)

Deliver = Callable[[GuildSettings, str], Awaitable[None]]


class DailyPostProblem(Exception):
    """A post could not be made for a reason a moderator can fix; shown by `/daily status`."""


class WallClock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def last_posted(settings: GuildSettings) -> date | None:
    """The date `bot.schedule.next_post` counts as posted: the day before the first date still
    to post (every earlier date was posted or has passed)."""
    return settings.daily_next_on - _DAY if settings.daily_next_on is not None else None


@dataclass(slots=True)
class _Pass:
    """What one batch of due servers comes to."""

    claims: list[tuple[DailyClaim, GuildSettings]]
    reschedule: dict[int, datetime | None]
    problems: dict[int, str]


class DailyScheduler:
    """The one task that posts every server's daily fact."""

    def __init__(
        self,
        storage: Callable[[], Storage],
        fact_ids: Callable[[], Sequence[str]],
        deliver: Deliver,
        *,
        clock: WallClock | None = None,
        rng: random.Random | None = None,
        max_sleep: float = MAX_SLEEP,
        batch: int = BATCH,
        shards: Callable[[], Shards | None] = lambda: None,
    ) -> None:
        self._storage = storage
        self._shards = shards
        self._fact_ids = fact_ids
        self._deliver = deliver
        self.clock: WallClock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._max_sleep = max_sleep
        self._batch = max(1, batch)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._send_slots = asyncio.Semaphore(MAX_SENDING)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, before: Callable[[], Awaitable[Any]] | None = None) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(before), name="daily-scheduler")

    async def stop(self) -> None:
        """Stop waking up; posts being sent get `STOP_WAIT` seconds to finish."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._sending:
            _done, late = await asyncio.wait(set(self._sending), timeout=STOP_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def wake(self) -> None:
        """Settings changed: look at the queue again now."""
        self._wake.set()

    def on_event(self, event: dict[str, Any]) -> None:
        """An event from the storage: wake for a changed schedule of one of this process's
        servers, or after events may have been missed."""
        kind = event.get("kind")
        if kind == "listener-reconnected":
            self.wake()
        elif kind == "daily" and isinstance(event.get("guild"), int):
            shards = self._shards()
            if shards is None or shards.owns(event["guild"]):
                self.wake()

    async def settle(self) -> None:
        """Wait until every post handed out so far has been sent (or has failed)."""
        while self._sending:
            await asyncio.gather(*set(self._sending), return_exceptions=True)

    @property
    def sending(self) -> int:
        return len(self._sending)

    async def _run(self, before: Callable[[], Awaitable[Any]] | None) -> None:
        if before is not None:
            await before()
        while True:
            self._wake.clear()
            try:
                upcoming = await self.wake_up()
                delay = self._max_sleep
                if upcoming is not None:
                    delay = (upcoming - self.clock.now()).total_seconds()
            except Exception:
                log.exception("daily posts: could not check what is due; retrying")
                delay = RETRY_SECONDS
            await self._nap(min(max(delay, 0.0), self._max_sleep))

    async def _nap(self, seconds: float) -> None:
        """Sleep on the clock until `seconds` pass or `wake()` is called."""
        await sleep_or_wake(self.clock, seconds, self._wake)

    # -- one wake-up --------------------------------------------------------------------------

    async def wake_up(self) -> datetime | None:
        """Claim and hand out every post due now; return when to look again (None: never).

        Sending happens in tasks of its own (see `settle`), so a slow Discord never holds up
        the queue.
        """
        storage = self._storage()
        shards = self._shards()
        now = self.clock.now()
        retry: float | None = None
        while True:
            due = await storage.due_daily_posts(now, limit=self._batch, shards=shards)
            work = self._plan(due, now)
            await self._store_outside_claims(storage, work)
            try:
                results = await storage.claim_daily_posts([c for c, _ in work.claims], now)
            except StorageError as exc:
                log.warning("daily posts: could not claim %d posts (%s)", len(work.claims), exc)
                retry = RETRY_SECONDS
                break
            progress = bool(work.reschedule)
            for (claim, settings), result in zip(work.claims, results, strict=True):
                if result is ClaimResult.CLAIMED:
                    self._hand_out(settings, claim)
                    progress = True
                elif result is ClaimResult.ALREADY_CLAIMED:
                    log.info(
                        "daily post of %s for server %s was already made",
                        claim.local_date,
                        claim.guild_id,
                    )
                    progress = True
                else:
                    retry = RETRY_CHANGED if retry is None else min(retry, RETRY_CHANGED)
            if len(due) < self._batch or not progress:
                break
        upcoming = await storage.next_daily_due(shards)
        if upcoming is not None and upcoming <= now:
            # Only servers left over from this pass are still due: give them a moment.
            upcoming = now + timedelta(seconds=retry if retry is not None else RETRY_CHANGED)
        if retry is not None:
            soon = now + timedelta(seconds=retry)
            upcoming = soon if upcoming is None else min(upcoming, soon)
        return upcoming

    def _plan(self, due: Sequence[DailyDue], now: datetime) -> _Pass:
        work = _Pass(claims=[], reschedule={}, problems={})
        fact_ids = self._fact_ids()
        for item in due:
            settings = item.settings
            guild_id = settings.guild_id
            channel_id = settings.daily_channel_id
            if channel_id is None or not settings.daily_enabled:
                work.reschedule[guild_id] = None
                continue
            try:
                post = next_post(settings.daily_time, settings.timezone, last_posted(settings), now)
                following = next_post(settings.daily_time, settings.timezone, post.local_date, now)
            except ScheduleError as exc:
                work.problems[guild_id] = f"The schedule is invalid: {exc}"
                work.reschedule[guild_id] = None
                continue
            if not post.is_due(now):
                work.reschedule[guild_id] = post.at
                continue
            try:
                fact_id, after = draw(item.deck, fact_ids, self._rng)
            except DeckError as exc:
                work.problems[guild_id] = f"Nothing to post: {exc}."
                work.reschedule[guild_id] = following.at  # try again tomorrow
                continue
            claim = DailyClaim(
                guild_id=guild_id,
                local_date=post.local_date,
                channel_id=channel_id,
                fact_id=fact_id,
                before=item.deck,
                after=after,
                next_on=post.local_date + _DAY,
                next_at=following.at,
            )
            work.claims.append((claim, settings))
        return work

    async def _store_outside_claims(self, storage: Storage, work: _Pass) -> None:
        """Queue moves and problems of servers that post nothing now."""
        for guild_id, problem in work.problems.items():
            log.warning("daily posts of server %s: %s", guild_id, problem)
            await self._set_problem(guild_id, problem)
        if work.reschedule:
            try:
                await storage.reschedule_daily(work.reschedule)
            except StorageError as exc:
                log.warning(
                    "daily posts: could not move %d servers (%s)", len(work.reschedule), exc
                )
                work.reschedule.clear()

    def _hand_out(self, settings: GuildSettings, claim: DailyClaim) -> None:
        task = asyncio.create_task(self._send(settings, claim), name=f"daily-post-{claim.guild_id}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, settings: GuildSettings, claim: DailyClaim) -> None:
        guild_id = claim.guild_id
        async with self._send_slots:
            try:
                await self._deliver(settings, claim.fact_id)
            except DailyPostProblem as exc:
                log.warning("daily post for server %s failed: %s", guild_id, exc)
                await self._set_problem(guild_id, str(exc), claim.local_date)
            except Exception:
                log.exception("daily post for server %s failed", guild_id)
                problem = "The last post failed unexpectedly."
                await self._set_problem(guild_id, problem, claim.local_date)
            else:
                if settings.daily_problem:
                    await self._set_problem(guild_id, None)

    async def _set_problem(
        self, guild_id: int, problem: str | None, local_date: date | None = None
    ) -> None:
        try:
            await self._storage().set_daily_problem(guild_id, problem, local_date=local_date)
        except StorageError:
            log.exception("could not save the daily-post problem of server %s", guild_id)

    # -- what the commands do -----------------------------------------------------------------

    async def configure(
        self, guild_id: int, channel_id: int, daily_time: str, timezone: str, discussion: bool
    ) -> DuePost:
        """`/daily set`: posts on with this schedule; returns the next post. Raises
        `ScheduleError` for a bad time or zone, `StorageError` when it cannot be saved."""
        at = format_time(parse_time(daily_time))
        zone = load_timezone(timezone).key
        current = await self._storage().get_settings(guild_id)
        post = next_post(at, zone, last_posted(current), self.clock.now())
        await self._storage().enable_daily(
            guild_id,
            channel_id=channel_id,
            daily_time=at,
            timezone=zone,
            discussion=discussion,
            next_at=post.at,
        )
        self.wake()
        return post

    async def turn_off(self, guild_id: int) -> None:
        await self._storage().disable_daily(guild_id)

    async def post_now(self, settings: GuildSettings) -> str:
        """`/daily now`: the next fact of the deck at once; the day's scheduled post still comes.
        Returns the fact id. Raises `DailyPostProblem`, `DeckError` or `StorageError`."""
        storage = self._storage()
        for _attempt in range(3):
            deck = await storage.get_deck(settings.guild_id)
            fact_id, after = draw(deck, self._fact_ids(), self._rng)
            if await storage.save_deck(settings.guild_id, deck, after):
                break
        else:
            raise StorageError("the fact deck kept changing; try again")
        await self._deliver(settings, fact_id)
        return fact_id

    def next_due(self, settings: GuildSettings) -> DuePost | None:
        """When the server's next post is due (None: off or unschedulable)."""
        if not settings.daily_enabled or settings.daily_channel_id is None:
            return None
        try:
            return next_post(
                settings.daily_time, settings.timezone, last_posted(settings), self.clock.now()
            )
        except ScheduleError:
            return None

    async def remaining_facts(self, guild_id: int) -> int:
        return facts_left(await self._storage().get_deck(guild_id), self._fact_ids())
