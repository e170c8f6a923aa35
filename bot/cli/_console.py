"""`peacebot console`: the bot's commands as plain text, offline, with no token."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from bot.answers import Librarian
from bot.cli._content import load_or_report
from bot.content import Library
from bot.lookup import Outcome
from bot.render_text import render_text
from bot.text import clean

HELP = """Commands (the same as on Discord):
  define <term>      a glossary definition          e.g. define roe
  section <name>     a section summary              e.g. section case studies
  search <question>  full-text search               e.g. search what happened in liberia
  fact [section]     a random fact
  quiz [section]     one quiz question; answer with its number
  prompt [section]   a discussion prompt
  about              what the library holds
  help               this list
  quit               leave (or Ctrl-D)
Anything else is looked up by name, then searched."""


def register(sub: argparse._SubParsersAction) -> None:
    console = sub.add_parser(
        "console",
        help="try every command offline, without a token",
        description="An interactive prompt that answers the bot's commands as plain text. "
        "Reads commands from stdin when it is not a terminal: echo 'define roe' | peacebot console",
    )
    console.add_argument("--content", type=Path, help="content directory (default: bundled)")
    console.add_argument("--seed", type=int, help="random seed for facts and quizzes")
    console.set_defaults(handler=run_console)


def run_console(args: argparse.Namespace) -> int:
    library = load_or_report(args.content)
    if library is None:
        return 1
    interactive = sys.stdin.isatty()
    session = Console(library, random.Random(args.seed), sys.stdout)
    if interactive:
        print(f"peacebot console: {sum(library.counts().values())} entries. Type 'help'.")
    lines = _prompted_lines() if interactive else (line.rstrip("\n") for line in sys.stdin)
    session.run(lines)
    return 0


def _prompted_lines() -> Iterator[str]:
    while True:
        try:
            yield input("peacebot> ")
        except EOFError:
            print()
            return


class Console:
    """Reads commands from any line source, so tests drive it exactly as a user would."""

    def __init__(self, library: Library, rng: random.Random, out: TextIO) -> None:
        self.library = library
        self.librarian = Librarian(library)
        self.rng = rng
        self.out = out
        self.commands: dict[str, Callable[[str, Iterator[str]], str]] = {
            "define": lambda q, _: render_text(self.librarian.define(q)),
            "section": lambda q, _: render_text(self.librarian.section(q)),
            "search": lambda q, _: render_text(self.librarian.search(q)),
            "fact": self._fact,
            "quiz": self._quiz,
            "prompt": self._prompt,
            "about": lambda _q, _l: render_text(self.librarian.about()),
            "help": lambda _q, _l: HELP,
        }

    def run(self, lines: Iterator[str]) -> None:
        for line in lines:
            text = clean(line, 2000)
            if not text:
                continue
            word, _, rest = text.partition(" ")
            if word.lower() in {"quit", "exit"}:
                return
            handler = self.commands.get(word.lower().lstrip("/!"))
            if handler is None:
                reply = render_text(self.librarian.lookup(text))
            elif word.lower() in {"define", "section", "search"} and not rest:
                reply = f"Usage: {word.lower()} <what to look up>"
            else:
                reply = handler(rest, lines)
            print(reply, file=self.out, end="\n\n", flush=True)

    def _section_id(self, query: str) -> tuple[str | None, str | None]:
        """A section id for an optional section argument, or an error message."""
        if not query:
            return None, None
        best = self.librarian.engine.resolve(query, kinds={"section"}).best
        if best is None:
            return None, f"No section matches {clean(query, 100)!r}. Try 'section <name>'."
        return best.entry.id, None

    def _fact(self, query: str, _lines: Iterator[str]) -> str:
        section, error = self._section_id(query)
        return error or render_text(self.librarian.fact(section, self.rng))

    def _prompt(self, query: str, _lines: Iterator[str]) -> str:
        section, error = self._section_id(query)
        if error:
            return error
        prompts = self.library.in_section(self.library.prompts, section)
        if not prompts:
            return "No discussion prompts for that section."
        prompt = self.rng.choice(prompts)
        title = self.library.sections[prompt.section].title
        return f"Discuss ({title}):\n{prompt.prompt}"

    def _quiz(self, query: str, lines: Iterator[str]) -> str:
        section, error = self._section_id(query)
        if error:
            return error
        questions = self.library.in_section(self.library.quiz, section)
        if not questions:
            return "No quiz questions for that section."
        question = self.rng.choice(questions)
        choices = "\n".join(f"  {i}. {c}" for i, c in enumerate(question.choices, 1))
        print(f"{question.question}\n{choices}\nYour answer (number):", file=self.out, flush=True)
        reply = clean(next(lines, ""), 80)
        chosen = _choice_index(reply, question.choices)
        verdict = (
            "Correct!"
            if chosen == question.answer_index
            else f"Not quite: the answer is {question.answer_index + 1}. {question.answer}."
        )
        return f"{verdict}\n{question.explanation}"


def _choice_index(reply: str, choices: tuple[str, ...]) -> int | None:
    if reply.isdigit() and 1 <= int(reply) <= len(choices):
        return int(reply) - 1
    folded = [c.casefold() for c in choices]
    return folded.index(reply.casefold()) if reply.casefold() in folded else None


__all__ = ["Console", "Outcome"]
