"""When a member's daily review reminder is due: the daily-post rules, per member.

A reminder follows the same rules as a server's daily post (`bot.schedule.next_post`): once per
local date at a wall-clock time in the member's IANA zone, through daylight-saving changes, with
a catch-up the same local day if the bot was down, never twice for one date. Two differences:
a reminder turned on after today's time first goes out tomorrow (not at once), and a day with
no cards due is claimed without a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.review._model import ReviewSettings
from bot.schedule import DuePost, format_time, load_timezone, next_post, parse_time


def validate_reminder(remind_time: str, timezone: str) -> str:
    """The time in `HH:MM` form; raises `bot.schedule.ScheduleError` with a message a member can
    read for a time or zone the scheduler cannot use."""
    load_timezone(timezone)
    return format_time(parse_time(remind_time))


def first_reminder(
    remind_time: str, timezone: str, last_reminded_on: date | None, now: datetime
) -> DuePost:
    """The first reminder after turning reminders on (or moving their time or zone) at `now`."""
    due = next_post(remind_time, timezone, last_reminded_on, now)
    if due.at < now:  # today's time has passed: start tomorrow rather than at once
        due = next_post(remind_time, timezone, due.local_date, now)
    return due


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """What to do for one member whose reminder time has come."""

    local_date: date  # the day to claim
    next_at: datetime  # the reminder after that one
    send: bool  # False: nothing is due, claim the day quietly


def plan_reminder(settings: ReviewSettings, due_cards: int, now: datetime) -> ReminderPlan | None:
    """None if reminders are off or not due yet at `now`; else the day to claim, the next
    reminder time, and whether there is anything to remind about."""
    if not settings.remind:
        return None
    due = next_post(settings.remind_time, settings.timezone, settings.last_reminded_on, now)
    if not due.is_due(now):
        return None
    following = next_post(settings.remind_time, settings.timezone, due.local_date, now)
    return ReminderPlan(due.local_date, following.at, send=due_cards > 0)


def reminder_text(due_cards: int, new_available: int) -> str:
    cards = f"{due_cards} card{'s' if due_cards != 1 else ''}"
    extra = f" and {new_available} new" if new_available else ""
    return (
        f"You have {cards} due for review{extra}. A few minutes now keeps them fresh. "
        "(`/review remind off` stops these messages.)"
    )
