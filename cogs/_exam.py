"""`/quiz exam` on Discord: one member's private exam in an ephemeral message.

The exam itself is `bot.exam.ExamSession`. The command defers privately at once; each question
then replaces the deferred reply (through the command's own interaction, whose token lasts the
15 minutes an exam may take), and a click on a choice only acknowledges: no right or wrong until
the end. The result shows every right answer with its explanation, compared with the member's
earlier exams, and is stored apart from group-quiz answers (`Storage.save_exam`). A result that
cannot be stored is still shown, with a note saying so.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import discord

from bot.exam import (
    HISTORY_LIMIT,
    ExamAlreadyRunning,
    ExamAnswerStatus,
    ExamComparison,
    ExamRecord,
    ExamResult,
    ExamSession,
    compare,
    exam_question_card,
    exam_registry,
    result_cards,
)
from bot.quiz import Clock, Question, pick_questions
from bot.schedule import local_today
from bot.storage import StorageError
from bot.study_cards import choice_label
from cogs._study import server_zone
from cogs._ui import ReportingView, card_to_embed, guarded
from cogs.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

EXAM_TEMPLATE = r"pb:exam:(?P<token>[0-9a-f]{8}):(?P<question>\d{1,2}):(?P<choice>\d|x)"
STOP = "x"
ENDED = "This exam has ended. Start a new one with `/quiz exam`."
CLICK_REPLIES = {
    ExamAnswerStatus.ALREADY_ANSWERED: "You already answered that question.",
    ExamAnswerStatus.CLOSED: "Time is up: your results are on their way.",
    ExamAnswerStatus.INVALID: "That question is not open.",
}
NOT_SAVED = (
    "⚠ This result could not be saved (the database is busy), so it will not show in "
    "/progress. Nothing else was lost."
)


class ExamButton(discord.ui.DynamicItem[discord.ui.Button], template=EXAM_TEMPLATE):
    """A choice of an exam question, or (choice `x`) "Stop and score"."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(EXAM_TEMPLATE)

    def __init__(self, token: str, question: int, choice: str, label: str) -> None:
        style = discord.ButtonStyle.danger if choice == STOP else discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"pb:exam:{token}:{question}:{choice}",
                row=1 if choice == STOP else 0,
            )
        )
        self.token, self.question, self.choice = token, question, choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ExamButton:
        label = getattr(item, "label", None) or "?"
        return cls(match["token"], int(match["question"]), match["choice"], label)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._click(interaction), "an exam button")

    async def _click(self, interaction: discord.Interaction) -> None:
        desk = getattr(interaction.client.get_cog("Quiz"), "exams", None)  # type: ignore[attr-defined]
        if desk is None:
            await send_ephemeral(interaction, ENDED)
            return
        await desk.on_click(interaction, self.token, self.question, self.choice)


def exam_view(token: str, index: int, question: Question) -> discord.ui.View:
    view = ReportingView(timeout=None)  # never stopped: that would unregister the buttons
    for choice, text in enumerate(question.choices):
        view.add_item(ExamButton(token, index, str(choice), choice_label(choice, text)))
    view.add_item(ExamButton(token, index, STOP, "Stop and score"))
    return view


class EphemeralPresenter:
    """Shows one member's exam by replacing the command's deferred, private reply."""

    def __init__(self, desk: ExamDesk, interaction: discord.Interaction, section_title: str | None):
        self.desk = desk
        self.interaction = interaction
        self.section_title = section_title

    async def show_question(self, session: ExamSession, index: int, question: Question) -> None:
        left = session.state.seconds_left
        card = exam_question_card(question, index, len(session.state.questions), left)
        ends = int(time.time() + left)
        card = replace(card, description=f"{card.description}\n\nTime is up <t:{ends}:R>.")
        await self.interaction.edit_original_response(
            embed=card_to_embed(card), view=exam_view(session.token, index, question)
        )

    async def show_result(self, session: ExamSession, result: ExamResult) -> None:
        saved, comparison = await self.desk.record(self.interaction, session)
        cards = result_cards(result, comparison, self.section_title)
        embeds = [card_to_embed(card) for card in cards]
        note = None if saved else NOT_SAVED
        await self.interaction.edit_original_response(content=note, embed=embeds[0], view=None)
        for embed in embeds[1:]:
            await self.interaction.followup.send(embed=embed, ephemeral=True)


class ExamDesk:
    """The running exams of the bot, one per member, and what is done with their results."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.registry = exam_registry()
        self.rng = random.Random()
        self.clock: Clock | None = None  # tests give a fake clock
        self.time_limit: float | None = None  # tests shorten it

    async def start(
        self,
        interaction: discord.Interaction,
        count: int,
        section_id: str | None,
        section_title: str | None,
    ) -> None:
        """Start an exam for the member of a deferred slash command (raises `NoQuestions`,
        `ExamAlreadyRunning`)."""
        if self.registry.get(interaction.user.id) is not None:
            raise ExamAlreadyRunning()
        questions = pick_questions(
            list(self.bot.library.quiz.values()), count, self.rng, section_id
        )
        session = ExamSession(
            questions,
            user_id=interaction.user.id,
            presenter=EphemeralPresenter(self, interaction, section_title),
            section=section_id,
            time_limit=self.time_limit,
            clock=self.clock,
        )
        self.registry.start(session)

    async def on_click(
        self, interaction: discord.Interaction, token: str, index: int, choice: str
    ) -> None:
        session = self.registry.get(interaction.user.id)
        if session is None or session.token != token:
            await send_ephemeral(interaction, ENDED)
            return
        if choice == STOP:
            session.stop()
            await interaction.response.defer()  # the results replace the question
            return
        status = session.answer(index, int(choice))
        if status is ExamAnswerStatus.ACCEPTED:
            await interaction.response.defer()  # the next question replaces this one
        else:
            await send_ephemeral(interaction, CLICK_REPLIES[status])

    async def record(
        self, interaction: discord.Interaction, session: ExamSession
    ) -> tuple[bool, ExamComparison]:
        """Store the result and count the day as one of study; compare it with the member's
        earlier exams of the same scope. Returns (saved, comparison)."""
        storage = self.bot.storage
        user = interaction.user
        record = ExamRecord.of(session, storage.user_hash(user.id))
        try:
            history = await storage.exam_history(record.user_hash, record.section, HISTORY_LIMIT)
        except StorageError as exc:
            log.warning("could not read earlier exams: %s", exc)
            history = []
        saved = True
        try:
            await storage.save_exam(record)
            if interaction.guild_id is not None:
                zone = await server_zone(self.bot, interaction.guild_id)
                today = local_today(datetime.now(UTC), zone)
                await storage.record_activity(
                    interaction.guild_id, user.id, user.display_name, today
                )
        except StorageError as exc:
            log.warning("could not save an exam result: %s", exc)
            saved = False
        return saved, compare(record, history)

    def cancel_all(self) -> None:
        self.registry.cancel_all()
