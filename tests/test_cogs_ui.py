"""The embed renderer and the persistent buttons in cogs/_ui.py."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import discord
import pytest

from bot.answers import Answer, Card, Field, Librarian, Link
from bot.client import EXTENSIONS, PeacebotBot
from bot.content import Library
from bot.lookup import Outcome
from cogs import _ui as ui
from cogs._ui import (
    NOT_YOURS,
    OpenEntryButton,
    PageButton,
    ReportingView,
    answer_message,
    answer_view,
    card_to_embed,
)
from cogs.errors import UNEXPECTED
from tests._cog_fakes import OTHER_ID, USER_ID, FakeInteraction, close_bot, make_bot


@pytest.fixture
async def bot(small_library: Library) -> AsyncIterator[PeacebotBot]:
    made = await make_bot(small_library)
    yield made
    await close_bot(made)


def _buttons(view: discord.ui.View | None) -> list[discord.ui.DynamicItem]:
    assert view is not None
    return list(view.children)  # type: ignore[arg-type]


def _paged(n: int, entry_id: str | None = "chapter-vii") -> Answer:
    cards = tuple(Card(f"Title {i}", f"Page {i} text", footer=f"Page {i}/{n}") for i in range(n))
    return Answer("q", Outcome.EXACT, cards, entry_id=entry_id)


# -- embeds -------------------------------------------------------------------------------------


def test_card_to_embed_maps_every_part() -> None:
    card = Card(
        title="Chapter VII",
        description="Binding measures.",
        fields=(Field("Section", "Law", inline=True), Field("Sources", "Charter")),
        footer="Page 1/2",
        url="https://example.org/ch7",
        colour=0x123456,
    )
    embed = card_to_embed(card)
    assert embed.title == "Chapter VII"
    assert embed.description == "Binding measures."
    assert embed.url == "https://example.org/ch7"
    assert embed.colour == discord.Colour(0x123456)
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("Section", "Law", True),
        ("Sources", "Charter", False),
    ]
    assert embed.footer.text == "Page 1/2"


def test_card_without_footer_or_url_has_none() -> None:
    embed = card_to_embed(Card("T", "D"))
    assert embed.footer.text is None
    assert embed.url is None


def test_every_shipped_entry_renders_within_discord_limits(library: Library) -> None:
    librarian = Librarian(library)
    checked = 0
    for entry in library.named():
        for card in librarian.open(entry.id).pages:
            embed = card_to_embed(card)
            assert len(embed) <= 6000
            assert len(embed.title or "") <= 256
            assert len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25
            assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in embed.fields)
            checked += 1
    assert checked >= len(library.named())


# -- views --------------------------------------------------------------------------------------


def test_single_card_answer_without_links_has_no_view() -> None:
    assert answer_view(_paged(1), USER_ID) is None
    parts = answer_message(_paged(1), USER_ID)
    assert "view" not in parts  # discord.py would otherwise clear nothing on send anyway
    assert answer_message(_paged(1), USER_ID, edit=True)["view"] is None  # removes old buttons


def test_paging_buttons_on_first_middle_and_last_page() -> None:
    answer = _paged(3)
    first, following = _buttons(answer_view(answer, USER_ID, page=0))
    assert first.item.disabled and not following.item.disabled
    assert following.custom_id == f"pb:page:{USER_ID}:1:e:chapter-vii"
    previous, following = _buttons(answer_view(answer, USER_ID, page=1))
    assert previous.custom_id == f"pb:page:{USER_ID}:0:e:chapter-vii"
    assert following.custom_id == f"pb:page:{USER_ID}:2:e:chapter-vii"
    assert not previous.item.disabled and not following.item.disabled
    previous, last = _buttons(answer_view(answer, USER_ID, page=2))
    assert last.item.disabled and not previous.item.disabled


def test_answer_message_clamps_the_page() -> None:
    answer = _paged(2)
    assert answer_message(answer, USER_ID, page=7)["embed"].title == "Title 1"
    assert answer_message(answer, USER_ID, page=-3)["embed"].title == "Title 0"


def test_search_results_page_by_query() -> None:
    answer = _paged(2, entry_id="unmil")  # a search answer's entry id is only its best hit
    following = _buttons(answer_view(answer, USER_ID, search="who ran unmil"))[1]
    assert following.custom_id == f"pb:page:{USER_ID}:1:s:who ran unmil"


def test_suggestions_swap_and_related_open_privately() -> None:
    answer = Answer(
        "chaptr",
        Outcome.SUGGESTIONS,
        (Card("Did you mean…?", "…"),),
        suggestions=tuple(Link(f"Term {i}", f"term-{i}") for i in range(7)),
        related=(Link("Term 1", "term-1"), Link("Other", "other")),
    )
    buttons = _buttons(answer_view(answer, USER_ID))
    ids = [b.custom_id for b in buttons]
    assert ids[:5] == [f"pb:open:s:{USER_ID}:term-{i}" for i in range(5)]  # at most five
    assert ids[5:] == [f"pb:open:n:{USER_ID}:other"]  # term-1 is not offered twice
    assert {b.item.row for b in buttons[:5]} == {1}
    in_search = _buttons(answer_view(answer, USER_ID, search="chaptr"))
    assert all(b.custom_id.startswith("pb:open:n:") for b in in_search)


def test_every_custom_id_fits_and_matches_its_template() -> None:
    long_id = "a" * 64
    answer = Answer(
        "q",
        Outcome.EXACT,
        (Card("1", "x"), Card("2", "y")),
        suggestions=(Link("x" * 200, long_id),),
        entry_id=long_id,
    )
    owner = 2**64 - 1  # the largest snowflake
    for search in (None, "s" * 64):
        for button in _buttons(answer_view(answer, owner, search=search)):
            assert len(button.custom_id) <= 100
            assert button.template.fullmatch(button.custom_id)
            assert len(button.item.label or "") <= 80


def test_answers_about_one_entry_carry_a_report_button() -> None:
    entry = replace(_paged(2), version="57eff1061f")
    buttons = _buttons(answer_view(entry, USER_ID))
    report = [b for b in buttons if isinstance(b, ui.ReportButton)]
    assert [b.custom_id for b in report] == ["pb:report:57eff1061f:chapter-vii"]
    assert report[0].item.row == 0 and report[0].item.label == "Report a mistake"
    # Not under search results (their entry id is only the best hit), lists or suggestions.
    for other in (
        replace(entry, results=True),
        replace(entry, listing="a:"),
        replace(entry, entry_id=None),
        replace(entry, version=None),
    ):
        view = answer_view(other, USER_ID)
        assert not [b for b in _buttons(view) if isinstance(b, ui.ReportButton)] if view else True
    long = ui.ReportButton("a" * 64, "f" * 16)
    assert len(long.custom_id) <= 100 and long.template.fullmatch(long.custom_id)


def test_too_long_search_query_gets_no_page_buttons() -> None:
    assert answer_view(_paged(2), USER_ID, search="s" * 65) is None


async def test_buttons_rebuild_from_their_custom_id() -> None:
    open_button = OpenEntryButton(USER_ID, "chapter-vii", "Chapter VII", swap=True)
    match = open_button.template.fullmatch(open_button.custom_id)
    assert match is not None
    rebuilt = await OpenEntryButton.from_custom_id(None, open_button.item, match)  # type: ignore[arg-type]
    assert (rebuilt.owner_id, rebuilt.entry_id, rebuilt.swap) == (USER_ID, "chapter-vii", True)

    page_button = PageButton(USER_ID, "s", "a: query", 3, "Next ▶")
    match = page_button.template.fullmatch(page_button.custom_id)
    assert match is not None
    rebuilt = await PageButton.from_custom_id(None, page_button.item, match)  # type: ignore[arg-type]
    assert (rebuilt.owner_id, rebuilt.kind, rebuilt.ref, rebuilt.target) == (
        USER_ID,
        "s",
        "a: query",
        3,
    )


class _Registry:
    def __init__(self) -> None:
        self.items: set[type] = set()
        self.listeners: set[tuple[object, str]] = set()

    def add_dynamic_items(self, *items: type) -> None:
        self.items.update(items)

    def remove_dynamic_items(self, *items: type) -> None:
        self.items.difference_update(items)

    def add_listener(self, function: object, name: str) -> None:
        self.listeners.add((function, name))

    def remove_listener(self, function: object, name: str) -> None:
        self.listeners.discard((function, name))


async def test_the_extension_registers_the_persistent_buttons() -> None:
    registry = _Registry()
    await ui.setup(registry)  # type: ignore[arg-type]
    assert registry.items == {
        OpenEntryButton, PageButton, ui.EntryMenu, ui.BrowseButton, ui.ReportButton,
    }  # fmt: skip
    assert registry.listeners == {(ui.answer_unmatched_component, "on_interaction")}
    await ui.teardown(registry)  # type: ignore[arg-type]
    assert not registry.items and not registry.listeners
    assert EXTENSIONS[0] == "cogs._ui"  # loaded before the cogs that send buttons


# -- clicks -------------------------------------------------------------------------------------


async def test_asker_swaps_a_did_you_mean_choice_in_place(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=USER_ID)
    await OpenEntryButton(USER_ID, "chapter-vii", "Chapter VII", swap=True).callback(interaction)
    (edit,) = interaction.response.edits
    assert edit.embed is not None and edit.embed.title == "Chapter VII of the UN Charter"
    assert not interaction.response.sent
    await bot.storage.flush()
    stats = await bot.storage.stats()
    assert [(c.name, c.count) for c in stats.per_command] == [("open", 1)]
    assert [c.name for c in stats.top_entries] == ["chapter-vii"]


async def test_someone_else_gets_a_private_copy(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=OTHER_ID)
    await OpenEntryButton(USER_ID, "chapter-vii", "Chapter VII", swap=True).callback(interaction)
    assert not interaction.response.edits
    (sent,) = interaction.response.sent
    assert sent.kwargs["ephemeral"] is True
    assert sent.embed is not None and sent.embed.title == "Chapter VII of the UN Charter"
    # buttons in the copy belong to whoever now holds it (a report is anyone's to make)
    owned = [b for b in _buttons(sent.view) if not isinstance(b, ui.ReportButton)]
    assert owned and all(str(OTHER_ID) in b.custom_id for b in owned)


async def test_only_the_asker_turns_pages(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=OTHER_ID)
    await PageButton(USER_ID, "e", "chapter-vii", 1, "Next ▶").callback(interaction)
    assert not interaction.response.edits
    (sent,) = interaction.response.sent
    assert sent.content == NOT_YOURS
    assert sent.kwargs["ephemeral"] is True


async def test_asker_turns_a_page(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=USER_ID)
    await PageButton(USER_ID, "e", "chapter-vii", 0, "◀ Previous").callback(interaction)
    (edit,) = interaction.response.edits
    assert edit.embed is not None and edit.embed.title == "Chapter VII of the UN Charter"


async def test_a_gone_entry_answers_no_match(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=OTHER_ID)
    await OpenEntryButton(USER_ID, "removed-entry", "Removed").callback(interaction)
    (sent,) = interaction.response.sent
    assert sent.embed is not None and sent.embed.title == "No match"


class _BrokenLibrarian:
    def open(self, entry_id: str) -> Answer:
        raise RuntimeError("boom")


async def test_a_failing_button_is_still_answered(
    bot: PeacebotBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.librarian = _BrokenLibrarian()  # type: ignore[assignment]
    interaction = FakeInteraction(bot)
    with caplog.at_level(logging.ERROR, logger="cogs.errors"):
        await OpenEntryButton(USER_ID, "chapter-vii", "Chapter VII").callback(interaction)
    (sent,) = interaction.response.sent
    assert sent.content == UNEXPECTED and sent.kwargs["ephemeral"] is True
    (record,) = caplog.records
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])


async def test_a_failing_view_component_is_still_answered(bot: PeacebotBot) -> None:
    view = ReportingView(timeout=None)
    button = discord.ui.Button(label="x", custom_id="pb:test")
    view.add_item(button)
    interaction = FakeInteraction(bot, answered=True)
    await view.on_error(interaction, RuntimeError("boom"), button)  # type: ignore[arg-type]
    (sent,) = interaction.followup.sent
    assert sent.content == UNEXPECTED and sent.kwargs["ephemeral"] is True


# -- browsing -------------------------------------------------------------------------------------


async def test_a_glossary_page_has_a_menu_of_its_terms_and_turns(bot: PeacebotBot) -> None:
    answer = bot.librarian.terms()
    parts = answer_message(answer, USER_ID)
    menus = [c for c in parts["view"].children if isinstance(c, ui.EntryMenu)]
    (menu,) = menus
    assert [o.value for o in menu.item.options] == [link.entry_id for link in answer.menus[0]]
    assert len(parts["view"].children) == 1  # the small library fits one page: no pager


async def test_picking_from_a_menu_opens_the_entry_privately(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot, user_id=OTHER_ID)
    interaction.data = {"values": ["roe"]}  # type: ignore[attr-defined]
    await ui.EntryMenu(USER_ID).callback(interaction)  # type: ignore[arg-type]
    (sent,) = interaction.response.sent
    assert sent.kwargs["ephemeral"] is True
    assert sent.embed is not None and sent.embed.title == "Rules of engagement"


async def test_the_browse_button_sends_the_list(bot: PeacebotBot) -> None:
    interaction = FakeInteraction(bot)
    await ui.BrowseButton(USER_ID, "sections").callback(interaction)  # type: ignore[arg-type]
    (sent,) = interaction.response.sent
    assert sent.embed is not None and sent.embed.title == "Sections (2)"
    (menu,) = sent.view.children  # type: ignore[union-attr]
    assert {o.value for o in menu.item.options} == set(bot.library.sections)


async def test_glossary_pages_turn_from_their_listing(bot: PeacebotBot, library: Library) -> None:
    bot.use_library(library)
    answer = bot.librarian.terms()
    assert len(answer.pages) > 1 and answer.listing == ":"
    interaction = FakeInteraction(bot)
    await PageButton(USER_ID, "t", answer.listing, 1, "Next ▶").callback(interaction)  # type: ignore[arg-type]
    (edit,) = interaction.response.edits
    assert edit.embed is not None and edit.embed.footer.text.startswith(
        f"{len(library.terms)} terms · page 2/"
    )
    (menu,) = [c for c in edit.view.children if isinstance(c, ui.EntryMenu)]  # type: ignore[union-attr]
    assert [o.value for o in menu.item.options] == [link.entry_id for link in answer.menus[1]]


def test_every_component_class_declares_its_custom_id_pattern() -> None:
    """Clicks that match no pattern are told the button expired, so a class without one would
    get two answers to each click: its own and that one."""
    import cogs._exam
    import cogs.pictures
    import cogs.quiz

    classes = [
        member
        for module in (ui, cogs.quiz, cogs._exam, cogs.pictures)
        for member in vars(module).values()
        if isinstance(member, type)
        and issubclass(member, discord.ui.DynamicItem)
        and member.__module__ == module.__name__
    ]
    assert len(classes) >= 9
    missing = [
        c.__name__ for c in classes if not isinstance(getattr(c, "PATTERN", None), re.Pattern)
    ]
    assert missing == []
