"""Cards for the study-group features: quiz questions and results, leaderboards, progress and
discussion prompts. Plain data like `bot.answers`, so the cogs only render and send them."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.answers import Card, Field, paginate
from bot.content import DiscussionPrompt, Library
from bot.quiz import Question, Reveal, Scoreboard
from bot.streaks import Streak
from bot.text import clean, neutralise, truncate

QUIZ_COLOUR = 0xEC4899
DISCUSS_COLOUR = 0x14B8A6
DAILY_COLOUR = 0xF59E0B
LETTERS = "ABCDE"
NAME_MAX = 64
THREAD_PREFIX = "Discuss: "
NO_THREADS_NOTE = "Threads are not allowed here, so reply in this channel."
THREAD_NAME_MAX = 100  # Discord's limit for a thread name
LABEL_MAX = 80  # Discord's limit for a button label


def member_name(name: str) -> str:
    """A display name made safe to show: names are user-chosen and may hold markdown."""
    return neutralise(clean(name, NAME_MAX)) or "someone"


def choice_label(index: int, choice: str) -> str:
    return truncate(f"{LETTERS[index]}. {choice}", LABEL_MAX)


def question_text(question: Question) -> str:
    """A question and its lettered choices, as a group quiz and an exam show them."""
    lines = [question.text, ""]
    lines += [f"**{LETTERS[i]}.** {choice}" for i, choice in enumerate(question.choices)]
    return "\n".join(lines)


def question_card(question: Question, index: int, total: int, seconds: float) -> Card:
    return Card(
        title=f"Question {index + 1}/{total}",
        description=question_text(question),
        footer=f"One answer each · closes in {seconds:g} s or when everyone has answered",
        colour=QUIZ_COLOUR,
    )


def reveal_card(reveal: Reveal, section_title: str | None = None) -> Card:
    question = reveal.question
    answered = sum(reveal.counts)
    lines = [question.text, ""]
    for i, (choice, count) in enumerate(zip(question.choices, reveal.counts, strict=True)):
        mark = "✅" if i == question.answer_index else "▫️"
        lines.append(f"{mark} **{LETTERS[i]}.** {choice} — {_people(count)}")
    fields = [Field("Why", question.explanation)]
    if reveal.correct_names:
        names = ", ".join(member_name(n) for n in reveal.correct_names)
        fields.append(Field("Right", truncate(names, 1024)))
    if question.source is not None:
        source = question.source
        title = truncate(source.title, 200)
        fields.append(Field("Source", f"[{title}]({source.url})" if source.url else title))
    footer = f"{answered} answered"
    if section_title:
        footer += f" · {section_title}"
    right = LETTERS[question.answer_index]
    return Card(
        title=f"Question {reveal.index + 1}/{reveal.total}: {right} is right",
        description="\n".join(lines),
        fields=tuple(fields),
        footer=footer,
        colour=QUIZ_COLOUR,
    )


def scoreboard_card(board: Scoreboard) -> Card:
    if board.lines:
        lines = [
            f"{_medal(line.rank)} **{member_name(line.display_name)}**: "
            f"{line.correct}/{line.answered} right"
            for line in board.lines[:20]
        ]
        if len(board.lines) > 20:
            lines.append(f"…and {len(board.lines) - 20} more")
    else:
        lines = ["Nobody answered this time."]
    footer = f"{board.asked} of {board.total} questions asked"
    if board.stopped_by is not None:
        footer += " · stopped early"
    footer += " · /leaderboard for the server's standings"
    return Card(
        title="Quiz results",
        description="\n".join(lines),
        footer=footer,
        colour=QUIZ_COLOUR,
    )


@dataclass(frozen=True, slots=True)
class LeaderboardLine:
    display_name: str
    answered: int
    correct: int
    streak: Streak | None = None


def leaderboard_card(
    lines: Sequence[LeaderboardLine], section_title: str | None, month: str | None
) -> Card:
    scope = section_title or "all sections"
    period = month or "all time"
    if not lines:
        text = "No quiz answers yet. Start one with /quiz."
    else:
        rows = []
        rank = 0
        previous: tuple[int, int] | None = None
        for position, line in enumerate(lines, start=1):
            if (line.correct, line.answered) != previous:
                rank, previous = position, (line.correct, line.answered)
            streak = ""
            if line.streak is not None and line.streak.current:
                streak = f" · 🔥 {line.streak.current} day{'s' if line.streak.current != 1 else ''}"
            rows.append(
                f"{_medal(rank)} **{member_name(line.display_name)}**: {line.correct} right of "
                f"{line.answered} ({_percent(line.correct, line.answered)}){streak}"
            )
        text = "\n".join(rows)
    return Card(
        title=truncate(f"Leaderboard: {scope}, {period}", 256),
        description=text,
        footer="Ranked by correct answers, then accuracy · 🔥 study streak in days",
        colour=QUIZ_COLOUR,
    )


NO_EXAMS = "No exams yet: `/quiz exam` is a private, timed test of your own."


def progress_card(
    scores: Sequence[tuple[str, int, int]],
    streak: Streak,
    section_titles: Mapping[str, str],
    exams: str | None = None,
) -> Card:
    """`scores` holds (section id, answered, correct) rows of group quizzes (15 sections fit
    one card); `exams` sums up the member's private exams, shown apart."""
    answered = sum(row[1] for row in scores)
    correct = sum(row[2] for row in scores)
    summary = (
        f"**{correct}** right of **{answered}** ({_percent(correct, answered)})\n"
        f"Study streak: **{streak.current}** day{'s' if streak.current != 1 else ''} "
        f"(best {streak.best})"
    )
    blocks = [summary]
    if scores:
        blocks.append("**Group quizzes by section**")
        for section_id, n, right in sorted(scores, key=lambda row: row[2] / max(row[1], 1)):
            title = section_titles.get(section_id, section_id)
            blocks.append(f"• {title}: {right}/{n} ({_percent(right, n)})")
    else:
        blocks.append("No quiz answers yet: try /quiz.")
    fields = (Field("Exams", exams or NO_EXAMS),)
    return paginate("Your progress", blocks, fields, None, QUIZ_COLOUR)[0]


