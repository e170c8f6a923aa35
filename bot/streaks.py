"""Study streaks: runs of consecutive local days with at least one quiz answer or discussion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Streak:
    current: int
    best: int


def streak(active_days: Iterable[date], today: date) -> Streak:
    """Current and best streak, counting days in the server's time zone.

    The current streak is still alive on a day the member has not studied yet: it ends only once
    a whole local day passes without activity. Dates after `today` (possible only when the server
    moved its time zone) are ignored so they cannot inflate the current streak.
    """
    days = sorted({day for day in active_days if day <= today})
    best = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == _DAY else 1
        best = max(best, run)
        previous = day
    alive = previous is not None and today - previous <= _DAY
    return Streak(current=run if alive else 0, best=best)
