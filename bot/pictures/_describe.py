"""Each picture's data in words: alt text short enough for Discord (1024 characters) and a full
text form for screen readers and the console. Both say what the picture shows, not how."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from bot.pictures._data import ForecastData, Mission, ProgressData, TimelineData, calendar_start
from bot.text import truncate

ALT_MAX = 1024


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _fit(head: str, items: Iterable[str], tail: str = "") -> str:
    """`head`, then as many `items` as fit in ALT_MAX with `tail`, saying how many were left out."""
    items = list(items)
    parts = [head]
    for shown, item in enumerate(items):
        more = f"…and {len(items) - shown} more."
        if sum(map(len, parts)) + len(parts) + len(item) + len(more) + len(tail) + 2 > ALT_MAX:
            parts.append(more)
            break
        parts.append(item)
    return truncate(" ".join([*parts, tail]).strip(), ALT_MAX)


def _percent(value: float | None) -> str:
    return "no answers yet" if value is None else f"{round(value)}%"


def _levels(count: int) -> str:
    return f"{count} activit{'y' if count == 1 else 'ies'}"


# -- progress -------------------------------------------------------------------------------


def _activity_summary(data: ProgressData) -> str:
    first = calendar_start(data.today, data.weeks)
    total_days = (data.today - first).days + 1
    active = len(data.activity)
    total = sum(n for _, n in data.activity)
    if not active:
        return (
            f"Calendar of study activity from {_day(first)} to {_day(data.today)}: no activity yet."
        )
    busiest_day, busiest = max(data.activity, key=lambda item: (item[1], item[0]))
    recent = sum(1 for d, _ in data.activity if d > data.today - timedelta(days=7))
    return (
        f"Calendar of study activity from {_day(first)} to {_day(data.today)}: active on "
        f"{active} of {total_days} days, {_levels(total)} in all, most on {_day(busiest_day)} "
        f"({busiest}); {recent} active day{'s' if recent != 1 else ''} in the last 7."
    )


def progress_alt(data: ProgressData) -> str:
    answered = [s for s in data.sections if s.answered]
    head = "Bar chart of quiz accuracy by section:"
    if not answered:
        head = "Bar chart of quiz accuracy by section: no quiz answers yet."
    items = [f"{s.title} {_percent(s.percent)} of {s.answered};" for s in answered]
    return _fit(head, items, _activity_summary(data))


def progress_text(data: ProgressData) -> str:
    lines = ["Quiz accuracy by section"]
    for s in data.sections:
        detail = f" ({s.correct}/{s.answered} right)" if s.answered else ""
        lines.append(f"  {s.title}: {_percent(s.percent)}{detail}")
    lines += ["", _activity_summary(data)]
    if data.activity:
        lines.append("Active days:")
        lines += [f"  {d:%a} {_day(d)}: {_levels(n)}" for d, n in data.activity]
    return "\n".join(lines)


# -- forecast -------------------------------------------------------------------------------


def _forecast_items(data: ForecastData) -> list[str]:
    return [
        f"{'today' if n == 0 else f'{d.day:%a} {d.day.day} {d.day:%b}'}: {d.count};"
        for n, d in enumerate(data.days)
    ]


def forecast_alt(data: ForecastData) -> str:
    total = sum(d.count for d in data.days)
    if not data.days:
        return "Bar chart of cards due: no days to show."
    head = (
        f"Bar chart of review cards due on each of the next {len(data.days)} days, {total} in all:"
    )
    return _fit(head, _forecast_items(data))


def forecast_text(data: ForecastData) -> str:
    total = sum(d.count for d in data.days)
    lines = [f"Cards due over the next {len(data.days)} days ({total} in all)"]
    lines += [f"  {item.rstrip(';')}" for item in _forecast_items(data)]
    return "\n".join(lines)


# -- timeline -------------------------------------------------------------------------------


def _scope(data: TimelineData) -> str:
    parts = [f"led by {data.organisation}" if data.organisation else "of all organisations"]
    if data.first_year is not None or data.last_year is not None:
        parts.append(f"active {data.first_year or '…'}-{data.last_year or 'now'}")
    return ", ".join(parts)


def _period(mission: Mission) -> str:
    if mission.ended is None:
        return f"from {mission.started.words}, ongoing"
    return f"{mission.started.words} to {mission.ended.words}"


def _mission_item(mission: Mission) -> str:
    return f"{mission.label} ({mission.led_by}) {_period(mission)};"


def timeline_alt(data: TimelineData) -> str:
    if not data.missions:
        return f"Timeline of missions {_scope(data)}: none match."
    head = (
        f"Timeline of {len(data.missions)} missions and operations {_scope(data)}, "
        "one bar per mission from start to end, coloured by who led it:"
    )
    tail = f"{data.left_out} more matched but were not drawn." if data.left_out else ""
    return _fit(head, [_mission_item(m) for m in data.missions], tail)


def timeline_text(data: TimelineData) -> str:
    lines = [f"Missions and operations {_scope(data)} ({len(data.missions)})"]
    if not data.missions:
        lines.append("  none match")
    for m in data.missions:
        lines.append(f"  {m.label}: {m.name}, led by {m.led_by}, {_period(m)}")
    if data.left_out:
        lines.append(f"  …{data.left_out} more: choose an organisation or years to see them")
    return "\n".join(lines)
