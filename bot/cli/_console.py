"""`peacebot console`: the bot's commands as plain text, offline, with no token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from bot.answers import CONSOLE, Answer, Librarian, Link
from bot.cli._content import load_or_report
from bot.cli._review import CONSOLE_USER_ID, KINDS, NO_DATABASE, ConsoleReview
from bot.config import ConfigError, load_config
from bot.content import Library
from bot.lookup import Outcome, UnknownSection
from bot.pictures import PictureError, describe, missions_from_library, timeline_data
from bot.quiz import MAX_QUESTIONS, AnswerStatus, MonotonicClock, QuizState, pick_questions
from bot.render_text import render_card, render_text
from bot.review import Deck, Kind, ReviewService
from bot.shutdown import StopSignals, run_until_stopped
from bot.storage import QueryRecord, Storage
from bot.study_cards import pick_prompt, prompt_card, question_card, reveal_card, scoreboard_card
from bot.text import clean

HELP = """Commands:
  define <term>        a glossary definition          e.g. define roe
  section <name>       a section summary              e.g. section case studies
  search <question>    names and full text            e.g. search what happened in liberia
  sections             the sections, one line each
  terms [section]      the glossary A-Z               e.g. terms international law
  <number>             open that entry of the last list or "did you mean"
  fact [section]       a random fact
  quiz [n] [section]   n questions (default 3); answer with a letter or number, 'stop' to end
  review [section] [terms|questions|all]
                       your cards that are due (spaced repetition, kept in --db): Enter shows
                       the answer, 1-4 rates it (Again, Hard, Good, Easy), 'stop' ends
  review stats         what is due when, your reviews, retention and streak
  discuss [section]    a discussion prompt
  timeline [org] [from] [to]  the missions in words    e.g. timeline nato 1995 2000
  about                what the library holds
  help                 this list
  quit                 leave (or Ctrl-D)
