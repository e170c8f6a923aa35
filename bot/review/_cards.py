"""Flashcards made from the library: one per glossary term and one per quiz question.

A card's id is its kind and its entry id (`term:chapter-vii`, `quiz:q-peacemaking-term`), so a
member's review history follows the entry through content edits and reloads. A card whose entry
has gone is simply no longer in the deck; its stored state is kept (the entry may come back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.content import Library, QuizQuestion, Term
from bot.study_cards import LETTERS

TERM, QUIZ = "term", "quiz"


class Kind(StrEnum):
    """Which cards a session shows."""

    TERMS = "terms"
    QUESTIONS = "questions"
    ALL = "all"

    def admits(self, card_kind: str) -> bool:
        return self is Kind.ALL or (card_kind == TERM) == (self is Kind.TERMS)


def card_id(kind: str, entry_id: str) -> str:
    if kind not in (TERM, QUIZ):
        raise ValueError(f"unknown card kind {kind!r}")
    return f"{kind}:{entry_id}"


def fsrs_id(card: str) -> int:
    """The integer id py-fsrs wants, derived from our card id: stable across processes (unlike
    `hash()`), and never the creation-time default that makes `fsrs.Card()` sleep."""
    return int.from_bytes(hashlib.sha256(card.encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True, slots=True)
class Flashcard:
    """What a member sees: the front (a term's name, or a question and its choices) and, after
    "Show answer", the back (the definition, or the right answer and why)."""

    id: str
    kind: str  # TERM or QUIZ
    entry_id: str
    section: str
    prompt: str  # the term's name or the question
    answer: str  # the definition or the right choice
    choices: tuple[str, ...] = ()  # a question's choices, in the library's order
    explanation: str | None = None
    note: str | None = None  # a term's "what the article gets wrong"

    @property
    def front(self) -> str:
        lines = [self.prompt]
        if self.choices:
            lines.append("")
            lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(self.choices)]
        return "\n".join(lines)

    @property
    def back(self) -> str:
        if self.kind == TERM:
            return self.answer
        letter = LETTERS[self.choices.index(self.answer)] if self.answer in self.choices else "?"
        return f"{letter}. {self.answer}\n\n{self.explanation or ''}".rstrip()

    @classmethod
    def from_term(cls, term: Term) -> Flashcard:
        return cls(
            id=card_id(TERM, term.id),
            kind=TERM,
            entry_id=term.id,
            section=term.section,
            prompt=term.name,
            answer=term.definition,
            note=term.note,
        )

    @classmethod
    def from_question(cls, question: QuizQuestion) -> Flashcard:
        return cls(
            id=card_id(QUIZ, question.id),
            kind=QUIZ,
            entry_id=question.id,
            section=question.section,
            prompt=question.question,
            answer=question.answer,
            choices=question.choices,
            explanation=question.explanation,
        )


class Deck:
    """Every card of one library, terms first, each table in the library's order (which the
    authors keep grouped by section, so new cards arrive topic by topic)."""

    def __init__(self, cards: Iterable[Flashcard]) -> None:
        self.cards: Mapping[str, Flashcard] = MappingProxyType({c.id: c for c in cards})

    @classmethod
    def from_library(cls, library: Library) -> Deck:
        terms = [Flashcard.from_term(term) for term in library.terms.values()]
        questions = [Flashcard.from_question(q) for q in library.quiz.values()]
        return cls([*terms, *questions])

    def get(self, card: str) -> Flashcard | None:
        return self.cards.get(card)

    def select(self, section: str | None = None, kind: Kind = Kind.ALL) -> list[Flashcard]:
        return [
            card
            for card in self.cards.values()
            if (section is None or card.section == section) and kind.admits(card.kind)
        ]

    def __len__(self) -> int:
        return len(self.cards)
