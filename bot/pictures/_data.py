"""What each picture shows, as plain data; no matplotlib here, so the bot's process (and the
console) can build inputs, alt text and text forms without importing it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.content import EARLIEST_YEAR, LATEST_YEAR, LEADERS, PERIOD, Library, Period, parse_period
from bot.review import DayCount
from bot.text import fold

HEATMAP_WEEKS = 12
MAX_TIMELINE_ROWS = 60  # beyond this a picture is unreadable in Discord: narrow the filter

# Who led a mission, as the content's `led_by` names them, in legend order.
ORGANISATIONS = LEADERS
_ORGANISATION_KEYS = {fold(name): name for name in ORGANISATIONS}
_PERIOD = re.compile(PERIOD[0])


class PictureError(Exception):
    """A picture could not be made; the message is for the member."""


@dataclass(frozen=True, slots=True)
class Picture:
    png: bytes
    alt_text: str  # at most 1024 characters, Discord's limit for an attachment description
    text: str  # the same data in full, for screen readers (a button) and the console
    filename: str
    draw_ms: float = 0.0  # time it took to draw
    cpu_ms: float = 0.0  # CPU time of that drawing


# -- progress -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SectionAccuracy:
    title: str
    answered: int
    correct: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.correct / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class ProgressData:
    """Accuracy per section (in the library's section order) and activity per local day (quiz
    answers, reviews and discussion days added up by the caller)."""

    sections: tuple[SectionAccuracy, ...]
    activity: tuple[tuple[date, int], ...]
    today: date
    weeks: int = HEATMAP_WEEKS

    @classmethod
    def build(
        cls,
        sections: Iterable[SectionAccuracy],
        activity: Mapping[date, int],
        today: date,
        weeks: int = HEATMAP_WEEKS,
    ) -> ProgressData:
        first = calendar_start(today, weeks)
        days = tuple(sorted((d, n) for d, n in activity.items() if first <= d <= today and n > 0))
        return cls(tuple(sections), days, today, weeks)


def calendar_start(today: date, weeks: int = HEATMAP_WEEKS) -> date:
    """The Monday that starts the first column of a `weeks`-column calendar ending this week."""
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


# -- forecast -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForecastData:
    days: tuple[DayCount, ...]  # today first


# -- timeline -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class YearMonth:
    year: int
    month: int | None = None  # None: only the year is known

    @classmethod
    def parse(cls, value: object) -> YearMonth:
        """`1994`, `"1994"` or `"1994-10"`, as the content writes `started` and `ended`;
        `ValueError` for anything else."""
        text = str(value).strip()
        if not _PERIOD.match(text):
            raise ValueError(f"{value!r} is not {PERIOD[1]}")
        year, month = parse_period(text)
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise ValueError(f"{text[:4]} is outside {EARLIEST_YEAR}-{LATEST_YEAR}")
        return cls(year, month)

    @classmethod
    def of(cls, period: Period) -> YearMonth:
        return cls(*period)

    @property
    def start(self) -> float:
        """The first moment as a fractional year (the year's start when no month is known)."""
        return self.year + ((self.month or 1) - 1) / 12

    @property
    def end(self) -> float:
        """The last moment as a fractional year (the year's end when no month is known)."""
        return self.year + (self.month or 12) / 12

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    @property
    def words(self) -> str:
        """`Nov 1956`, or `1956` when only the year is known."""
        return f"{date(self.year, self.month, 1):%b} {self.year}" if self.month else str(self.year)


@dataclass(frozen=True, slots=True)
class Mission:
    label: str  # the acronym on its row
    name: str
    started: YearMonth
    ended: YearMonth | None  # None: still active
    led_by: str  # one of ORGANISATIONS

    def span(self, this_year: int) -> tuple[float, float]:
        end = self.ended.end if self.ended else this_year + 1.0
        return self.started.start, max(end, self.started.start + 1 / 12)


@dataclass(frozen=True, slots=True)
class TimelineData:
    missions: tuple[Mission, ...]  # filtered and sorted, at most MAX_TIMELINE_ROWS
    this_year: int
    organisation: str | None = None
    first_year: int | None = None
    last_year: int | None = None
    left_out: int = 0  # missions that matched but did not fit


def organisation_name(text: str) -> str | None:
    """The canonical organisation for `text` (`nato` -> `NATO`), or None."""
    return _ORGANISATION_KEYS.get(fold(text.strip()))


def timeline_data(
    missions: Iterable[Mission],
    this_year: int,
    organisation: str | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> TimelineData:
    """Missions led by `organisation` that were active at some time in the year range, in order
    of their start. Raises `PictureError` for an unknown organisation or a reversed range."""
    org = None
    if organisation:
        org = organisation_name(organisation)
        if org is None:
            raise PictureError(f"Unknown organisation. Choose one of: {', '.join(ORGANISATIONS)}.")
    if first_year is not None and last_year is not None and first_year > last_year:
        raise PictureError("The first year must not be after the last year.")
    chosen = []
    for mission in missions:
        start, end = mission.span(this_year)
        if org is not None and mission.led_by != org:
            continue
        if last_year is not None and start >= last_year + 1:
            continue
        if first_year is not None and end <= first_year:
            continue
        chosen.append(mission)
    chosen.sort(key=lambda m: (m.started.start, m.span(this_year)[1], m.label))
    kept = chosen[:MAX_TIMELINE_ROWS]
    return TimelineData(
        tuple(kept), this_year, org, first_year, last_year, left_out=len(chosen) - len(kept)
    )


LABEL_MAX = 18  # characters on a timeline row's label


def mission_label(name: str, aliases: Iterable[str]) -> str:
    """A mission's row label: the operation's own name for `Operation X` (`Artemis`), else its
    first acronym alias (`UNAMIR`, `UNOSOM II`), else its name without the parenthesis, or a
    short alias when that is too long (`Korea 1950`). Resolutions are never labels."""
    plain = re.sub(r"\s*\(.*\)\s*$", "", name).strip()
    if plain.startswith("Operation ") and len(plain) - 10 <= LABEL_MAX:
        return plain.removeprefix("Operation ")
    for alias in aliases:
        if alias.isupper() and len(alias) <= LABEL_MAX:
            return alias
    if len(plain) <= LABEL_MAX:
        return plain
    short = [a for a in aliases if len(a) <= LABEL_MAX and not a.startswith("Resolution")]
    return short[0] if short else plain


def missions_from_library(library: Library) -> list[Mission]:
    """The library's missions and operations (`Library.missions()`: terms with `started`),
    labelled with their acronyms. The loader has validated the fields; a term with dates but no
    `led_by` cannot be coloured and is left out."""
    missions = []
    for term in library.missions():
        organisation = organisation_name(term.led_by or "")
        if term.start_period is None or organisation is None:
            continue
        ended = YearMonth.of(term.end_period) if term.end_period else None
        label = mission_label(term.name, term.aliases)
        missions.append(Mission(label, term.name, YearMonth.of(term.start_period), ended,
                                organisation))  # fmt: skip
    return missions