Anything else is looked up as with 'search'."""
_KINDS = {"sections": "sections", "terms": "terms", "facts": "facts", "quiz": "quiz questions",
          "prompts": "discussion prompts"}  # fmt: skip

CONSOLE_USER = 0  # the one player of a console quiz
Logger = Callable[[str, str, Answer | None, float], None]


def register(sub: argparse._SubParsersAction) -> None:
    console = sub.add_parser(
        "console",
        help="try every command offline, without a token",
        description="An interactive prompt that answers the bot's commands as plain text. "
        "Reads commands from stdin when it is not a terminal: echo 'define roe' | peacebot console",
    )
    console.add_argument("--content", type=Path, help="content directory (default: bundled)")
    console.add_argument("--seed", type=int, help="random seed for facts and quizzes")
    console.add_argument(
        "--db",
        help="database for the query log and your review cards: a SQLite file or a "
        "postgresql:// URL (default: DATABASE_URL, else PEACEBOT_DB); 'none' keeps nothing",
    )
    console.set_defaults(handler=run_console)
    for verb, what in (("define", "a glossary term"), ("section", "a section"),
                       ("search", "anything: names and full text")):  # fmt: skip
        ask = sub.add_parser(
            verb,
            help=f"look up {what}, as /{verb} does",
            description=f"Answer as the bot's /{verb} does, as plain text. Exit status 1 when "
            "nothing in the guide matches or covers the query.",
        )
        ask.add_argument("query", nargs="+", help="what to look up")
        ask.add_argument("--content", type=Path, help="content directory (default: bundled)")
        ask.set_defaults(handler=run_verb, verb=verb)


def run_verb(args: argparse.Namespace) -> int:
    """`peacebot define|section|search QUERY...`: one console command, answered and done."""
    library = load_or_report(args.content)
    if library is None:
        return 1
    librarian = Librarian(library, voice=CONSOLE)
    answer = getattr(librarian, args.verb)(" ".join(args.query))
    print(render_text(answer, numbered=False))
    return 1 if answer.outcome in (Outcome.NONE, Outcome.UNCOVERED) else 0


def run_console(args: argparse.Namespace) -> int:
    library = load_or_report(args.content)
    if library is None:
        return 1
    try:
        db = args.db or load_config().database  # the bot's own: the same review cards
    except ConfigError as exc:
        print(f"peacebot: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(library, args.seed, None if db == "none" else db))


async def _serve(library: Library, seed: int | None, db: str | None) -> int:
    storage = None
    if db is not None:
        try:
            storage = await Storage.open(db)
        except Exception as exc:  # the console answers even when the log cannot be written
            print(f"peacebot: not logging queries ({exc})", file=sys.stderr)

    def log(command: str, query: str, answer: Answer | None, started: float) -> None:
        if storage is not None:
            storage.log(
                QueryRecord(
                    guild_id=None, channel_id=None, user_id=None, command=f"console:{command}",
                    query=query, matched_id=answer.entry_id if answer else None,
                    outcome=str(answer.outcome) if answer else "none",
                    score=answer.score if answer else None, failed=False,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )
            )  # fmt: skip

    review = None
    if storage is not None:
        service = ReviewService(storage, Deck.from_library(library))
        titles = {s.id: s.title for s in library.sections.values()}
        review = ConsoleReview(service, storage.user_hash(CONSOLE_USER_ID), titles)
    console = Console(library, random.Random(seed), log, review)
    interactive = sys.stdin.isatty()
    if interactive:
        _line_editing()
        print(banner(library))
    try:
        with StopSignals() as stop:
            await run_until_stopped(_converse(console, interactive), stop)
    finally:
        if storage is not None:
            await storage.close()  # writes every logged query, also after SIGINT/SIGTERM
    return 0


def banner(library: Library) -> str:
    counts = ", ".join(f"{n} {_KINDS[kind]}" for kind, n in library.counts().items())
    return f"peacebot console: {counts}. Type 'help'."


def _line_editing() -> None:
    """Arrow keys, editing and history for `input()` on a terminal (where readline exists)."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what turns line editing on)


