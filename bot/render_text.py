"""The plain-text renderer: an `Answer` as terminal text (the console and the CLI)."""

from __future__ import annotations

import re
import textwrap

from bot.answers import Answer, Card

# One pass, so an escaped `\*` from user input is restored literally and never read as emphasis.
_MARKUP = re.compile(
    r"\\([\\*_~`|>#\[\]()-])"  # an escaped character
    r"|\[([^\]]+)\]\((https?://[^)\s]+)\)"  # a link
    r"|\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*"  # bold, italics
)
_WIDTH = 88


def render_text(answer: Answer, *, numbered: bool = True) -> str:
    """The answer as text. With `numbered`, choices carry the numbers that open them (the
    console); lists and search results number their lines themselves."""
    blocks = [render_card(card) for card in answer.pages]
    if answer.suggestions and not answer.results and not answer.menus:
        if numbered:
            lines = [f"  {i}. {link.label}" for i, link in enumerate(answer.suggestions, 1)]
            blocks.append("Did you mean:\n" + "\n".join(lines))
        else:
            blocks.append(_wrap("Did you mean: " + " | ".join(s.label for s in answer.suggestions)))
    if answer.related:
        blocks.append(_wrap("See also: " + " | ".join(link.label for link in answer.related)))
    return "\n\n".join(blocks)


def render_card(card: Card) -> str:
    lines = [_plain(card.title), "=" * min(len(card.title), _WIDTH)]
    lines += [_wrap(line) for line in _plain(card.description).splitlines()]
    for field in card.fields:
        lines += ["", f"{_plain(field.name)}:"]
        lines += [_wrap(line, indent="  ") for line in _plain(field.value).splitlines()]
    if card.footer:
        lines += ["", f"({_plain(card.footer)})"]
    return "\n".join(lines)


def _plain(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        escaped, label, url, bold, italic = m.groups()
        if escaped:
            return escaped
        if label:
            return f"{_plain(label)} <{url}>"
        return _plain(bold or italic)

    return _MARKUP.sub(replace, text)


def _wrap(line: str, indent: str = "") -> str:
    if not line.strip():
        return ""
    bullet = "  " if line.lstrip().startswith("•") else ""
    # A URL longer than a line stays whole (terminals make it clickable); so do long words.
    return textwrap.fill(
        line, _WIDTH, initial_indent=indent, subsequent_indent=indent + bullet,
        break_on_hyphens=False, break_long_words=False,
    )  # fmt: skip
