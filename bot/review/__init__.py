"""Spaced-repetition review of glossary terms and quiz questions, scheduled with FSRS.

`ReviewService` is what the cog and the console use: `start()` a `ReviewSession` for a member,
`rate()` its cards, read `stats()` and the `forecast()`. `ReminderScheduler` sends the daily
reminders. The state they keep goes through a `ReviewStore` (implemented by `bot.storage`); the
rows are the dataclasses in `_model`.
"""

from fsrs import Rating

from bot.review._cards import QUIZ, TERM, Deck, Flashcard, Kind, card_id, fsrs_id
from bot.review._model import (
    DEFAULT_NEW_PER_DAY,
    DEFAULT_REMIND_TIME,
    MATURE_DAYS,
    MAX_NEW_PER_DAY,
    CardState,
    Phase,
    ReviewEntry,
    ReviewSettings,
    ReviewTotals,
    parse_utc,
    utc_text,
)
from bot.review._queue import (
    DMS_CLOSED,
    REMINDERS_EVENT,
    ReminderScheduler,
    ReminderUndeliverable,
)
from bot.review._reminders import (
    ReminderPlan,
    first_reminder,
    plan_reminder,
    reminder_text,
    validate_reminder,
)
from bot.review._render import RATINGS, back_card, done_card, front_card, stats_card, until
from bot.review._scheduler import LEARNING_STEPS, RELEARNING_STEPS, ReviewScheduler
from bot.review._session import (
    LEARN_AHEAD,
    RateResult,
    RateStatus,
    ReviewOverview,
    ReviewService,
    ReviewSession,
    ReviewSessions,
    interleave,
)
from bot.review._stats import FORECAST_DAYS, DayCount, ReviewStats, due_forecast, review_stats
from bot.review._store import ReviewStore

__all__ = [
    "DEFAULT_NEW_PER_DAY",
    "DEFAULT_REMIND_TIME",
    "DMS_CLOSED",
    "FORECAST_DAYS",
    "LEARNING_STEPS",
    "LEARN_AHEAD",
    "MATURE_DAYS",
    "MAX_NEW_PER_DAY",
    "QUIZ",
    "RATINGS",
    "RELEARNING_STEPS",
    "REMINDERS_EVENT",
    "TERM",
    "CardState",
    "DayCount",
    "Deck",
    "Flashcard",
    "Kind",
    "Phase",
    "RateResult",
    "RateStatus",
    "Rating",
    "ReminderPlan",
    "ReminderScheduler",
    "ReminderUndeliverable",
    "ReviewEntry",
    "ReviewOverview",
    "ReviewScheduler",
    "ReviewService",
    "ReviewSession",
    "ReviewSessions",
    "ReviewSettings",
    "ReviewStats",
    "ReviewStore",
    "ReviewTotals",
    "back_card",
    "card_id",
    "done_card",
    "due_forecast",
    "first_reminder",
    "front_card",
    "fsrs_id",
    "interleave",
    "parse_utc",
    "plan_reminder",
    "reminder_text",
    "review_stats",
    "stats_card",
    "until",
    "utc_text",
    "validate_reminder",
]
