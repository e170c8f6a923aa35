"""`/review`: spaced repetition on Discord, and the daily reminder by direct message.

The core is `bot.review` (the session, FSRS, the reminder queue); this cog turns slash commands
and button presses into calls of it and its answers into private messages. Everything a member
sees is ephemeral: their cards, their stats, their settings. Buttons carry what they need in
their custom id (owner, the session's filter, the card), so after a restart a press rebuilds the
session from the storage and carries on at the card on screen.

Slash commands only (no prefix form): a review must be private, and only an interaction can
answer privately in a server channel.

Reminders are direct messages, and Discord delivers the interactions of direct messages (the
reminder's "Start review" button) to shard 0 only; so the process that runs shard 0 runs the
reminder queue (`owns_direct_messages`). The claim rows in the database still keep a reminder
to one message if two processes ever run it (a rolling deploy).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.content import ID_PATTERN
from bot.pictures import ForecastData, PictureError
from bot.review import (
    QUIZ,
    RATINGS,
    TERM,
    Deck,
    Flashcard,
    Kind,
    RateStatus,
    Rating,
    ReminderScheduler,
    ReminderUndeliverable,
    ReviewService,
    ReviewSession,
    ReviewSessions,
    ReviewSettings,
    back_card,
    card_id,
    done_card,
    front_card,
    stats_card,
    until,
)
from bot.schedule import ScheduleError, load_timezone, timezone_choices
from bot.timers import MAX_SLEEP, SHARED_MAX_SLEEP
from cogs._study import resolve_section, section_autocomplete
from cogs._ui import ReportingView, add_report_button, card_to_embed, guarded
from cogs.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

# custom_id layouts (at most 98 characters: entry ids are at most 64, user ids 20 digits):
#   pb:rv:<act>:<owner>:<kind><scope>:<t|q>:<entry id>
#       act: a (show the answer), 1-4 (the rating), c (continue once learning cards are due)
#       kind: a (all), t (terms), q (questions); scope: s (the card's section only) or -
#   pb:rv:go:<owner>        "Start review" under a reminder
REVIEW_TEMPLATE = (
    r"pb:rv:(?P<act>[a1-4c]):(?P<owner>\d{1,20}):(?P<kind>[atq])(?P<scope>[s-])"
    rf":(?P<card>[tq]):(?P<entry>{ID_PATTERN})"
)
START_TEMPLATE = r"pb:rv:go:(?P<owner>\d{1,20})"
KIND_CODES = {Kind.ALL: "a", Kind.TERMS: "t", Kind.QUESTIONS: "q"}
CARD_CODES = {TERM: "t", QUIZ: "q"}
RATING_STYLES = {
    Rating.Again: discord.ButtonStyle.danger,
    Rating.Hard: discord.ButtonStyle.secondary,
    Rating.Good: discord.ButtonStyle.success,
    Rating.Easy: discord.ButtonStyle.primary,
}

NOT_YOURS = "These are someone else's cards. `/review start` opens yours."
BUSY = "Your last rating is still being saved; press again in a moment."
ALREADY_RATED = "That card was rated already; here is your next one."
NO_DMS = (
    "I can't send you direct messages, so reminders stay off. Allow direct messages from this "
    "server's members (Privacy Settings), then try `/review remind on` again."
)
DESCRIBE_KIND = "terms (glossary), questions (quiz) or all (default)"


def owns_direct_messages(bot: discord.Client) -> bool:
    """Whether this process runs shard 0, where Discord delivers direct-message interactions
    (an unsharded bot always does)."""
    if isinstance(bot, discord.AutoShardedClient):
        return bot.shard_ids is None or 0 in bot.shard_ids
    return bot.shard_id in (None, 0)


# -- buttons ----------------------------------------------------------------------------------


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button], template=REVIEW_TEMPLATE):
    """Show answer, a rating, or Continue, on one card of one member's session."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(REVIEW_TEMPLATE)

    def __init__(
        self,
        act: str,
        owner_id: int,
        kind: Kind,
        scoped: bool,
        card: str,
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ) -> None:
        kind_code = KIND_CODES[kind]
        card_kind, _, entry = card.partition(":")
        custom_id = (
            f"pb:rv:{act}:{owner_id}:{kind_code}{'s' if scoped else '-'}:"
            f"{CARD_CODES[card_kind]}:{entry}"
        )
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.act, self.owner_id, self.kind, self.scoped, self.card = (
            act,
            owner_id,
            kind,
            scoped,
            card,
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ReviewButton:
        kind = next(k for k, code in KIND_CODES.items() if code == match["kind"])
        card = card_id(TERM if match["card"] == "t" else QUIZ, match["entry"])
        label = getattr(item, "label", None) or "…"
        owner = int(match["owner"])
        return cls(match["act"], owner, kind, match["scope"] == "s", card, label)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: _cog(interaction).on_press(interaction, self), "review")


