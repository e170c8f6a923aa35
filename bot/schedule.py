"""When is a server's next daily post due? Pure date maths, with "now" always passed in.

A server posts once per local date at its configured wall-clock time. The rules:
- a wall-clock time that does not exist that day (skipped by a spring-forward change) posts at the
  first valid instant after it, i.e. the moment the clocks jump;
- a wall-clock time that happens twice (repeated by a fall-back change) posts once, at the first
  occurrence;
- catch-up: a post that was due earlier today but has not been made (the bot was down) is due at
  once; days that passed entirely while the bot was down are not made up, so a return never
  produces two posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A daily time or time zone the scheduler cannot use."""


@dataclass(frozen=True, slots=True)
class DuePost:
    """The next post: the local date it belongs to and the UTC instant it is due."""

    local_date: date
    at: datetime

    def is_due(self, now: datetime) -> bool:
        return now >= self.at


def parse_time(text: str) -> time:
    """`"9:05"` / `"09:05"` -> `time(9, 5)`; anything else raises `ScheduleError`."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ScheduleError(f"{text!r} is not a time of day in 24-hour HH:MM form, e.g. 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def load_timezone(name: str) -> ZoneInfo:
    """An IANA zone such as `Europe/London`; unknown names raise `ScheduleError`."""
    cleaned = name.strip()
    # ZoneInfo accepts file-system paths; restrict to the published names so "../x" cannot load.
    if cleaned not in _timezone_names():
        raise ScheduleError(f"{name!r} is not a known time zone name (e.g. Europe/London)")
    return _zone(cleaned)


@cache
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only a few zones strongly; the scheduler meets hundreds every wake-up.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata mismatch
        raise ScheduleError(f"time zone {name!r} could not be loaded") from exc


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _sorted_timezone_names() -> tuple[str, ...]:
    return tuple(sorted(_timezone_names()))


def timezone_choices(partial: str, limit: int = 25) -> list[str]:
    """Time zone names for autocomplete: prefix matches of the name or its city part first."""
    needle = partial.strip().lower().replace(" ", "_")
    names = _sorted_timezone_names()
    if not needle:
        preferred = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata")
        return [name for name in preferred if name in _timezone_names()][:limit]
    starts, contains = [], []
    for name in names:
        lowered = name.lower()
        city = lowered.rsplit("/", 1)[-1]
        if lowered.startswith(needle) or city.startswith(needle):
            starts.append(name)
        elif needle in lowered:
            contains.append(name)
    return (starts + contains)[:limit]


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return _require_aware(now).astimezone(zone).date()


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`, following the DST rules above."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc  # exists; with fold=0 an ambiguous time resolves to its first occurrence
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over the non-existent `wall` time.

    Read with the offset from before the change, `wall` maps to an instant after the jump; read
    with the offset from after it, to an instant before. The jump lies between: find it by
    bisection over whole seconds (transitions are on whole seconds in the tz database).
    """
    after_jump = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    before_jump = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    late_offset = after_jump.astimezone(zone).utcoffset()
    low, high = 0, int((after_jump - before_jump).total_seconds())
    while low < high:
        middle = (low + high) // 2
        if (before_jump + timedelta(seconds=middle)).astimezone(zone).utcoffset() == late_offset:
            high = middle
        else:
            low = middle + 1
    return before_jump + timedelta(seconds=low)


def next_post(
    daily_time: str, timezone: str, last_posted_on: date | None, now: datetime
) -> DuePost:
    """The next post for a server, given the last local date it posted on and the UTC `now`.

    The returned instant may be in the past: that is a catch-up post, due at once.
    """
    at = parse_time(daily_time)
    zone = load_timezone(timezone)
    today = local_today(now, zone)
    if last_posted_on is None or last_posted_on < today:
        day = today
    else:
        # Already posted today, or on a later date (the time zone was moved west): never
        # post twice for one local date.
        day = last_posted_on + timedelta(days=1)
    return DuePost(local_date=day, at=local_instant(day, at, zone))


def _require_aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ScheduleError("the scheduler needs an aware datetime for 'now'")
    return now