async def _converse(console: Console, interactive: bool) -> None:
    """Answer lines until end of input or `quit` (a stop signal cancels it).

    Lines are read by a daemon thread, one at a time (the prompt depends on the answer before),
    so the query-log writer keeps running and a signal never waits for the next line.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    wanted = threading.Event()

    def read() -> None:
        while True:
            wanted.wait()
            wanted.clear()
            line = _read_line(interactive, console.prompt)
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    while True:
        wanted.set()
        line = await lines.get()
        reply = None if line is None else await console.respond(line)
        if reply is None:
            farewell = console.close()  # a quiz cut short by Ctrl-D or the end of a pipe
            if farewell:
                print(farewell, end="\n\n", flush=True)
            return
        if reply:
            print(reply, end="\n\n", flush=True)


def _read_line(interactive: bool, prompt: str) -> str | None:
    try:
        if interactive:
            return input(prompt)
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None
    except EOFError:
        return None


class Console:
    """One conversation: `handle` takes a line and returns the reply (None means quit).

    A quiz or a review in progress takes the next lines as its answers, as the buttons do on
    Discord. Reviews read and write the storage, so they go through the asynchronous `respond`.
    """

    def __init__(
        self,
        library: Library,
        rng: random.Random,
        log: Logger | None = None,
        review: ConsoleReview | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.library = library
        self.review = review
        self.today = today  # the timeline's "now": where ongoing missions end
        self.librarian = Librarian(library, voice=CONSOLE)
        self.rng = rng
        self.log = log or (lambda *_: None)
        self.quiz: QuizState | None = None
        self.choices: tuple[Link, ...] = ()  # what typing a number opens
        self.commands: dict[str, Callable[[str], str]] = {
            "define": lambda q: self._lookup("define", q, self.librarian.define),
            "section": lambda q: self._lookup("section", q, self.librarian.section),
            "search": lambda q: self._lookup("search", q, self.librarian.search),
            "sections": lambda _: self._show(self.librarian.sections()),
            "terms": self._terms,
            "fact": self._fact,
            "quiz": self._start_quiz,
            "discuss": self._discuss,
            "prompt": self._discuss,
            "timeline": self._timeline,
            "about": lambda _: render_text(self.librarian.about()),
            "help": lambda _: HELP,
        }

    @property
    def prompt(self) -> str:
        if self.review is not None and self.review.active:
            return "review> "
        return "answer> " if self.quiz else "peacebot> "

    async def respond(self, line: str) -> str | None:
        """`handle`, with `review` and the lines of a review in progress (which need the
        storage) answered too."""
        text = clean(line, 2000)
        if self.review is not None and self.review.active:
            return await self.review.answer(text)
        word, _, rest = text.partition(" ")
        if self.quiz is None and word.lower().lstrip("/!") == "review":
            return await self._review(rest.strip())
        return self.handle(line)

    async def _review(self, query: str) -> str:
        if self.review is None:
            return NO_DATABASE
        if query.lower() == "stats":
            return await self.review.stats()
        *words, last = query.split(" ") if query else [""]
        kind = KINDS.get(last.lower())
        if kind is None:
            words, kind = [*words, last], Kind.ALL
        section, error = self._section_id(" ".join(words).strip())
        return error or await self.review.start(section, kind)

    def run(self, lines: Iterable[str]) -> list[str]:
        """Every reply to `lines`, stopping at `quit`: the console without a terminal."""
        replies = []
        for line in lines:
            reply = self.handle(line)
            if reply is None:
                break
            replies.append(reply)
        return replies

    def handle(self, line: str) -> str | None:
        text = clean(line, 2000)
        if self.quiz is not None:
            return self._answer_quiz(text)
        if not text:
            return ""
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return self._open(self.choices[int(text) - 1])
        word, _, rest = text.partition(" ")
        command = word.lower().lstrip("/!")
        if command in {"quit", "exit"}:
            return None
        handler = self.commands.get(command)
        if handler is None:
            return self._lookup("lookup", text, self.librarian.search)
        if command in {"define", "section", "search"} and not rest:
            return f"Usage: {command} <what to look up>"
        return handler(rest)

    def close(self) -> str:
        """What to say when input ends: the scoreboard of a quiz still running, or how many
        cards a review cut short had rated."""
        if self.review is not None and self.review.active:
            return self.review.stop()
        return self._finish(stopped=True) if self.quiz is not None else ""

    def _lookup(self, command: str, query: str, ask: Callable[[str], Answer]) -> str:
        started = time.perf_counter()
        answer = ask(query)
        self.log(command, query, answer, started)
        return self._show(answer)

    def _show(self, answer: Answer) -> str:
        if answer.choices:
            self.choices = answer.choices
        return render_text(answer)

    def _open(self, link: Link) -> str:
        started = time.perf_counter()
        answer = self.librarian.open(link.entry_id)
        self.log("open", link.entry_id, answer, started)
        return self._show(answer)

    def _terms(self, query: str) -> str:
        section, error = self._section_id(query)
        return error or self._show(self.librarian.terms(section))

    def _section_id(self, query: str) -> tuple[str | None, str | None]:
        """A section id for an optional section argument, or an error message."""
        try:
            section = self.librarian.engine.find_section(query)
        except UnknownSection as exc:
            names = " or ".join(s.name for s in exc.suggestions)
            hint = f" Did you mean {names}?" if names else ""
            return None, (f"No section matches “{clean(exc.query, 100)}”.{hint} "
                          "Type 'sections' to list them.")  # fmt: skip
        return (section.id if section else None), None

    def _fact(self, query: str) -> str:
        section, error = self._section_id(query)
        return error or render_text(self.librarian.fact(section, self.rng))

    def _discuss(self, query: str) -> str:
        section, error = self._section_id(query)
        if error:
            return error
        prompt = pick_prompt(self.library, section, self.rng)
        if prompt is None:
            return "There are no discussion prompts."
        return render_card(prompt_card(self.library, prompt, note="Talk it over with your group."))

    def _timeline(self, query: str) -> str:
        """/timeline's text form (the console draws no pictures): an organisation, then up to
        two years, e.g. `timeline arab league 1990 2000`."""
        words = query.split()
        years = [int(word) for word in words if word.isdigit() and len(word) == 4]
        organisation = " ".join(w for w in words if not (w.isdigit() and len(w) == 4)) or None
        if len(years) > 2:
            return "Usage: timeline [organisation] [from year] [to year]"
        first, last = (*years, None, None)[:2]
        try:
            missions = missions_from_library(self.library)
            data = timeline_data(missions, self.today().year, organisation, first, last)
        except PictureError as exc:
            return str(exc)
        return describe(data)[1]

    # -- quiz ----------------------------------------------------------------------------
    def _start_quiz(self, query: str) -> str:
        count, _, rest = query.partition(" ")
        if not count.isdigit():
            count, rest = "3", query
        section, error = self._section_id(rest.strip())
        if error:
            return error
        questions = pick_questions(
            list(self.library.quiz.values()), min(int(count), MAX_QUESTIONS), self.rng, section
        )
        # The console waits for its one player, so the time limit never runs out.
        self.quiz = QuizState(questions, time_limit=10**9, clock=MonotonicClock())
        return self._ask(0)

    def _ask(self, index: int) -> str:
        assert self.quiz is not None
        question = self.quiz.open(index)
        self.quiz.start_timer()
        card = question_card(question, index, len(self.quiz.questions), seconds=0)
        return (
            render_card(dataclasses.replace(card, footer=None))
            + "\n\nYour answer (A, B, … or 1, 2, …; 'stop' ends the quiz):"
        )

    def _answer_quiz(self, text: str) -> str:
        quiz = self.quiz
        assert quiz is not None and quiz.current is not None
        if text.lower() in {"stop", "quit", "exit"}:
            return self._finish(stopped=True)
        choice = _choice_index(text, quiz.current.choices)
        result = quiz.answer(CONSOLE_USER, "you", quiz.index, -1 if choice is None else choice)
        if result.status is not AnswerStatus.ACCEPTED:
            letters = "ABCDE"[: len(quiz.current.choices)]
            return f"Answer with one of {', '.join(letters)} (or its number), or 'stop'."
        verdict = "Correct!" if result.correct else "Not quite."
        reply = f"{verdict}\n\n{render_card(reveal_card(quiz.close()))}"
        if quiz.index + 1 < len(quiz.questions):
            return f"{reply}\n\n{self._ask(quiz.index + 1)}"
        return f"{reply}\n\n{self._finish(stopped=False)}"

    def _finish(self, stopped: bool) -> str:
        assert self.quiz is not None
        if stopped and self.quiz.current is not None:
            self.quiz.close()
        board = self.quiz.scoreboard(stopped_by=CONSOLE_USER if stopped else None)
        self.quiz = None
        footer = f"{board.asked} of {board.total} questions asked"  # no server standings here
        if stopped:
            footer += " · stopped early"
        return render_card(dataclasses.replace(scoreboard_card(board), footer=footer))


def _choice_index(reply: str, choices: tuple[str, ...]) -> int | None:
    reply = reply.strip().rstrip(".)").casefold()
    if reply.isdigit() and 1 <= int(reply) <= len(choices):
        return int(reply) - 1
    if len(reply) == 1 and "a" <= reply <= "e" and ord(reply) - ord("a") < len(choices):
        return ord(reply) - ord("a")
    folded = [c.casefold() for c in choices]
    return folded.index(reply) if reply in folded else None