@dataclass(frozen=True, slots=True)
class DailyStatus:
    """What `/daily status` shows; times and channels already in the words of the platform."""

    enabled: bool
    channel: str | None
    daily_time: str
    timezone: str
    discussion: bool
    next_post: str | None
    facts_left: int
    facts_total: int
    problem: str | None


def daily_status_card(status: DailyStatus) -> Card:
    fields = []
    if status.channel is not None:
        fields.append(Field("Channel", status.channel, inline=True))
    fields.append(Field("Time", f"{status.daily_time} ({status.timezone})", inline=True))
    fields.append(Field("Discussion thread", "yes" if status.discussion else "no", inline=True))
    if status.next_post is not None:
        fields.append(Field("Next post", status.next_post))
    left = f"{status.facts_left} of {status.facts_total} (then a new shuffle)"
    fields.append(Field("Facts left in the deck", left))
    if status.problem:
        fields.append(Field("⚠ Last problem", truncate(status.problem, 1024)))
    off = "Off. A moderator can turn it on with `/daily set`."
    return Card(
        title="Daily fact",
        description="On." if status.enabled else off,
        fields=tuple(fields),
        colour=DAILY_COLOUR,
    )


def pick_prompt(
    library: Library, section: str | None, rng: random.Random | None = None
) -> DiscussionPrompt | None:
    """A prompt of the section when it has one, else any prompt; None without prompts."""
    chooser = rng or random
    prompts = library.in_section(library.prompts, section)
    if not prompts:
        prompts = list(library.prompts.values())
    return chooser.choice(prompts) if prompts else None


def prompt_card(library: Library, prompt: DiscussionPrompt, note: str | None = None) -> Card:
    section = library.sections.get(prompt.section)
    fields = (Field("Section", section.title, inline=True),) if section else ()
    footer = note or "Reply in the thread · every day you take part counts towards your streak"
    return Card(
        title="Discussion",
        description=prompt.prompt,
        fields=fields,
        footer=footer,
        colour=DISCUSS_COLOUR,
    )


def thread_name(section_title: str | None) -> str:
    return truncate(THREAD_PREFIX + (section_title or "study group"), THREAD_NAME_MAX)


def is_discussion_thread(name: str) -> bool:
    return name.startswith(THREAD_PREFIX)


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _medal(rank: int) -> str:
    return {1: "🥇", 2: "🥈", 3: "🥉"}.get(rank, f"{rank}.")
