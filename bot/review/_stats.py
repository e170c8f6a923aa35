"""What `/review stats` reports and the 14-day forecast, from card states and log counts.

"Today" and "this week" are the member's local days: a card is due today if it falls due
before the member's next local midnight (overdue cards included), due this week if before the
midnight that ends the seventh day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.review._model import CardState, ReviewTotals
from bot.schedule import local_instant, local_today
from bot.streaks import Streak, streak

FORECAST_DAYS = 14
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True, slots=True)
class ReviewStats:
    due_now: int
    due_today: int  # includes due_now
    due_this_week: int  # includes due_today
    new_available: int  # new cards the limit still allows today
    cards_started: int  # cards rated at least once
    mature_cards: int
    reviews: int  # ratings, all time
    reviews_today: int
    retention: float | None  # share of Good/Easy among ratings of mature cards
    streak: Streak  # consecutive local days with at least one rating


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of the local midnight that ends `day`."""
    return local_instant(day + timedelta(days=1), _MIDNIGHT, zone)


def review_stats(
    states: Iterable[CardState],
    totals: ReviewTotals,
    review_days: Mapping[date, int],
    new_available: int,
    now: datetime,
    zone: ZoneInfo,
) -> ReviewStats:
    states = list(states)
    today = local_today(now, zone)
    tonight = end_of_day(today, zone)
    week_end = end_of_day(today + timedelta(days=6), zone)
    return ReviewStats(
        due_now=sum(state.due <= now for state in states),
        due_today=sum(state.due < tonight for state in states),
        due_this_week=sum(state.due < week_end for state in states),
        new_available=new_available,
        cards_started=len(states),
        mature_cards=sum(state.mature for state in states),
        reviews=totals.reviews,
        reviews_today=review_days.get(today, 0),
        retention=totals.retention,
        streak=streak(review_days, today),
    )


def due_forecast(
    states: Iterable[CardState], now: datetime, zone: ZoneInfo, days: int = FORECAST_DAYS
) -> tuple[DayCount, ...]:
    """Cards falling due on each of the next `days` local days, today first; cards already
    overdue count for today."""
    today = local_today(now, zone)
    counts = dict.fromkeys((today + timedelta(days=n) for n in range(days)), 0)
    for state in states:
        day = max(today, state.due.astimezone(zone).date())
        if day in counts:
            counts[day] += 1
    return tuple(DayCount(day, count) for day, count in counts.items())
