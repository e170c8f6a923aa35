"""How answers look on Discord: the one embed renderer and the buttons that go with it.

Buttons carry everything they need in their `custom_id` (who asked, which entry, which page),
so they keep working after a restart: they are `DynamicItem`s that discord.py matches by
pattern, with no view state held in memory.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord
from discord.ext import commands

from bot.answers import Answer, Card, Librarian, Link
from bot.client import RESTARTING
from bot.content import ID_MAX, ID_PATTERN
from bot.text import clean
from cogs.errors import report, send_ephemeral

log = logging.getLogger(__name__)

LABEL_MAX = 80  # Discord's limit for a button label
CHOICE_MAX = 100  # Discord's limit for an autocomplete choice's name and value
CHOICES_MAX = 25  # Discord's limit for the number of choices
SLOW_AUTOCOMPLETE_MS = 250.0
MAX_SUGGESTIONS = 5
MAX_RELATED = 10  # two rows of five
ENTRY_ID_MAX = ID_MAX  # the content model's limit; keeps every custom_id within Discord's 100
SEARCH_REF_MAX = 64  # a search query this long still fits a page button's custom_id

NOT_YOURS = "Only the person who asked can turn these pages. Ask the bot yourself to get your own."
EXPIRED = "This button has expired. Run the command again to get a fresh one."
OPEN_TEMPLATE = rf"pb:open:(?P<mode>[sn]):(?P<owner>\d{{1,20}}):(?P<entry>{ID_PATTERN})"
PAGE_TEMPLATE = r"pb:page:(?P<owner>\d{1,20}):(?P<page>\d{1,2}):(?P<kind>[est]):(?P<ref>.{1,66})"
MENU_TEMPLATE = r"pb:menu:(?P<owner>\d{1,20})"
LIST_TEMPLATE = r"pb:list:(?P<owner>\d{1,20}):(?P<what>terms|sections)"
REPORT_TEMPLATE = rf"pb:report:(?P<version>[0-9a-f]{{1,16}}):(?P<entry>{ID_PATTERN})"
REPORT_LABEL = "Report a mistake"
NO_REPORTS = "Reports cannot be taken right now; please try again later."


# -- autocomplete -----------------------------------------------------------------------------


def autocomplete_choices(
    bot: Any, current: str, kinds: frozenset[str] | None
) -> list[discord.app_commands.Choice[str]]:
    """Up to 25 choices for `current` from the lookup engine; every command re-resolves what it
    receives. The engine is pure CPU and answers in about a millisecond; the input is bounded
    so it stays that way, and any failure answers with no choices rather than leaving Discord
    waiting."""
    started = time.perf_counter()
    try:
        found = bot.engine.autocomplete(clean(current, CHOICE_MAX), kinds=kinds, limit=CHOICES_MAX)
        result = [
            discord.app_commands.Choice(name=clean(c.name, CHOICE_MAX) or c.value, value=c.value)
            for c in found[:CHOICES_MAX]
            if len(c.value) <= CHOICE_MAX
        ]
    except Exception:
        log.exception("autocomplete failed for %r", current[:CHOICE_MAX])
        return []
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if elapsed_ms > SLOW_AUTOCOMPLETE_MS:
        log.warning("autocomplete took %.0f ms for %r", elapsed_ms, current[:CHOICE_MAX])
    return result


# -- embeds -----------------------------------------------------------------------------------


def card_to_embed(card: Card) -> discord.Embed:
    """Render one card. The core already keeps cards within Discord's limits and numbers the
    pages of a long answer in their footers, so this only maps fields."""
    embed = discord.Embed(
        title=card.title or None,
        description=card.description or None,
        url=card.url or None,
        colour=discord.Colour(card.colour),
    )
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


# -- buttons ----------------------------------------------------------------------------------
#
# custom_id layouts (all at most 100 characters; entry ids are at most 64):
#   pb:open:<mode>:<owner>:<entry id>       mode "s": the owner's click swaps the message to the
#                                           entry (a "did you mean" choice); mode "n": the entry
#                                           opens in a new private message (related, search hits)
#   pb:page:<owner>:<page>:e:<entry id>     a page of an entry
#   pb:page:<owner>:<page>:s:<query>        a page of search results, re-run from the query
#   pb:page:<owner>:<page>:t:<letter>:<section>  a page of the glossary list (/terms)
#   pb:menu:<owner>                         a browse list's select menu: the picked entry
#                                           opens in a new private message
#   pb:list:<owner>:<terms|sections>        "browse" under an unanswered lookup
#   pb:report:<content version>:<entry id>  "Report a mistake" under every answer card about
#                                           one entry; anyone may click it


async def guarded(
    interaction: discord.Interaction, action: Callable[[], Awaitable[None]], what: str
) -> None:
    """Run a component's action; any failure goes to the one error handler, never to silence.

    Use it in every `DynamicItem.callback`: discord.py only logs what those raise, which would
    leave the user looking at "This interaction failed".
    """
    admit = getattr(interaction.client, "admit", None)  # PeacebotBot: counted until done
    if admit is not None and not admit():
        await send_ephemeral(interaction, RESTARTING)
        return
    try:
        await action()
    except Exception as exc:
        await report(interaction, exc, where=what)


class ReportingView(discord.ui.View):
    """A view whose component errors go to the one error handler.

    Never stop (or give a timeout to) a view holding the persistent buttons below: when
    discord.py drops a view it also unregisters its `DynamicItem` classes for the whole bot.
    """

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report(interaction, error, where=f"component {getattr(item, 'custom_id', item)!r}")


def _librarian(interaction: discord.Interaction) -> Librarian:
    return interaction.client.librarian  # type: ignore[attr-defined]


class OpenEntryButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=OPEN_TEMPLATE,
):
    """Opens an entry: a "did you mean" choice, a related term or a search hit.

    Only the asker can swap their own message to a "did you mean" choice; every other click
    opens the entry in a private message, so nobody changes an answer someone else asked for.
    """

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(OPEN_TEMPLATE)

    def __init__(
        self,
        owner_id: int,
        entry_id: str,
        label: str,
        *,
        swap: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        mode = "s" if swap else "n"
        super().__init__(
            discord.ui.Button(
                label=clean(label, LABEL_MAX) or entry_id,
                style=style,
                custom_id=f"pb:open:{mode}:{owner_id}:{entry_id}",
                row=row,
            )
        )
        self.owner_id = owner_id
        self.entry_id = entry_id
        self.swap = swap

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> OpenEntryButton:
        label = getattr(item, "label", None) or match["entry"]
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        swap = match["mode"] == "s"
        return cls(int(match["owner"]), match["entry"], label, swap=swap, style=style)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._open(interaction), "an open-entry button")

    async def _open(self, interaction: discord.Interaction) -> None:
        started = time.perf_counter()
        answer = _librarian(interaction).open(self.entry_id)
        clicker = interaction.user.id
        if self.swap and clicker == self.owner_id:
            await interaction.response.edit_message(**answer_message(answer, clicker, edit=True))
        else:
            parts = answer_message(answer, clicker)
            await interaction.response.send_message(**parts, ephemeral=True)
        log_interaction(interaction, "open", self.entry_id, answer, started)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=PAGE_TEMPLATE,
):
    """Previous or Next on a long answer. Only the asker can turn the pages."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(PAGE_TEMPLATE)

    def __init__(
        self,
        owner_id: int,
        kind: str,
        ref: str,
        target: int,
        label: str,
        *,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"pb:page:{owner_id}:{target}:{kind}:{ref}",
                disabled=disabled,
                row=0,
            )
        )
        self.owner_id = owner_id
        self.kind = kind
        self.ref = ref
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> PageButton:
        label = getattr(item, "label", None) or "…"
        owner, target = int(match["owner"]), int(match["page"])
        return cls(owner, match["kind"], match["ref"], target, label)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._turn(interaction), "a page button")

    async def _turn(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner_id:
            await send_ephemeral(interaction, NOT_YOURS)
            return
        started = time.perf_counter()
        librarian = _librarian(interaction)
        if self.kind == "s":
            answer = librarian.search(self.ref)
            parts = answer_message(answer, self.owner_id, self.target, search=self.ref, edit=True)
        elif self.kind == "t":
            letter, _, section = self.ref.partition(":")
            answer = librarian.terms(section or None, letter or None)
            parts = answer_message(answer, self.owner_id, self.target, edit=True)
        else:
            answer = librarian.open(self.ref)
            parts = answer_message(answer, self.owner_id, self.target, edit=True)
        await interaction.response.edit_message(**parts)
        log_interaction(interaction, "page", self.ref, answer, started)


class EntryMenu(discord.ui.DynamicItem[discord.ui.Select], template=MENU_TEMPLATE):
    """A browse list's menu: whoever picks an entry gets it in a private message."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(MENU_TEMPLATE)

    def __init__(self, owner_id: int, links: tuple[Link, ...] = (), placeholder: str = "") -> None:
        options = [
            discord.SelectOption(
                label=clean(link.label, CHOICE_MAX) or link.entry_id, value=link.entry_id
            )
            for link in links[:CHOICES_MAX]
        ]
        super().__init__(
            discord.ui.Select(
                custom_id=f"pb:menu:{owner_id}",
                placeholder=placeholder or "Open an entry…",
                options=options or [discord.SelectOption(label="…", value="none")],
                row=4,
            )
        )
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> EntryMenu:
        return cls(int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._open(interaction), "a browse menu")

    async def _open(self, interaction: discord.Interaction) -> None:
        started = time.perf_counter()
        data = interaction.data or {}
        values = [str(v) for v in data.get("values", ())] or [""]  # type: ignore[union-attr]
        answer = _librarian(interaction).open(values[0])
        parts = answer_message(answer, interaction.user.id)
        await interaction.response.send_message(**parts, ephemeral=True)
        log_interaction(interaction, "open", values[0], answer, started)


BROWSE_LABELS = {"terms": "Browse the glossary", "sections": "List the sections"}


class BrowseButton(discord.ui.DynamicItem[discord.ui.Button], template=LIST_TEMPLATE):
    """Under a lookup that found nothing: the glossary or the sections list, privately."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(LIST_TEMPLATE)

    def __init__(self, owner_id: int, what: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=BROWSE_LABELS[what],
                style=discord.ButtonStyle.secondary,
                custom_id=f"pb:list:{owner_id}:{what}",
                row=4,
            )
        )
        self.owner_id = owner_id
        self.what = what

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> BrowseButton:
        return cls(int(match["owner"]), match["what"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._list(interaction), "a browse button")

    async def _list(self, interaction: discord.Interaction) -> None:
        started = time.perf_counter()
        librarian = _librarian(interaction)
        answer = librarian.terms() if self.what == "terms" else librarian.sections()
        parts = answer_message(answer, interaction.user.id)
        await interaction.response.send_message(**parts, ephemeral=True)
        log_interaction(interaction, self.what, "", answer, started)


class ReportButton(discord.ui.DynamicItem[discord.ui.Button], template=REPORT_TEMPLATE):
    """Under every answer card about one entry: opens the form to report a mistake in it
    (cogs.reports). The custom id names the entry and the content version the card showed."""

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(REPORT_TEMPLATE)

    def __init__(self, entry_id: str, version: str, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=REPORT_LABEL,
                style=discord.ButtonStyle.secondary,
                emoji="🚩",
                custom_id=f"pb:report:{version}:{entry_id}",
                row=row,
            )
        )
        self.entry_id = entry_id
        self.version = version

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ReportButton:
        return cls(match["entry"], match["version"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda: self._open(interaction), "a report button")

    async def _open(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Reports")  # type: ignore[attr-defined]
        open_form = getattr(cog, "open_form", None)
        if open_form is None:
            await send_ephemeral(interaction, NO_REPORTS)
            return
        await open_form(interaction, self.entry_id, self.version)


def add_report_button(
    view: discord.ui.View, entry_id: str | None, version: str | None, row: int | None = None
) -> None:
    """Give an answer card's view its "Report a mistake" button (the one way every card gets
    it: definitions, sections, facts, quiz reveals, review backs)."""
    if entry_id and version and len(entry_id) <= ENTRY_ID_MAX and version.isalnum():
        view.add_item(ReportButton(entry_id, version, row=row))


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    OpenEntryButton,
    PageButton,
    EntryMenu,
    BrowseButton,
    ReportButton,
)


def _pager(answer: Answer, search: str | None) -> tuple[str, str] | None:
    """How a page button finds this answer again: re-run the search or the glossary list,
    or reopen the entry."""
    if search is not None:
        return ("s", search) if 0 < len(search) <= SEARCH_REF_MAX else None
    if answer.listing is not None and answer.listing != "sections":
        return ("t", answer.listing)
    return ("e", answer.entry_id) if answer.entry_id else None


def answer_view(
    answer: Answer, owner_id: int, page: int = 0, *, search: str | None = None
) -> discord.ui.View | None:
    """The buttons for `page` of `answer`, or None when it needs none.

    Row 0 turns pages and holds "Report a mistake" for an answer about one entry, row 1 up
    to five "did you mean" choices, rows 2-3 up to ten related entries, row 4 a browse list's
    menu or a "browse" button. Pass `search` (the query) for search results: their pages are
    re-run from it, and their suggestions are hits to open, not guesses to swap in.
    """
    view = ReportingView(timeout=None)
    pages = len(answer.pages)
    pager = _pager(answer, search)
    if pages > 1 and pager is not None:
        kind, ref = pager
        previous = PageButton(
            owner_id, kind, ref, max(page - 1, 0), "◀ Previous", disabled=page <= 0
        )
        following = PageButton(owner_id, kind, ref, page + 1, "Next ▶", disabled=page >= pages - 1)
        view.add_item(previous)
        view.add_item(following)
    if not answer.results and answer.listing is None:
        add_report_button(view, answer.entry_id, answer.version, row=0)
    seen: set[str] = set()
    swap_suggestions = search is None
    groups = (
        (answer.suggestions, MAX_SUGGESTIONS, 1, discord.ButtonStyle.primary, swap_suggestions),
        (answer.related, MAX_RELATED, 2, discord.ButtonStyle.secondary, False),
    )
    for links, limit, first_row, style, swap in groups:
        shown = 0
        for link in links:
            if shown == limit:
                break
            if link.entry_id in seen or len(link.entry_id) > ENTRY_ID_MAX:
                continue
            seen.add(link.entry_id)
            button = OpenEntryButton(
                owner_id,
                link.entry_id,
                link.label,
                swap=swap,
                style=style,
                row=first_row + shown // 5,
            )
            view.add_item(button)
            shown += 1
    if answer.menus:
        links = answer.menus[min(page, len(answer.menus) - 1)]
        if links:
            view.add_item(EntryMenu(owner_id, links))
    elif answer.browse in BROWSE_LABELS:
        view.add_item(BrowseButton(owner_id, answer.browse))
    return view if view.children else None


def answer_message(
    answer: Answer,
    owner_id: int,
    page: int = 0,
    *,
    search: str | None = None,
    edit: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for `send`/`edit_message` showing `page` of `answer` to `owner_id`.

    With `edit=True` the view is always given, so stale buttons are removed (None) rather than
    left in place.
    """
    page = min(max(page, 0), len(answer.pages) - 1)
    embed = card_to_embed(answer.pages[page])
    view = answer_view(answer, owner_id, page, search=search)
    parts: dict[str, Any] = {"embed": embed}
    if view is not None or edit:
        parts["view"] = view
    return parts


# -- the query log ----------------------------------------------------------------------------


def log_interaction(
    interaction: discord.Interaction,
    command: str,
    query: str,
    answer: Answer | None,
    started: float,
    *,
    failed: bool = False,
) -> None:
    """Log a button click or slash-only command through the bot's query log."""
    where = (interaction.guild_id, interaction.channel_id, interaction.user.id)
    _log(interaction.client, where, command, query, answer, started, failed)


def log_context(
    ctx: commands.Context[Any],
    command: str,
    query: str,
    answer: Answer | None,
    started: float,
    *,
    failed: bool = False,
) -> None:
    """Log a prefix or hybrid command through the bot's query log."""
    where = (ctx.guild.id if ctx.guild is not None else None, ctx.channel.id, ctx.author.id)
    _log(ctx.bot, where, command, query, answer, started, failed)


def _log(
    client: discord.Client,
    where: tuple[int | None, int | None, int],
    command: str,
    query: str,
    answer: Answer | None,
    started: float,
    failed: bool,
) -> None:
    log_query = getattr(client, "log_query", None)  # test bots may have no query log
    if log_query is None:
        return
    guild_id, channel_id, user_id = where
    log_query(
        command=command,
        query=query,
        started=started,
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        answer=answer,
        failed=failed,
    )


# -- components nothing matches any more -------------------------------------------------------


def is_known_component(client: discord.Client, custom_id: str) -> bool:
    """Whether a loaded item handles `custom_id`. Every component peacebot sends is a
    DynamicItem whose class declares its custom-id `PATTERN`; the bot keeps the loaded ones."""
    patterns = getattr(client, "component_patterns", None)
    if patterns is None or None in patterns.values():
        return True  # an item without a PATTERN (or not a PeacebotBot): stay out of the way
    if any(pattern.fullmatch(custom_id) for pattern in patterns.values()):
        return True
    return any(
        getattr(item, "custom_id", None) == custom_id
        for view in client.persistent_views
        for item in view.walk_children()
    )


async def answer_unmatched_component(interaction: discord.Interaction) -> None:
    """A click discord.py cannot route to any item gets a short private answer."""
    if interaction.type is not discord.InteractionType.component:
        return
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    if not is_known_component(interaction.client, custom_id):
        await send_ephemeral(interaction, EXPIRED)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*PERSISTENT_ITEMS)
    bot.add_listener(answer_unmatched_component, "on_interaction")


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(*PERSISTENT_ITEMS)
    bot.remove_listener(answer_unmatched_component, "on_interaction")
