"""The daily-post schedule: time zones, daylight-saving days, restarts and catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import (
    DuePost,
    ScheduleError,
    format_time,
    load_timezone,
    local_instant,
    local_today,
    next_post,
    parse_time,
    timezone_choices,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


class TestParsing:
    @pytest.mark.parametrize(("text", "hour", "minute"), [("09:00", 9, 0), ("9:05", 9, 5)])
    def test_valid_times(self, text: str, hour: int, minute: int) -> None:
        parsed = parse_time(text)
        assert (parsed.hour, parsed.minute) == (hour, minute)
        assert format_time(parsed) == f"{hour:02d}:{minute:02d}"

    @pytest.mark.parametrize("text", ["24:00", "9", "09:60", "9am", "", "09:00:00", "-1:00"])
    def test_invalid_times(self, text: str) -> None:
        with pytest.raises(ScheduleError):
            parse_time(text)

    @pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "europe/london"])
    def test_unknown_zones_are_rejected(self, name: str) -> None:
        with pytest.raises(ScheduleError):
            load_timezone(name)

    def test_naive_now_is_rejected(self) -> None:
        with pytest.raises(ScheduleError):
            next_post("09:00", "UTC", None, datetime(2024, 1, 1, 8, 0))


class TestTimezoneChoices:
    def test_city_prefix_matches(self) -> None:
        assert "Europe/London" in timezone_choices("lond")
        assert timezone_choices("kolkata") == ["Asia/Kolkata"]
        assert timezone_choices("new y") == ["America/New_York"]

    def test_limit_and_empty(self) -> None:
        assert len(timezone_choices("a", limit=25)) == 25
        assert "UTC" in timezone_choices("")
        assert timezone_choices("zzzz-no-such") == []


class TestOrdinaryDays:
    def test_before_post_time_today_is_due_today(self) -> None:
        due = next_post("09:00", "Europe/London", None, utc(2024, 1, 15, 8, 0))
        assert due == DuePost(date(2024, 1, 15), utc(2024, 1, 15, 9, 0))
        assert not due.is_due(utc(2024, 1, 15, 8, 59, 59))
        assert due.is_due(utc(2024, 1, 15, 9, 0))

    def test_summer_time_shifts_the_utc_instant(self) -> None:
        due = next_post("09:00", "Europe/London", date(2024, 7, 14), utc(2024, 7, 14, 12, 0))
        assert due == DuePost(date(2024, 7, 15), utc(2024, 7, 15, 8, 0))

    def test_half_hour_offset_zone(self) -> None:
        due = next_post("09:00", "Asia/Kolkata", None, utc(2024, 3, 31, 1, 0))
        assert due == DuePost(date(2024, 3, 31), utc(2024, 3, 31, 3, 30))

    def test_local_date_differs_from_utc_date(self) -> None:
        # 20:00 UTC on the 15th is already the 16th in Kolkata (01:30).
        now = utc(2024, 3, 15, 20, 0)
        assert local_today(now, ZoneInfo("Asia/Kolkata")) == date(2024, 3, 16)
        due = next_post("09:00", "Asia/Kolkata", date(2024, 3, 15), now)
        assert due == DuePost(date(2024, 3, 16), utc(2024, 3, 16, 3, 30))

    def test_new_york_evening_post(self) -> None:
        due = next_post("21:30", "America/New_York", date(2024, 1, 9), utc(2024, 1, 10, 2, 0))
        # 02:00 UTC on the 10th is 21:00 on the 9th in New York: already posted on the 9th.
        assert due == DuePost(date(2024, 1, 10), local("America/New_York", 2024, 1, 10, 21, 30))


class TestDaylightSavingDays:
    def test_new_york_spring_forward_gap_posts_when_clocks_jump(self) -> None:
        # 2024-03-10: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens.
        due = next_post("02:30", "America/New_York", date(2024, 3, 9), utc(2024, 3, 10, 5, 0))
        assert due.local_date == date(2024, 3, 10)
        assert due.at == utc(2024, 3, 10, 7, 0)
        assert due.at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "03:00"

    def test_new_york_fall_back_posts_once_at_first_occurrence(self) -> None:
        # 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
        due = next_post("01:30", "America/New_York", date(2024, 11, 2), utc(2024, 11, 3, 4, 0))
        assert due == DuePost(date(2024, 11, 3), utc(2024, 11, 3, 5, 30))
        # Posted at the first 01:30: the second 01:30 must not count as due again.
        again = next_post("01:30", "America/New_York", date(2024, 11, 3), utc(2024, 11, 3, 6, 31))
        assert again.local_date == date(2024, 11, 4)
        assert again.at == utc(2024, 11, 4, 6, 30)

    def test_london_spring_forward_gap(self) -> None:
        due = next_post("01:30", "Europe/London", date(2024, 3, 30), utc(2024, 3, 30, 23, 0))
        assert due == DuePost(date(2024, 3, 31), utc(2024, 3, 31, 1, 0))

    def test_london_fall_back_first_occurrence(self) -> None:
        due = next_post("01:30", "Europe/London", date(2024, 10, 26), utc(2024, 10, 26, 22, 0))
        assert due == DuePost(date(2024, 10, 27), utc(2024, 10, 27, 0, 30))

    def test_lord_howe_thirty_minute_spring_forward(self) -> None:
        # 2024-10-06: 02:00 (+10:30) jumps to 02:30 (+11:00); 02:15 does not exist.
        zone = ZoneInfo("Australia/Lord_Howe")
        at = local_instant(date(2024, 10, 6), parse_time("02:15"), zone)
        assert at == utc(2024, 10, 5, 15, 30)
        assert at.astimezone(zone).strftime("%H:%M") == "02:30"

    def test_lord_howe_thirty_minute_fall_back(self) -> None:
        # 2024-04-07: 02:00 (+11:00) falls back to 01:30 (+10:30); 01:45 happens twice.
        due = next_post("01:45", "Australia/Lord_Howe", date(2024, 4, 6), utc(2024, 4, 6, 12, 0))
        assert due == DuePost(date(2024, 4, 7), utc(2024, 4, 6, 14, 45))
        later = next_post("01:45", "Australia/Lord_Howe", date(2024, 4, 7), utc(2024, 4, 6, 15, 16))
        assert later.local_date == date(2024, 4, 8)

    def test_times_beside_the_gap_are_unchanged(self) -> None:
        zone = ZoneInfo("America/New_York")
        day = date(2024, 3, 10)
        assert local_instant(day, parse_time("01:59"), zone) == utc(2024, 3, 10, 6, 59)
        assert local_instant(day, parse_time("03:00"), zone) == utc(2024, 3, 10, 7, 0)

    @pytest.mark.parametrize(
        ("zone", "start"),
        [
            ("Europe/London", date(2024, 3, 25)),
            ("America/New_York", date(2024, 10, 28)),
            ("Australia/Lord_Howe", date(2024, 9, 30)),
            ("Australia/Lord_Howe", date(2024, 4, 1)),
            ("Asia/Kolkata", date(2024, 3, 25)),
        ],
    )
    @pytest.mark.parametrize("hhmm", ["00:00", "01:30", "02:15", "02:30", "09:00", "23:59"])
    def test_a_fortnight_across_a_change_posts_exactly_once_a_day(
        self, zone: str, start: date, hhmm: str
    ) -> None:
        """A scheduler that sleeps until the due post, also woken every 37 minutes by unrelated
        events (settings changes, restarts), posts exactly once per local date, on time."""
        tz = ZoneInfo(zone)
        midnight = parse_time("00:00")
        now = datetime.combine(start, midnight, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(start + timedelta(days=14), midnight, tzinfo=tz).astimezone(UTC)
        last: date | None = None
        posts: list[tuple[date, datetime]] = []
        while now < end:
            due = next_post(hhmm, zone, last, now)
            if due.is_due(now):
                posts.append((due.local_date, now))
                last = due.local_date
                continue
            now = min(due.at, now + timedelta(minutes=37))
        dates = [day for day, _ in posts]
        assert dates == [start + timedelta(days=n) for n in range(14)]
        for day, at in posts:
            assert at == local_instant(day, parse_time(hhmm), tz)
            assert at.astimezone(tz).date() == day
            assert at.astimezone(tz).strftime("%H:%M") >= hhmm


class TestRestartsAndCatchUp:
    def test_down_at_post_time_posts_once_on_return_same_day(self) -> None:
        now = utc(2024, 1, 15, 14, 0)  # back up five hours late
        due = next_post("09:00", "Europe/London", date(2024, 1, 14), now)
        assert due.local_date == date(2024, 1, 15)
        assert due.is_due(now)
        # After the catch-up post is claimed, the next one is tomorrow.
        after = next_post("09:00", "Europe/London", date(2024, 1, 15), now)
        assert after == DuePost(date(2024, 1, 16), utc(2024, 1, 16, 9, 0))
        assert not after.is_due(now)

    def test_restart_after_todays_post_does_not_post_again(self) -> None:
        due = next_post("09:00", "Europe/London", date(2024, 1, 15), utc(2024, 1, 15, 9, 0, 30))
        assert due.local_date == date(2024, 1, 16)

    def test_down_for_days_posts_once_not_once_per_missed_day(self) -> None:
        now = utc(2024, 1, 20, 10, 0)
        due = next_post("09:00", "Europe/London", date(2024, 1, 15), now)
        assert due == DuePost(date(2024, 1, 20), utc(2024, 1, 20, 9, 0))
        assert next_post("09:00", "Europe/London", due.local_date, now).local_date == date(
            2024, 1, 21
        )

    def test_down_over_midnight_does_not_post_yesterdays_fact_late(self) -> None:
        # Down from before yesterday's 23:30 post until 00:10 today: today's post waits for 23:30.
        now = utc(2024, 1, 16, 0, 10)
        due = next_post("23:30", "Europe/London", date(2024, 1, 14), now)
        assert due == DuePost(date(2024, 1, 16), utc(2024, 1, 16, 23, 30))
        assert not due.is_due(now)

    def test_timezone_moved_west_never_posts_a_date_twice(self) -> None:
        # Posted for 2024-01-16 in Kolkata, then the server switched to New York (still the 15th).
        due = next_post("09:00", "America/New_York", date(2024, 1, 16), utc(2024, 1, 15, 20, 0))
        assert due.local_date == date(2024, 1, 17)
