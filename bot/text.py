"""Text helpers shared by the core: cleaning what users type, and making it safe to echo."""

from __future__ import annotations

import re
import unicodedata

# Control characters, zero-width and direction marks (a right-to-left override must not reorder
# what others read), and lone surrogates (SQLite cannot store them). White space is folded apart.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Discord mention syntax: @everyone/@here, users, roles, channels, slash-command mentions.
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#|/[^:>]{1,64}:)(\d{1,20})>")
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()-])")


def clean(text: object, limit: int = 200, *, mark_cut: bool = True) -> str:
    """Drop invisible characters, fold white space, and cut to `limit` characters (ending with
    `…` when `mark_cut`, so a reader sees the cut; the query log keeps the plain prefix)."""
    text = str(text)
    if not text.isprintable():  # most input is, and skips the regular expression
        text = _INVISIBLE.sub("", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…" if mark_cut else text[:limit].rstrip()
    return text


def neutralise(text: str) -> str:
    """Make user input inert when echoed: no mentions, no markdown, no masked links.

    A zero-width space after `@` and inside `<@…>` stops Discord from parsing a mention even if
    a client ignores `allowed_mentions`; markdown characters are escaped so `**` stays `**`.
    """
    text = _MENTION.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<", "<\u200b"), text)
    return _MARKDOWN.sub(r"\\\1", text)


def truncate(text: str, limit: int) -> str:
    """Cut text to `limit` characters at a word boundary where one is close, ending with `…`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def fold(text: str) -> str:
    """Lower-case, strip accents and typographic variants: the comparison form of a string."""
    if text.isascii():  # the common case has no accents to strip
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_PUNCT = re.compile(r"[^\w\s]+|_")
_ROMAN = {
    "i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8",
    "ix": "9", "x": "10", "xi": "11", "xii": "12", "xiii": "13", "xiv": "14", "xv": "15",
    "xvi": "16", "xvii": "17", "xviii": "18", "xix": "19",
}  # fmt: skip
_ABBREVIATIONS = {"art": "article", "arts": "article", "articles": "article", "ch": "chapter",
                  "chap": "chapter", "chapters": "chapter", "res": "resolution"}  # fmt: skip
_NUMBERED = {"article", "chapter"}
_SPECIAL = frozenset(_ROMAN) | frozenset(_ABBREVIATIONS)


def normalise(text: str) -> str:
    """The form names are compared in: case, accents and punctuation ignored, and the usual
    legal shorthands unified, so `Art. 42` = `article 42` and `Chapter VII` = `ch 7`."""
    text = fold(text)
    tokens = text.split()
    if "".join(tokens).isalnum() and min(map(len, tokens)) > 1 and _SPECIAL.isdisjoint(tokens):
        return " ".join(tokens)  # most names: no punctuation, initials, numerals or shorthands
    tokens = _PUNCT.sub(" ", text.replace("&", " and ")).split()
    out: list[str] = []
    for token in _join_initials(tokens):
        token = _ABBREVIATIONS.get(token, token)
        # `UNOSOM II` = `UNOSOM 2`; a lone I, V or X counts only after `chapter`/`article`.
        if token in _ROMAN and (len(token) > 1 or (out and out[-1] in _NUMBERED)):
            token = _ROMAN[token]
        out.append(token)
    return " ".join(out)


def _join_initials(tokens: list[str]) -> list[str]:
    """`u n s c` (from `U.N.S.C.`) -> `unsc`; a lone letter is left alone."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if token:
            out.append(token)
    return out
