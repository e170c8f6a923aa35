"""Study streaks from local activity dates."""

from __future__ import annotations

from datetime import date, timedelta

from bot.streaks import Streak, streak

TODAY = date(2024, 3, 15)


def days_ago(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


def test_no_activity() -> None:
    assert streak([], TODAY) == Streak(current=0, best=0)


def test_active_today_only() -> None:
    assert streak(days_ago(0), TODAY) == Streak(1, 1)


def test_run_ending_today() -> None:
    assert streak(days_ago(0, 1, 2, 3), TODAY) == Streak(4, 4)


def test_run_ending_yesterday_is_still_current() -> None:
    assert streak(days_ago(1, 2, 3), TODAY) == Streak(3, 3)


def test_a_missed_day_breaks_the_current_streak() -> None:
    assert streak(days_ago(2, 3, 4), TODAY) == Streak(0, 3)


def test_best_is_the_longest_run_anywhere() -> None:
    dates = days_ago(0, 1, 10, 11, 12, 13, 14, 20)
    assert streak(dates, TODAY) == Streak(2, 5)


def test_duplicates_and_order_do_not_matter() -> None:
    dates = days_ago(2, 0, 1, 1, 0, 2)
    assert streak(dates, TODAY) == Streak(3, 3)


def test_across_month_and_year_ends() -> None:
    today = date(2024, 1, 1)
    dates = [date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1)]
    assert streak(dates, today) == Streak(3, 3)
    leap = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert streak(leap, date(2024, 3, 1)) == Streak(3, 3)


def test_future_dates_from_a_time_zone_change_are_ignored() -> None:
    dates = [*days_ago(0, 1), TODAY + timedelta(days=1)]
    assert streak(dates, TODAY) == Streak(2, 2)
