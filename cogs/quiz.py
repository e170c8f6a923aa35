"""Quizzes in a channel with a button per choice, plus `/leaderboard` and `/progress`.

The quiz itself is `bot.quiz.QuizSession`; this cog shows it (`ChannelPresenter`), turns button
clicks into answers and saves them. An answer's save starts before the player's reply, the
session holds the scoreboard until its saves are done, and a save that fails is told to the
player. Choice buttons are `DynamicItem`s with a fixed custom-id pattern, so after a restart an
old button still reaches this cog and is told the quiz ended.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.content import Section
from bot.quiz import (
    DEFAULT_TIME_LIMIT,
    AnswerStatus,
    Clock,
    NoQuestions,
    Question,
    QuizAlreadyRunning,
    QuizRegistry,
    QuizSession,
    Reveal,
    Scoreboard,
    pick_questions,
)
from bot.schedule import local_today
from bot.storage import StorageBusy, StorageError
from bot.streaks import streak
from bot.study_cards import (
    LeaderboardLine,
    choice_label,
    leaderboard_card,
    progress_card,
    question_card,
    reveal_card,
    scoreboard_card,
)
from cogs._permissions import missing_permissions
from cogs._study import section_autocomplete, section_parameter, server_zone
from cogs._ui import ReportingView, card_to_embed, guarded
from cogs.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.client import PeacebotBot

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = 5
SECTION = section_parameter("Only questions from this section")
PAUSE_SECONDS = 4.0  # between a reveal and the next question, time to read the explanation
ENDED = "This quiz has ended. Start a new one with `/quiz start`."
NOT_SAVED = (
    "Your answer could not be saved (the database is busy), so it will not count towards "
    "/leaderboard. It still counts in this quiz."
)
SAVE_ATTEMPTS = 2  # a busy database gets a second chance before the answer is given up
# While another process may serve this shard too (a rolling deploy on PostgreSQL), a click on a
# quiz this process does not know waits this long before saying the quiz ended: the process
# running the quiz answers first, and the late answer is then refused by Discord (40060) and
# dropped quietly. Well inside Discord's 3 s.
OTHER_PROCESS_GRACE = 1.5
CLICK_REPLIES = {
    AnswerStatus.ALREADY_ANSWERED: "You already answered this question.",
    AnswerStatus.CLOSED: "This question is closed.",
    AnswerStatus.INVALID: "That choice does not exist.",
}


QUIZ_TEMPLATE = r"pb:quiz:(?P<token>[0-9a-f]{8}):(?P<question>\d{1,2}):(?P<choice>\d)"


class QuizChoiceButton(discord.ui.DynamicItem[discord.ui.Button], template=QUIZ_TEMPLATE):
    """One choice of one question of one quiz run; the custom id says which."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(QUIZ_TEMPLATE)

    def __init__(
        self,
        token: str,
        question: int,
        choice: int,
        label: str,
        *,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                disabled=disabled,
                custom_id=f"pb:quiz:{token}:{question}:{choice}",
            )
        )
        self.token = token
        self.question = question
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> QuizChoiceButton:
        label = getattr(item, "label", None) or "?"
        return cls(match["token"], int(match["question"]), int(match["choice"]), label)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._choose(interaction), "a quiz button")

    async def _choose(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Quiz")  # type: ignore[attr-defined]
        on_choice = getattr(cog, "on_choice", None)
        if on_choice is None:  # the quiz cog is not loaded: no quiz can be running
            await send_ephemeral(interaction, ENDED)
            return
        await on_choice(interaction, self.token, self.question, self.choice)


def choice_view(
    token: str, index: int, question: Question, *, revealed: bool = False
) -> discord.ui.View:
    """The buttons of a question; once revealed they are disabled and the right one is green."""
    view = ReportingView(timeout=None)  # never stopped: that would unregister the buttons
    for choice, text in enumerate(question.choices):
        style = discord.ButtonStyle.primary
        if revealed:
            right = choice == question.answer_index
            style = discord.ButtonStyle.success if right else discord.ButtonStyle.secondary
        label = choice_label(choice, text)
        view.add_item(QuizChoiceButton(token, index, choice, label, style=style, disabled=revealed))
    return view


class ChannelPresenter:
    """Shows a quiz in a channel: each question as a message, its reveal as an edit of it."""

    def __init__(self, channel: discord.abc.Messageable, section_titles: dict[str, str]) -> None:
        self.channel = channel
        self.section_titles = section_titles
        self.messages: dict[int, discord.Message] = {}
        self.announced = asyncio.Event()  # the first question follows the announcement

    async def show_question(self, session: QuizSession, index: int, question: Question) -> None:
        await self.announced.wait()
        card = question_card(
            question, index, len(session.state.questions), session.state.time_limit
        )
        self.messages[index] = await self.channel.send(
            embed=card_to_embed(card), view=choice_view(session.token, index, question)
        )

    async def show_reveal(self, session: QuizSession, reveal: Reveal) -> None:
        title = self.section_titles.get(reveal.question.section)
        embed = card_to_embed(reveal_card(reveal, title))
        view = choice_view(session.token, reveal.index, reveal.question, revealed=True)
        message = self.messages.pop(reveal.index, None)
        if message is not None:
            try:
                await message.edit(embed=embed, view=view)
                return
            except discord.NotFound:
                pass  # someone deleted the question: show the answer as a new message
        await self.channel.send(embed=embed)

    async def show_scoreboard(self, session: QuizSession, scoreboard: Scoreboard) -> None:
        await self.channel.send(embed=card_to_embed(scoreboard_card(scoreboard)))


class Quiz(commands.Cog):
    """Quizzes, leaderboards and personal progress."""

    def __init__(self, bot: PeacebotBot) -> None:
        self.bot = bot
        self.registry = QuizRegistry()
        # Tests shorten the time limit and the pause, or give a fake clock.
        self.time_limit = DEFAULT_TIME_LIMIT
        self.pause = PAUSE_SECONDS
        self.clock: Clock | None = None
        self.rng = random.Random()
        self.lost_answers = 0  # answers that could not be saved since start

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(QuizChoiceButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(QuizChoiceButton)
        for session in self.registry.cancel_all():
            await session.settle_saves()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot left a server: its quizzes end with it."""
        for session in self.registry.cancel_guild(guild.id):
            await session.settle_saves()

    # -- /quiz --------------------------------------------------------------------------------

    @commands.hybrid_group(
        name="quiz",
        fallback="start",
        description="Start a quiz in this channel",
        invoke_without_command=True,
        case_insensitive=True,
    )
    @app_commands.describe(
        questions="How many questions (1-20, default 5)",
        section="Only questions from this section",
    )
    @app_commands.autocomplete(section=section_autocomplete)
    @commands.guild_only()
    async def quiz(
        self,
        ctx: commands.Context[Any],
        questions: commands.Range[int, 1, 20] | None = None,
        *,
        section: Section | None = SECTION,
    ) -> None:
        missing = missing_permissions(ctx.channel, ctx.guild)
        if missing:
            await ctx.send(
                f"I can't run a quiz here: I need {', '.join(missing)} in this channel.",
                ephemeral=True,
            )
            return
        chosen = section
        library = self.bot.library
        entries = list(library.quiz.values())
        try:
            picked = pick_questions(
                entries, questions or DEFAULT_QUESTIONS, self.rng, chosen.id if chosen else None
            )
        except NoQuestions:
            await ctx.send("There are no quiz questions for that section yet.", ephemeral=True)
            return
        titles = {s.id: s.title for s in library.sections.values()}
        presenter = ChannelPresenter(ctx.channel, titles)
        session = QuizSession(
            picked,
            channel_id=ctx.channel.id,
            guild_id=ctx.guild.id if ctx.guild else None,
            starter_id=ctx.author.id,
            presenter=presenter,
            time_limit=self.time_limit,
            clock=self.clock,
            pause=self.pause,
        )
        try:
            self.registry.start(session)
        except QuizAlreadyRunning:
            await ctx.send(
                "A quiz is already running in this channel; `/quiz stop` ends it.", ephemeral=True
            )
            return
        scope = f" on {chosen.title}" if chosen else ""
        count = len(picked)
        try:
            await ctx.send(
                f"Quiz{scope}: {count} question{'s' if count != 1 else ''}, "
                f"{self.time_limit:g} s each. Everyone can answer with the buttons."
            )
        finally:
            presenter.announced.set()

    @quiz.command(name="stop", description="Stop the quiz in this channel")
    @commands.guild_only()
    async def quiz_stop(self, ctx: commands.Context[Any]) -> None:
        session = self.registry.get(ctx.channel.id)
        if session is None:
            await ctx.send("No quiz is running in this channel.", ephemeral=True)
            return
        moderator = ctx.permissions.manage_messages
        if not session.may_stop(ctx.author.id, moderator):
            await ctx.send(
                "Only the person who started the quiz, or someone with Manage Messages, can stop "
                "it.",
                ephemeral=True,
            )
            return
        session.request_stop(ctx.author.id)
        await ctx.send(
            "Stopping the quiz: the last answer and the scoreboard follow.", ephemeral=True
        )

    # -- buttons ------------------------------------------------------------------------------

    async def on_choice(
        self, interaction: discord.Interaction, token: str, index: int, choice: int
    ) -> None:
        session = self.registry.get(interaction.channel_id or 0)
        if session is None or session.token != token:
            if self.bot.storage.multiprocess:
                await asyncio.sleep(OTHER_PROCESS_GRACE)
            await send_ephemeral(interaction, ENDED)
            return
        user = interaction.user
        result = session.answer(user.id, user.display_name, index, choice)
        if result.status is not AnswerStatus.ACCEPTED:
            await send_ephemeral(interaction, CLICK_REPLIES[result.status])
            return
        assert result.question is not None
        save = asyncio.create_task(
            self.save_answer(interaction, result.question, bool(result.correct))
        )
        session.track_save(save)  # started now, before the reply; the scoreboard waits for it
        label = choice_label(choice, result.question.choices[choice])
        await send_ephemeral(
            interaction, f"Your answer: **{label}**. The right one is shown when time is up."
        )
        if not await save:
            await send_ephemeral(interaction, NOT_SAVED)

    async def save_answer(
        self, interaction: discord.Interaction, question: Question, correct: bool
    ) -> bool:
        """Keep the answer for leaderboards and streaks; False when it could not be kept. A
        busy database gets a second try; a failure never spoils the quiz."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return True  # nothing to keep outside a server
        user = interaction.user
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                zone = await server_zone(self.bot, guild_id)
                today = local_today(datetime.now(UTC), zone)
                await self.bot.storage.record_answer(
                    guild_id,
                    user.id,
                    user.display_name,
                    question.id,
                    question.section,
                    correct,
                    today,
                )
                return True
            except StorageBusy as exc:
                if attempt < SAVE_ATTEMPTS:
                    continue
                failure: BaseException = exc
            except StorageError as exc:
                failure = exc
            except Exception as exc:
                log.exception("could not save a quiz answer in server %s", guild_id)
                failure = exc
            break
        self.lost_answers += 1
        log.warning(
            "could not save a quiz answer in server %s (%d lost since start): %s",
            guild_id,
            self.lost_answers,
            failure,
        )
        return False

    # -- /leaderboard and /progress -----------------------------------------------------------

    @commands.hybrid_command(name="leaderboard", description="The server's top quiz scorers")
    @app_commands.describe(
        period="All time, or only this month (so newcomers can compete)",
        section="Only answers from this section",
    )
    @app_commands.autocomplete(section=section_autocomplete)
    @commands.guild_only()
    async def leaderboard(
        self,
        ctx: commands.Context[Any],
        period: Literal["all-time", "month"] | None = None,
        *,
        section: Section | None = SECTION,
    ) -> None:
        assert ctx.guild is not None
        await ctx.defer()  # storage is read before anything is shown
        chosen = section
        zone = await server_zone(self.bot, ctx.guild.id)
        today = local_today(datetime.now(UTC), zone)
        since = today.replace(day=1) if period == "month" else None
        storage = self.bot.storage
        rows = await storage.leaderboard(
            ctx.guild.id, section=chosen.id if chosen else None, since=since, limit=10
        )
        days = await storage.activity_dates_of(ctx.guild.id, [row.user_hash for row in rows])
        lines = [
            LeaderboardLine(
                row.display_name, row.answered, row.correct, streak(days[row.user_hash], today)
            )
            for row in rows
        ]
        month = today.strftime("%B %Y") if since else None
        card = leaderboard_card(lines, chosen.title if chosen else None, month)
        await ctx.send(embed=card_to_embed(card))

    @commands.hybrid_command(name="progress", description="Your own quiz record and streak")
    @commands.guild_only()
    async def progress(self, ctx: commands.Context[Any]) -> None:
        assert ctx.guild is not None
        await ctx.defer(ephemeral=True)  # storage is read before anything is shown
        storage = self.bot.storage
        scores = await storage.progress(ctx.guild.id, ctx.author.id)
        dates = await storage.activity_dates(ctx.guild.id, ctx.author.id)
        today = local_today(datetime.now(UTC), await server_zone(self.bot, ctx.guild.id))
        titles = {s.id: s.title for s in self.bot.library.sections.values()}
        rows = [(s.section_id, s.answered, s.correct) for s in scores]
        card = progress_card(rows, streak(dates, today), titles)
        await ctx.send(embed=card_to_embed(card), ephemeral=True)


async def setup(bot: PeacebotBot) -> None:
    await bot.add_cog(Quiz(bot))