class StartReviewButton(discord.ui.DynamicItem[discord.ui.Button], template=START_TEMPLATE):
    """Under a reminder: starts a review of everything due, privately."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(START_TEMPLATE)

    def __init__(self, owner_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Start review",
                style=discord.ButtonStyle.success,
                custom_id=f"pb:rv:go:{owner_id}",
            )
        )
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> StartReviewButton:
        return cls(int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async def start() -> None:
            cog = _cog(interaction)
            if interaction.user.id != self.owner_id:
                await send_ephemeral(interaction, NOT_YOURS)
                return
            await cog.start_session(interaction, None, Kind.ALL)

        await guarded(interaction, start, "a start-review button")


def _cog(interaction: discord.Interaction) -> Review:
    cog = interaction.client.get_cog("Review")  # type: ignore[attr-defined]
    if cog is None:
        raise RuntimeError("the review cog is not loaded")
    return cog  # type: ignore[no-any-return]


def _scope(session: ReviewSession) -> tuple[Kind, bool]:
    return session.kind, session.section is not None


def front_view(owner_id: int, session: ReviewSession, card: Flashcard) -> discord.ui.View:
    kind, scoped = _scope(session)
    view = ReportingView(timeout=None)  # never stopped: that would unregister the buttons
    view.add_item(ReviewButton("a", owner_id, kind, scoped, card.id, "Show answer"))
    return view


def back_view(
    owner_id: int, session: ReviewSession, card: Flashcard, version: str
) -> discord.ui.View:
    """Again, Hard, Good, Easy, and below them "Report a mistake" for the card's entry: the
    back is an answer card like any other."""
    kind, scoped = _scope(session)
    view = ReportingView(timeout=None)
    for rating, label in RATINGS:
        style = RATING_STYLES[rating]
        view.add_item(ReviewButton(str(int(rating)), owner_id, kind, scoped, card.id, label, style))
    add_report_button(view, card.entry_id, version, row=1)
    return view


def start_view(owner_id: int) -> discord.ui.View:
    view = ReportingView(timeout=None)
    view.add_item(StartReviewButton(owner_id))
    return view


# -- the cog ----------------------------------------------------------------------------------


class Review(commands.Cog):
    """Spaced-repetition review of the glossary and the quiz questions."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.sessions = ReviewSessions()
        self._service: ReviewService | None = None
        self._version: str | None = None  # the library version the deck was built from
        # Its wall clock is the cog's: sessions, stats and reminders all tell the time by it.
        # Another process may move a reminder: then look again at least every few minutes.
        max_sleep = SHARED_MAX_SLEEP if bot.storage.multiprocess else MAX_SLEEP
        self.reminders = ReminderScheduler(
            lambda: self.service, self.send_reminder, max_sleep=max_sleep
        )
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def service(self) -> ReviewService:
        """The review service over the current library (rebuilt after `/reload`)."""
        library = self.bot.library
        if self._service is None or self._version != library.version:
            deck = Deck.from_library(library)
            self._service = ReviewService(self.bot.storage, deck, clock=self.now)
            self._version = library.version
            self.sessions.clear()  # sessions hold cards of the old deck; presses rebuild them
        return self._service

    def now(self) -> datetime:
        return self.reminders.clock.now()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReviewButton, StartReviewButton)
        if owns_direct_messages(self.bot):
            self._unsubscribe = self.bot.storage.subscribe(self.reminders.on_event)
            self.reminders.start(before=self.bot.wait_until_ready)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReviewButton, StartReviewButton)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.reminders.stop()

    def _user_hash(self, interaction: discord.Interaction) -> str:
        return self.bot.storage.user_hash(interaction.user.id)

    def _section_title(self, card: Flashcard) -> str | None:
        section = self.bot.library.sections.get(card.section)
        return section.title if section else None

    # -- messages -----------------------------------------------------------------------------

    def session_message(
        self, owner_id: int, session: ReviewSession, *, show_back: bool = False, note: str = ""
    ) -> dict[str, Any]:
        """The current card's front (or back), or the end of the session."""
        card = session.current
        if card is None:
            embed = card_to_embed(done_card(session, self.now()))
            view = self._done_view(owner_id, session)
            return {"content": note or None, "embed": embed, "view": view}
        title, remaining = self._section_title(card), session.remaining
        if show_back:
            embed = card_to_embed(back_card(card, title, remaining))
            view = back_view(owner_id, session, card, self.bot.library.version)
        else:
            embed = card_to_embed(front_card(card, title, remaining))
            view = front_view(owner_id, session, card)
        return {"content": note or None, "embed": embed, "view": view}

    def _done_view(self, owner_id: int, session: ReviewSession) -> discord.ui.View | None:
        """Continue, once the cards in their learning step fall due (it carries the card rated
        last, whose section a rebuilt session keeps to)."""
        anchor = session.last_rated
        if session.next_learning_at() is None or anchor is None:
            return None
        kind, scoped = _scope(session)
        view = ReportingView(timeout=None)
        view.add_item(ReviewButton("c", owner_id, kind, scoped, anchor.id, "Continue"))
        return view

    async def _tell_notice(
        self, interaction: discord.Interaction, settings: ReviewSettings
    ) -> None:
        """Why reminders were switched off (DMs closed), told once."""
        notice = settings.reminder_notice
        if notice and await self.service.store.dismiss_reminder_notice(settings.user_hash, notice):
            await interaction.followup.send(f"⚠ {notice}", ephemeral=True)

    # -- starting a session -------------------------------------------------------------------

    async def start_session(
        self, interaction: discord.Interaction, section: str | None, kind: Kind
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        session = await self.service.start(
            self._user_hash(interaction), section=section, kind=kind, now=self.now()
        )
        self.sessions.put(session)
        await interaction.followup.send(
            **self.session_message(interaction.user.id, session), ephemeral=True
        )
        await self._tell_notice(interaction, session.settings)

    async def on_press(self, interaction: discord.Interaction, button: ReviewButton) -> None:
        if interaction.user.id != button.owner_id:
            await send_ephemeral(interaction, NOT_YOURS)
            return
        await interaction.response.defer()  # the storage may be read or written
        session, on_screen = await self._session_at(interaction, button)
        note = "" if on_screen or button.act == "c" else ALREADY_RATED
        if button.act == "a" and on_screen:
            parts = self.session_message(button.owner_id, session, show_back=True)
        elif button.act in "1234" and on_screen:
            result = await session.rate(button.card, Rating(int(button.act)), self.now())
            if result.status is RateStatus.BUSY:
                await interaction.followup.send(BUSY, ephemeral=True)
                return
            if result.status is RateStatus.RATED and result.state is not None:
                label = dict(RATINGS)[Rating(int(button.act))]
                note = f"**{label}**: back {until(result.state.due, self.now())}."
            parts = self.session_message(button.owner_id, session, note=note)
        else:
            session.advance(self.now())
            parts = self.session_message(button.owner_id, session, note=note)
        await interaction.edit_original_response(**parts)

    async def _session_at(
        self, interaction: discord.Interaction, button: ReviewButton
    ) -> tuple[ReviewSession, bool]:
        """The member's session with the pressed card current, and whether it is (False: the
        card was rated since). The session in memory if it is on that card, else one rebuilt
        from the storage (after a restart, or a second /review elsewhere)."""
        user, card = self._user_hash(interaction), self.service.deck.get(button.card)
        session = self.sessions.get(user)
        if session is not None and (button.act == "c" or session.current == card):
            return session, True
        section = card.section if button.scoped and card is not None else None
        session, found = await self.service.resume(
            user, button.card, section=section, kind=button.kind, now=self.now()
        )
        self.sessions.put(session)
        return session, found or button.act == "c"

    # -- commands -----------------------------------------------------------------------------

    review = app_commands.Group(name="review", description="Spaced-repetition review of your cards")
    remind = app_commands.Group(
        name="remind", description="A daily direct message when cards are due", parent=review
    )

    @review.command(name="start", description="Review your cards that are due, privately")
    @app_commands.describe(section="Only cards from this section", kind=DESCRIBE_KIND)
    @app_commands.autocomplete(section=section_autocomplete)
    async def review_start(
        self,
        interaction: discord.Interaction,
        section: str | None = None,
        kind: Literal["terms", "questions", "all"] = "all",
    ) -> None:
        chosen = resolve_section(self.bot, section) if section else None
        await self.start_session(interaction, chosen.id if chosen else None, Kind(kind))

    @review.command(name="stats", description="What is due, your reviews, retention and streak")
    async def review_stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        seen = await self.service.overview(self._user_hash(interaction), self.now())
        settings, forecast = seen.settings, seen.forecast
        embed = card_to_embed(stats_card(seen.stats, forecast, limit=settings.new_per_day))
        parts: dict[str, Any] = {"embed": embed}
        try:
            picture = await self.bot.pictures.render(ForecastData(forecast))
        except PictureError as exc:  # the embed holds the same data as text
            parts["content"] = str(exc)
        else:
            parts["file"] = discord.File(
                io.BytesIO(picture.png), filename=picture.filename, description=picture.alt_text
            )
            embed.set_image(url=f"attachment://{picture.filename}")
        await interaction.followup.send(**parts, ephemeral=True)
        await self._tell_notice(interaction, settings)

    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in timezone_choices(current)]

    @review.command(name="settings", description="New cards per day and your time zone")
    @app_commands.describe(
        new_cards="New cards a day (0-100; default 10)",
        timezone="The IANA time zone your days and reminders follow, e.g. Europe/London",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def review_settings(
        self,
        interaction: discord.Interaction,
        new_cards: app_commands.Range[int, 0, 100] | None = None,
        timezone: str | None = None,
    ) -> None:
        if timezone is not None:
            try:
                load_timezone(timezone)
            except ScheduleError as exc:
                raise commands.BadArgument(str(exc)) from exc
        await interaction.response.defer(ephemeral=True, thinking=True)
        user, service = self._user_hash(interaction), self.service
        if new_cards is not None:
            await service.set_new_per_day(user, new_cards)
        if timezone is not None:
            await service.set_timezone(user, timezone, self.now())
            self.reminders.wake()  # the reminder may have moved earlier
        settings = await service.store.review_settings(user)
        remind = (
            f"daily at {settings.remind_time}" if settings.remind else "off (`/review remind on`)"
        )
        changed = "Saved. " if new_cards is not None or timezone is not None else ""
        await interaction.followup.send(
            f"{changed}New cards per day: **{settings.new_per_day}** · time zone: "
            f"**{settings.timezone}** · reminders: {remind}.",
            ephemeral=True,
        )
        await self._tell_notice(interaction, settings)

    @remind.command(name="on", description="A direct message at your local time when cards are due")
    @app_commands.describe(time="Your local time of day, 24-hour HH:MM (default 18:00)")
    async def remind_on(self, interaction: discord.Interaction, time: str | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = self._user_hash(interaction)
        settings = await self.service.store.review_settings(user)
        try:
            due = await self.reminders.turn_on(
                user, interaction.user.id, time or settings.remind_time
            )
        except ScheduleError as exc:
            raise commands.BadArgument(str(exc)) from exc
        settings = await self.service.store.review_settings(user)
        when = f"<t:{int(due.at.timestamp())}:F>"
        try:
            channel = await self.bot.create_dm(interaction.user)
            await channel.send(
                f"Review reminders are on: a message like this one at {settings.remind_time} "
                f"({settings.timezone}) on days when cards are due. The first could be {when}."
            )
        except discord.HTTPException as exc:
            await self.reminders.turn_off(user)  # on only once a direct message got through
            if not isinstance(exc, discord.Forbidden):
                raise  # Discord failed: the error handler says so
            log.info("review reminders refused for lack of direct messages: %s", exc.text)
            await interaction.followup.send(NO_DMS, ephemeral=True)
            return
        await interaction.followup.send(
            f"Reminders on: daily at **{settings.remind_time}** ({settings.timezone}) when cards "
            f"are due, starting {when}. `/review settings timezone:` changes the zone.",
            ephemeral=True,
        )

    @remind.command(name="off", description="Stop the daily review reminder")
    async def remind_off(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.reminders.turn_off(self._user_hash(interaction))
        await interaction.followup.send(
            "Reminders are off; your Discord id is no longer kept for them.", ephemeral=True
        )

    # -- sending reminders --------------------------------------------------------------------

    async def send_reminder(self, settings: ReviewSettings, text: str) -> None:
        """The reminder queue's delivery: a direct message with a button that starts the review.
        Raises `ReminderUndeliverable` when the member cannot get one (DMs closed, account
        gone): the queue switches reminders off and the member is told at their next /review."""
        if settings.dm_user_id is None:
            raise ReminderUndeliverable("no Discord id is kept")
        user = discord.Object(id=settings.dm_user_id)
        try:
            channel = await self.bot.create_dm(user)
            await channel.send(text, view=start_view(settings.dm_user_id))
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ReminderUndeliverable(exc.text or str(exc.status)) from exc


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Review(bot))
