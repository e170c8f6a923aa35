"""Daily review reminders: the reminder queue, worked by the one timer-queue scheduler.

Each member with reminders on has a next time in an indexed column (`due_reminders`), so a
wake-up reads only the reminders that are due. For each, the rules of `_reminders` decide the
local date (the member's zone, daylight saving, catch-up the same day); the day is claimed in the
database before the message is sent (`claim_reminder`: a claim row per member and local date),
so with several processes it goes out once, and a crash between the claim and the send loses
one reminder instead of sending two. A day with nothing due is claimed without a message.

With several processes one of them runs the queue (`/review remind on` may be handled by
another): the storage announces a moved reminder (`REMINDERS_EVENT`, see `on_event`), and a
missed event is caught up within the shared maximum sleep.

Nothing here knows Discord: the message goes out through the injected `deliver`, which raises
`ReminderUndeliverable` when the member cannot get direct messages; reminders are then switched
off and the member is told once, at their next `/review` (`reminder_notice`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from bot.review._model import ReviewSettings
from bot.review._reminders import first_reminder, plan_reminder, reminder_text, validate_reminder
from bot.review._session import ReviewService
from bot.schedule import DuePost, ScheduleError, next_post
from bot.timers import MAX_SLEEP, RETRY_SECONDS, TimerQueue, WallClock, next_look

log = logging.getLogger(__name__)

BATCH = 200  # due reminders read per query
REMINDERS_EVENT = "review-reminders"  # the storage's event when a reminder's time moved
RETRY_SOON = 1.0  # seconds, when reminders are still due after a pass (left over, or lost)
DMS_CLOSED = (
    "I could not send you a direct message, so I switched your review reminders off. "
    "Allow direct messages from this server's members (Privacy Settings), then "
    "`/review remind on` turns them on again."
)
BAD_SCHEDULE = (
    "Your review reminders were switched off: their time or time zone can no longer be used. "
    "Set them again with `/review remind on`."
)

Deliver = Callable[[ReviewSettings, str], Awaitable[None]]


class ReminderUndeliverable(Exception):
    """The member cannot get a direct message from the bot (DMs closed, account gone)."""


class ReminderScheduler(TimerQueue):
    """The one task that sends every member's review reminder (a `bot.timers.TimerQueue`).

    `service` gives the current `ReviewService` (rebuilt when the content is reloaded); its
    store holds the queue.
    """

    what = "review reminders"

    def __init__(
        self,
        service: Callable[[], ReviewService],
        deliver: Deliver,
        *,
        clock: WallClock | None = None,
        max_sleep: float = MAX_SLEEP,
        batch: int = BATCH,
    ) -> None:
        super().__init__(clock=clock, max_sleep=max_sleep)
        self._service = service
        self._deliver = deliver
        self._batch = max(1, batch)

    def on_event(self, event: dict[str, Any]) -> None:
        """An event from the storage: a reminder moved (maybe earlier) in some process, or
        events may have been missed; look at the queue again."""
        if event.get("kind") in (REMINDERS_EVENT, "listener-reconnected"):
            self.wake()

    # -- one wake-up --------------------------------------------------------------------------

    async def wake_up(self) -> datetime | None:
        """Claim and hand out every reminder due now; return when to look again."""
        service = self._service()
        store = service.store
        now = self.clock.now()
        retry: float | None = None
        while True:
            due = await store.due_reminders(now, self._batch)
            for settings in due:
                try:
                    await self._remind(service, settings, now)
                except Exception as exc:  # the database, most likely: this member waits a bit
                    log.warning("review reminder for a member failed (%s); retrying", exc)
                    retry = RETRY_SECONDS
            if len(due) < self._batch or retry is not None:
                break
        return next_look(await store.next_reminder_at(), now, retry, RETRY_SOON)

    async def _remind(
        self, service: ReviewService, settings: ReviewSettings, now: datetime
    ) -> None:
        store, user = service.store, settings.user_hash
        try:
            due_cards = await service.due_count(user, now)
            plan = plan_reminder(settings, due_cards, now)
            if plan is None:  # the queue's entry was early: move it to the real time
                at = next_post(
                    settings.remind_time, settings.timezone, settings.last_reminded_on, now
                )
                await store.move_reminder(user, at.at)
                return
        except ScheduleError as exc:
            log.warning("review reminder of a member cannot be scheduled: %s", exc)
            await store.clear_reminder(user, notice=BAD_SCHEDULE)
            return
        if not await store.claim_reminder(user, plan.local_date, plan.next_at):
            # Another process claimed the day (and moved the entry the same way), or the
            # member switched reminders off meanwhile (then this changes nothing).
            await store.move_reminder(user, plan.next_at)
            return
        if plan.send:
            self.hand_out(partial(self._send, settings, due_cards), "review-reminder")

    async def _send(self, settings: ReviewSettings, due_cards: int) -> None:
        try:
            await self._deliver(settings, reminder_text(due_cards, 0))
        except ReminderUndeliverable as exc:
            log.info("review reminder undeliverable (%s); switching it off", exc)
            await self._service().store.clear_reminder(settings.user_hash, notice=DMS_CLOSED)

    # -- what the commands do -----------------------------------------------------------------

    async def turn_on(self, user_hash: str, dm_user_id: int, remind_time: str) -> DuePost:
        """`/review remind on`: reminders at `remind_time` in the member's zone; returns the
        first. Raises `ScheduleError` for a bad time (or a stored zone that went away)."""
        store = self._service().store
        settings = await store.review_settings(user_hash)
        at = validate_reminder(remind_time, settings.timezone)
        due = first_reminder(at, settings.timezone, settings.last_reminded_on, self.clock.now())
        await store.set_reminder(user_hash, dm_user_id=dm_user_id, remind_time=at, next_at=due.at)
        self.wake()
        return due

    async def turn_off(self, user_hash: str) -> None:
        await self._service().store.clear_reminder(user_hash)
