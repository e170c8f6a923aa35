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


def render_text(answer: Answer) -> str:
    blocks = [render_card(card) for card in answer.pages]
    if answer.suggestions:
        blocks.append("Did you mean: " + " | ".join(link.label for link in answer.suggestions))
    if answer.related:
        blocks.append("See also: " + " | ".join(link.label for link in answer.related))
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
    return textwrap.fill(
        line, _WIDTH, initial_indent=indent, subsequent_indent=indent + bullet,
        break_on_hyphens=False,
    )  # fmt: skip
