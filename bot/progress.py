"""A member's progress in one server, gathered from the storage: quiz accuracy per section, the
study calendar, the streak, and their private exams (kept apart from group quizzes).

`gather_progress` reads; `progress_view` turns the figures into what `/progress` and the
console show (the picture's data and the card). Activity on a day adds up the quiz answers
given, the exam questions answered and, for a day of discussion with neither, one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.content import Library
from bot.exam import ExamRecord
from bot.pictures import ProgressData, SectionAccuracy, calendar_start
from bot.storage import Storage
from bot.streaks import Streak, streak

EXAMS_SHOWN = 10  # the latest exams summed up in /progress
EXAMS_READ = 200  # exams read for the calendar: far more than twelve weeks hold


@dataclass(frozen=True, slots=True)
class ExamSummary:
    taken: int  # of the latest EXAMS_SHOWN
    last_percent: float
    best_percent: float
    average_percent: float

    def line(self) -> str:
        count = f"{self.taken} exam{'s' if self.taken != 1 else ''}"
        return (
            f"Last {self.last_percent:.0f}% · best {self.best_percent:.0f}% · average "
            f"{self.average_percent:.0f}% over your latest {count} (private, not on the "
            "leaderboard)"
        )


@dataclass(frozen=True, slots=True)
class Progress:
    picture: ProgressData
    scores: tuple[tuple[str, int, int], ...]  # (section id, answered, correct) of group quizzes
    streak: Streak
    exams: ExamSummary | None


def summarise_exams(history: Sequence[ExamRecord]) -> ExamSummary | None:
    """The latest exams (newest first) in four numbers; None before the first exam."""
    if not history:
        return None
    scores = [record.percent for record in history]
    return ExamSummary(len(scores), scores[0], max(scores), sum(scores) / len(scores))


def activity_per_day(
    active_days: Iterable[date],
    answers: Mapping[date, int],
    exams: Iterable[ExamRecord],
    zone: ZoneInfo,
) -> dict[date, int]:
    counts: Counter[date] = Counter(answers)
    for record in exams:
        answered = sum(asked for _, asked, _ in record.by_section) or record.asked
        counts[record.finished_at.astimezone(zone).date()] += answered
    for day in active_days:
        counts[day] = max(counts[day], 1)  # a discussion counts once
    return dict(counts)


def progress_view(
    library: Library,
    scores: Iterable[tuple[str, int, int]],
    activity: Mapping[date, int],
    exams: Sequence[ExamRecord],
    active_days: Iterable[date],
    today: date,
) -> Progress:
    """The figures as /progress shows them: every section in the library's order."""
    scores = tuple(scores)
    by_section = {section_id: (answered, correct) for section_id, answered, correct in scores}
    sections = [
        SectionAccuracy(section.title, *by_section.get(section.id, (0, 0)))
        for section in library.sections.values()
    ]
    picture = ProgressData.build(sections, activity, today)
    return Progress(picture, scores, streak(active_days, today), summarise_exams(exams))


async def gather_progress(
    storage: Storage,
    library: Library,
    guild_id: int,
    user_id: int,
    today: date,
    zone: ZoneInfo,
) -> Progress:
    """Everything /progress shows of one member in one server (reads only)."""
    scores = await storage.progress(guild_id, user_id)
    active_days = await storage.activity_dates(guild_id, user_id)
    answers = await storage.answers_per_day(guild_id, user_id, calendar_start(today))
    exams = await storage.exam_history(storage.user_hash(user_id), None, EXAMS_READ)
    activity = activity_per_day(active_days, answers, exams, zone)
    rows = [(s.section_id, s.answered, s.correct) for s in scores]
    return progress_view(library, rows, activity, exams[:EXAMS_SHOWN], active_days, today)
