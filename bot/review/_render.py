"""Review answers as `Card`s: a card's front and back, the end of a session, and the stats.

Plain data like `bot.answers`, so the cog renders them as embeds and the console as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fsrs import Rating

from bot.answers import DISCORD, Card, Field, Voice
from bot.review._cards import TERM, Flashcard
from bot.review._session import ReviewSession
from bot.review._stats import DayCount, ReviewStats

REVIEW_COLOUR = 0x6366F1
RATINGS: tuple[tuple[Rating, str], ...] = (
    (Rating.Again, "Again"),
    (Rating.Hard, "Hard"),
    (Rating.Good, "Good"),
    (Rating.Easy, "Easy"),
)
RATING_HELP = "Again: forgot · Hard: barely · Good: remembered · Easy: without effort"


def _title(card: Flashcard) -> str:
    return "Review: glossary term" if card.kind == TERM else "Review: quiz question"


def _footer(section_title: str | None, remaining: int) -> str:
    where = f"{section_title} · " if section_title else ""
    return f"{where}{remaining} card{'s' if remaining != 1 else ''} left in this session"


def front_card(card: Flashcard, section_title: str | None, remaining: int) -> Card:
    hint = "What does it mean?" if card.kind == TERM else "Which answer is right?"
    return Card(
        title=_title(card),
        description=f"**{card.front}**\n\n*{hint}*" if card.kind == TERM else card.front,
        footer=_footer(section_title, remaining),
        colour=REVIEW_COLOUR,
    )


def back_card(card: Flashcard, section_title: str | None, remaining: int) -> Card:
    front = f"**{card.front}**" if card.kind == TERM else card.front
    fields = [Field("Answer", card.back)]
    if card.note:
        fields.append(Field("⚠ What the article gets wrong", card.note))
    fields.append(Field("How well did you remember it?", RATING_HELP))
    return Card(
        title=_title(card),
        description=front,
        fields=tuple(fields),
        footer=_footer(section_title, remaining),
        colour=REVIEW_COLOUR,
    )


def until(moment: datetime, now: datetime) -> str:
    """`in 9 minutes`, `in 3 hours`, `in 2 days`."""
    seconds = max(0.0, (moment - now).total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = round(seconds / size)
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    return "in under a minute"


def done_card(session: ReviewSession, now: datetime, voice: Voice = DISCORD) -> Card:
    """The end of a session; `voice` names the commands (`/review stats` or `review stats`)."""
    reviewed = f"You reviewed {session.reviewed} card{'s' if session.reviewed != 1 else ''}."
    if session.reviewed == 0:
        reviewed = "Nothing is due right now."
    waiting = session.next_learning_at()
    lines = [reviewed]
    if waiting is not None:
        again = "press Continue" if voice is DISCORD else f"type `{voice.command('review')}`"
        lines.append(f"Cards you found hard come back {until(waiting, now)}: {again} then.")
    else:
        stats = voice.command("review stats")
        lines.append(f"Come back tomorrow: `{stats}` shows what falls due when.")
    return Card(title="Review done", description="\n".join(lines), colour=REVIEW_COLOUR)


def stats_card(
    stats: ReviewStats, forecast: Sequence[DayCount] = (), limit: int | None = None
) -> Card:
    retention = "not enough mature cards yet"
    if stats.retention is not None:
        retention = f"{round(100 * stats.retention)}% remembered (Good or Easy)"
    days = stats.streak.current
    streak = f"{days} day{'s' if days != 1 else ''} (best {stats.streak.best})"
    fields = [
        Field("Due now", str(stats.due_now), inline=True),
        Field("Due today", str(stats.due_today), inline=True),
        Field("Due this week", str(stats.due_this_week), inline=True),
        Field("New cards left today", str(stats.new_available), inline=True),
        Field("Reviews", f"{stats.reviews} ({stats.reviews_today} today)", inline=True),
        Field("Streak", streak, inline=True),
        Field("Retention on mature cards", f"{retention} · {stats.mature_cards} mature cards"),
    ]
    if forecast:  # the forecast picture's data as text, for screen readers and the console
        days = [("Today" if n == 0 else f"{d.day:%a} {d.day.day}") + f": {d.count}"
                for n, d in enumerate(forecast)]  # fmt: skip
        weeks = [" · ".join(days[start : start + 7]) for start in range(0, len(days), 7)]
        fields.append(Field(f"Due over the next {len(forecast)} days", "\n".join(weeks)))
    footer = f"New cards per day: {limit}" if limit is not None else None
    return Card(
        title="Your reviews",
        description=f"You have started {stats.cards_started} cards.",
        fields=tuple(fields),
        footer=footer,
        colour=REVIEW_COLOUR,
    )
