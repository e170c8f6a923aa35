"""`review` in `peacebot console`: the same review service and storage as `/review`, as text.

The console is one local member (the hash of user id 0 in the database given with `--db`): a
card's front, Enter (or `show`) for its back, then 1-4 for the rating, each saved before the
next card, exactly as the buttons do on Discord.
"""

from __future__ import annotations

from datetime import datetime

from bot.answers import CONSOLE
from bot.render_text import render_card
from bot.review import (
    RATINGS,
    Kind,
    RateStatus,
    Rating,
    ReviewService,
    ReviewSession,
    back_card,
    done_card,
    front_card,
    stats_card,
    until,
)
from bot.storage import StorageError

CONSOLE_USER_ID = 0
RATE_HELP = "Rate it: " + " · ".join(f"{int(rating)} {label}" for rating, label in RATINGS)
SHOW_HELP = "Press Enter (or type 'show') for the answer; 'stop' ends the review."
NO_DATABASE = (
    "Reviews need a database to remember your cards: start the console with --db PATH "
    "(or set PEACEBOT_DB), not --db none."
)
KINDS = {kind.value: kind for kind in Kind}


class ConsoleReview:
    """The console's review: `start` a session, then `answer` each line until it ends."""

    def __init__(self, service: ReviewService, user_hash: str, titles: dict[str, str]) -> None:
        self.service = service
        self.user_hash = user_hash
        self.titles = titles  # section id -> title
        self.session: ReviewSession | None = None
        self.back_shown = False

    @property
    def active(self) -> bool:
        return self.session is not None

    def _now(self) -> datetime:
        return self.service.clock()

    async def start(self, section: str | None, kind: Kind) -> str:
        self.session = await self.service.start(
            self.user_hash, section=section, kind=kind, now=self._now()
        )
        self.back_shown = False
        return self._show()

    async def stats(self) -> str:
        seen = await self.service.overview(self.user_hash, self._now())
        return render_card(stats_card(seen.stats, seen.forecast, limit=seen.settings.new_per_day))

    async def answer(self, text: str) -> str:
        session = self.session
        assert session is not None
        word = text.strip().lower()
        if word in {"stop", "quit", "exit"}:
            return self.stop()
        card = session.current
        assert card is not None  # a session without a card to show has ended (`_show`)
        if not self.back_shown:
            if word in {"", "show"}:
                self.back_shown = True
                return self._show()
            return SHOW_HELP
        if word not in {"1", "2", "3", "4"}:
            return RATE_HELP
        rating = Rating(int(word))
        try:
            result = await session.rate(card.id, rating, self._now())
        except StorageError as exc:
            return f"That rating could not be saved ({exc}); type it again.\n\n{RATE_HELP}"
        self.back_shown = False
        note = ""
        if result.status is RateStatus.RATED and result.state is not None:
            note = f"{dict(RATINGS)[rating]}: back {until(result.state.due, self._now())}.\n\n"
        return note + self._show()

    def stop(self) -> str:
        """End the review; what to say (also when input ends mid-review)."""
        session, self.session = self.session, None
        if session is None:
            return ""
        count = session.reviewed
        return f"Review stopped: {count} card{'s' if count != 1 else ''} reviewed, all saved."

    def _show(self) -> str:
        session = self.session
        assert session is not None
        card = session.current
        if card is None:  # the end; cards still in their learning step wait for the next `review`
            self.session = None
            return render_card(done_card(session, self._now(), CONSOLE))
        title, remaining = self.titles.get(card.section), session.remaining
        if self.back_shown:
            return render_card(back_card(card, title, remaining)) + f"\n\n{RATE_HELP}"
        return render_card(front_card(card, title, remaining)) + f"\n\n{SHOW_HELP}"
