"""The fake Discord API, driven end to end by a real discord.py bot (MinimalBot plus a few extras).

These tests pin down the harness itself: if they pass, a failure in an e2e test of peacebot is
about peacebot, not about the fake.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fake_discord import (
    BotHarness,
    FakeDiscord,
    NoResponse,
    discord_endpoints,
    live_mentions,
    running_bot,
)
from tests.fake_discord.minimal_bot import PONG, MinimalBot

# -- extra commands exercising buttons, deferral, followups, ephemeral replies and threads ------


class Counter(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.count = 0

    @discord.ui.button(label="Add one", custom_id="counter:add")
    async def add(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.count += 1
        await interaction.response.edit_message(content=str(self.count), view=self)


@app_commands.command(description="A message with a button")
async def counter(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("0", view=Counter())


@app_commands.command(description="Defer, then edit the original and send a followup")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content="done")
    await interaction.followup.send("only you", ephemeral=True)


@app_commands.command(description="An ephemeral message with a button")
async def private(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("psst", view=Counter(), ephemeral=True)


@app_commands.command(description="Open a discussion thread")
@app_commands.describe(topic="What to discuss", channel="Where")
async def discuss(
    interaction: discord.Interaction, topic: str, channel: discord.TextChannel | None = None
) -> None:
    await interaction.response.send_message("opening a thread", ephemeral=True)
    target = channel or interaction.channel
    assert isinstance(target, discord.TextChannel)
    starter = await target.send(f"Discussion: {topic}")
    thread = await starter.create_thread(name=topic)
    await thread.send("first post")


@app_commands.command(description="Echo text back, as a careless bot would")
async def echo(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, allowed_mentions=discord.AllowedMentions.all())


settings = app_commands.Group(name="settings", description="Server settings")
notify = app_commands.Group(name="notify", description="Who hears about things", parent=settings)


@notify.command(name="set", description="Choose a channel, a role and a person")
async def notify_set(
    interaction: discord.Interaction,
    channel: discord.TextChannel,
    role: discord.Role,
    member: discord.Member,
    hour: app_commands.Range[int, 0, 23] = 9,
) -> None:
    await interaction.response.send_message(
        f"{channel.name} {role.name} {member.name} {hour}", ephemeral=True
    )


class Picker(discord.ui.View):
    @discord.ui.select(
        custom_id="picker",
        options=[discord.SelectOption(label=x, value=x) for x in ("red", "blue", "green")],
        max_values=2,
    )
    async def picked(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(",".join(select.values))


@app_commands.command(description="A select menu")
async def choose(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pick", view=Picker())


HOLD = {"released": None}  # set per test: the event /held waits on before it answers


@app_commands.command(description="Answer only once the test says so")
async def held(interaction: discord.Interaction) -> None:
    released = HOLD["released"]
    assert isinstance(released, asyncio.Event)
    await released.wait()
    await interaction.response.send_message("finally")


PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@app_commands.command(description="Defer, then send a picture with alt text, then replace it")
async def picture(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    file = discord.File(io.BytesIO(PNG), "chart.png", description="A bar chart of nothing")
    await interaction.followup.send("here", file=file)
    await interaction.edit_original_response(
        attachments=[discord.File(io.BytesIO(PNG * 2), "other.png", description="Another")]
    )


class Feedback(discord.ui.Modal, title="Feedback"):
    said = discord.ui.Label(text="What to say", component=discord.ui.TextInput(
        custom_id="said", min_length=3, max_length=20))  # fmt: skip

    async def on_submit(self, interaction: discord.Interaction) -> None:
        said = self.said.component
        assert isinstance(said, discord.ui.TextInput)
        await interaction.response.send_message(f"you said {said.value}", ephemeral=True)


@app_commands.command(description="Open a form")
async def form(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(Feedback(custom_id="feedback"))


EXTRAS = (counter, slow, private, discuss, echo, settings, choose, picture, form)


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[BotHarness]:
    client = MinimalBot()
    for command in EXTRAS:
        client.tree.add_command(command)
    async with running_bot(fake_discord, client) as harness:
        yield harness


# -- connecting --------------------------------------------------------------------------------


async def test_bot_logs_in_identifies_and_sees_the_guild(bot: BotHarness) -> None:
    world = bot.world
    assert bot.bot.user is not None and bot.bot.user.id == world.bot.id
    assert bot.bot.application_id == world.application_id
    (identify,) = bot.fake.identifies
    assert identify["token"] == bot.fake.token
    assert discord.Intents._from_value(identify["intents"]).message_content
    guild = bot.bot.get_guild(world.guild_id)
    assert guild is not None
    assert {c.name for c in guild.text_channels} == {"general", "study"}
    # Without the members intent Discord sends only the bot's own member, and so does the fake.
    assert [m.id for m in guild.members] == [world.bot.id]
    assert guild.me.guild_permissions.manage_threads
    assert bot.fake.sessions[0].heartbeats >= 1  # discord.py beats once right after HELLO


async def test_the_guild_is_there_even_when_ready_comes_first(fake_discord: FakeDiscord) -> None:
    # With no quiet period discord.py may fire on_ready before it has parsed GUILD_CREATE.
    async with running_bot(fake_discord, MinimalBot(guild_ready_timeout=0)) as harness:
        assert harness.bot.get_guild(harness.world.guild_id) is not None


async def test_a_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    client = MinimalBot()
    with discord_endpoints(fake_discord):
        try:
            with pytest.raises(discord.LoginFailure):
                await client.login("not-the-token")
        finally:
            await client.close()
    assert [(r.path, r.status) for r in fake_discord.rejected] == [("/users/@me", 401)]
    assert not fake_discord.identifies


async def test_endpoints_are_restored_after_the_bot_stops(fake_discord: FakeDiscord) -> None:
    before = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with running_bot(fake_discord, MinimalBot()):
        assert fake_discord.api_base == Route.BASE
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_commands_are_synced_globally_with_their_options(bot: BotHarness) -> None:
    (sync,) = bot.fake.sync_requests
    assert sync.guild_id is None
    names = {c["name"] for c in sync.commands}
    assert names == {
        "ping",
        "pick",
        "counter",
        "slow",
        "private",
        "discuss",
        "echo",
        "settings",
        "choose",
        "picture",
        "form",
    }
    (item,) = bot.fake.command("pick")["options"]
    assert item["name"] == "item" and item["autocomplete"] is True and item["required"] is True


# -- interactions ------------------------------------------------------------------------------


async def test_slash_command_is_answered(bot: BotHarness) -> None:
    answer = await bot.slash("ping")
    assert answer.kind == "callback" and answer.callback_type == 4
    assert answer.content == PONG
    assert answer.allowed_mentions == {"parse": []}
    assert answer.interaction.responses == [answer]


async def test_autocomplete_returns_choices(bot: BotHarness) -> None:
    choices = await bot.autocomplete("pick", "item", "cho")
    assert len(choices) == 25
    assert choices[0] == {"name": "choice 0", "value": "value-0"}


async def test_button_click_updates_the_message(bot: BotHarness) -> None:
    shown = await bot.slash("counter")
    assert shown.button("Add one")["custom_id"] == "counter:add"
    first = await bot.click("counter:add", shown)
    assert first.callback_type == 7 and first.content == "1"
    second = await bot.click("counter:add", shown)  # clicks the message as it is now
    assert second.content == "2"
    assert bot.fake.message_store[int(shown.message["id"])]["content"] == "2"


async def test_deferred_answer_then_edit_and_followup(bot: BotHarness) -> None:
    answer = await bot.slash("slow")
    assert answer.kind == "edit" and answer.content == "done"
    callback, edit, followup = await bot.fake.wait_for_responses(answer.interaction.id, 3)
    assert callback.callback_type == 5 and callback.message is not None
    assert edit is answer
    assert followup.kind == "followup" and followup.content == "only you" and followup.ephemeral


async def test_ephemeral_buttons_are_only_clickable_by_the_asker(bot: BotHarness) -> None:
    shown = await bot.slash("private")
    assert shown.ephemeral
    with pytest.raises(AssertionError, match="ephemeral"):
        await bot.click("counter:add", shown, user="mod")
    assert (await bot.click("counter:add", shown)).content == "1"


async def test_thread_is_created_from_a_channel_message(bot: BotHarness) -> None:
    await bot.slash("discuss", {"topic": "mandates", "channel": "study"})
    post = await bot.wait_for_message(lambda m: m.content == "first post")
    (thread,) = bot.world.threads
    assert thread.name == "mandates" and thread.parent_id == bot.world.channels["study"].id
    assert post.channel_id == thread.id
    starter = bot.messages[0]
    assert starter.content == "Discussion: mandates" and starter.id == thread.id


async def test_subcommands_and_resolved_options(bot: BotHarness) -> None:
    options = {"channel": "study", "role": "moderator", "member": "mod", "hour": 7}
    answer = await bot.slash("settings notify set", options)
    assert answer.content == "study Moderator mod 7" and answer.ephemeral
    with pytest.raises(AssertionError, match="needs a subcommand"):
        await bot.slash("settings", {})
    with pytest.raises(AssertionError, match=r"must be 0\.\.23"):
        await bot.slash("settings notify set", {**options, "hour": 24})


async def test_select_menu_values_reach_the_bot(bot: BotHarness) -> None:
    shown = await bot.slash("choose")
    answer = await bot.click("picker", shown, values=["red", "green"])
    assert answer.content == "red,green"


async def test_harness_refuses_what_a_user_could_not_send(bot: BotHarness) -> None:
    with pytest.raises(AssertionError, match="never synced"):
        await bot.slash("nope")
    with pytest.raises(AssertionError, match="no option"):
        await bot.slash("pick", {"thing": "x"})
    with pytest.raises(AssertionError, match="requires"):
        await bot.slash("pick")


# -- prefix commands and mentions --------------------------------------------------------------


async def test_prefix_command_is_answered(bot: BotHarness) -> None:
    asked = await bot.send_message("!ping")
    reply = await bot.wait_for_message(after=asked)
    assert reply.content == PONG and reply.channel_id == asked.channel_id
    assert reply.allowed_mentions == {"parse": []}


async def test_message_content_is_blank_without_the_intent(fake_discord: FakeDiscord) -> None:
    async with running_bot(fake_discord, MinimalBot(message_content=False)) as harness:
        await harness.send_message("!ping")
        answer = await harness.slash("ping")  # ordered after the message on the same socket
    assert answer.content == PONG
    # The bot parsed the message (before the interaction, same socket) but got no text.
    assert [m.content for m in harness.bot.cached_messages] == [""]
    assert not harness.messages
    assert any("MESSAGE_CONTENT" in event for event in fake_discord.dropped_events)


async def test_live_mentions_follow_allowed_mentions(bot: BotHarness) -> None:
    careless = await bot.slash("echo", {"text": "hi @everyone and <@42>"})
    assert live_mentions(careless.content, careless.allowed_mentions) == {"@everyone", "<@42>"}
    assert live_mentions("@everyone <@&7>", {"parse": []}) == set()
    assert live_mentions("<@!42> <@&7>", {"parse": [], "roles": ["7"]}) == {"<@&7>"}
    assert live_mentions("@here", None) == {"@here"}


# -- what the fake refuses, as Discord would ---------------------------------------------------


async def _post(fake: FakeDiscord, path: str, body: dict) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.api_base + path, json=body) as response,
    ):
        return response.status, await response.json()


async def test_callback_rules_are_enforced(bot: BotHarness) -> None:
    interaction = await bot.dispatch_autocomplete("pick", "item", "x")
    await bot.fake.wait_for_response(interaction.id)
    path = f"/interactions/{interaction.id}/{interaction.token}/callback"
    status, body = await _post(bot.fake, path, {"type": 8, "data": {"choices": []}})
    assert (status, body["code"]) == (400, 40060)  # already acknowledged
    status, body = await _post(bot.fake, f"/interactions/1/{interaction.token}/callback", {})
    assert (status, body["code"]) == (404, 10062)


async def test_payload_limits_are_enforced(bot: BotHarness) -> None:
    # Registered but never dispatched, so only this test answers these interactions.
    build, fake = bot.build, bot.fake
    typing = fake.register_interaction(
        build.autocomplete("pick", "item", "x", {}, bot.user, bot.channel), "typing"
    )
    url = f"/interactions/{typing.id}/{typing.token}/callback"
    too_many = [{"name": f"c{i}", "value": str(i)} for i in range(26)]
    status, body = await _post(fake, url, {"type": 8, "data": {"choices": too_many}})
    assert (status, body["code"]) == (400, 50035) and "data.choices" in body["errors"]
    status, body = await _post(fake, url, {"type": 4, "data": {"content": "x"}})
    assert status == 400  # an autocomplete interaction only takes choices

    command = fake.register_interaction(build.slash("ping", {}, bot.user, bot.channel), "cmd")
    url = f"/interactions/{command.id}/{command.token}/callback"
    status, body = await _post(fake, url, {"type": 4, "data": {"embeds": [{"title": "t" * 257}]}})
    assert (status, body["code"]) == (400, 50035) and "embeds.0.title" in body["errors"]
    status, body = await _post(fake, url, {"type": 4, "data": {"content": ""}})
    assert status == 400  # an empty message
    assert [r.status for r in fake.rejected] == [400, 400, 400, 400]
    assert typing.callback is None and command.callback is None


async def test_unknown_routes_are_recorded(fake_discord: FakeDiscord) -> None:
    auth = {"Authorization": f"Bot {fake_discord.token}"}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.get(fake_discord.api_base + "/voice/regions") as response,
    ):
        assert response.status == 404
    assert fake_discord.unhandled == ["GET /api/v10/voice/regions"]


async def test_a_missing_answer_fails_with_an_explanation(fake_discord: FakeDiscord) -> None:
    fake_discord.timeout = 0.2
    async with running_bot(fake_discord, MinimalBot()) as harness:
        harness.bot.tree.remove_command("ping")  # still synced, no longer handled
        with pytest.raises(NoResponse, match="no answer to /ping"):
            await harness.slash("ping")


# -- Discord's deadline and rate limits ---------------------------------------------------------


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_first_response_after_three_seconds_is_refused() -> None:
    clock = ManualClock()
    async with FakeDiscord(clock=clock) as fake:
        client = MinimalBot()
        client.tree.add_command(held)
        errors: list[BaseException] = []
        failed = asyncio.Event()

        async def on_error(interaction: discord.Interaction, error: Exception) -> None:
            errors.append(error)
            failed.set()

        client.tree.on_error = on_error  # type: ignore[method-assign]
        HOLD["released"] = released = asyncio.Event()
        async with running_bot(fake, client) as harness:
            on_time = await harness.slash("ping")  # answered within the deadline: accepted
            assert on_time.content == PONG
            interaction = await harness.dispatch_slash("held")
            clock.now += 3.01  # the bot is slow: more than 3 s pass before it answers
            released.set()
            await asyncio.wait_for(failed.wait(), fake.timeout)
        (error,) = errors
        original = getattr(error, "original", error)
        assert isinstance(original, discord.NotFound) and original.code == 10062
        assert fake.late_callbacks == [interaction] and interaction.callback is None
        assert fake.rejected[-1].body == {"code": 10062, "message": "Unknown interaction"}


async def test_rate_limited_calls_are_retried_after_retry_after(bot: BotHarness) -> None:
    fake = bot.fake
    fake.rate_limit("POST", r"/interactions/\d+/[^/]+/callback", retry_after=0.3)
    answer = await bot.slash("ping")
    assert answer.content == PONG
    (hit,) = fake.rate_limited
    assert answer.received_at - hit.at >= 0.3  # discord.py waited as told, then retried
    fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.2, times=2)
    sent = await bot.send_message("!ping")
    reply = await bot.wait_for_message(after=sent)
    assert reply.content == PONG and len(fake.rate_limited) == 3
    assert reply.received_at - fake.rate_limited[-1].at >= 0.2


async def test_a_global_rate_limit_holds_every_request(bot: BotHarness) -> None:
    fake = bot.fake
    fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.3, is_global=True)
    sent = await bot.send_message("!ping")
    reply = await bot.wait_for_message(after=sent)
    (hit,) = fake.rate_limited
    assert hit.is_global and reply.received_at - hit.at >= 0.3
    assert reply.content == PONG


async def test_files_are_recorded_with_their_bytes_and_alt_text(bot: BotHarness) -> None:
    interaction = await bot.dispatch_slash("picture")
    followup = await bot.fake.wait_for_kind(interaction.id, "followup")
    (attachment,) = followup.attachments
    assert attachment["filename"] == "chart.png" and attachment["size"] == len(PNG)
    assert attachment["description"] == "A bar chart of nothing"
    assert attachment["content_type"] == "image/png"
    assert [(f.filename, f.data, f.description) for f in followup.files] == [
        ("chart.png", PNG, "A bar chart of nothing")
    ]
    edit = await bot.fake.wait_for_kind(interaction.id, "edit")
    assert [a["description"] for a in edit.attachments] == ["Another"]  # replaced, not added


async def test_a_modal_is_shown_and_submitted(bot: BotHarness) -> None:
    modal = await bot.slash("form")
    assert modal.callback_type == 9 and modal.data["title"] == "Feedback"
    with pytest.raises(AssertionError, match=r"3\.\.20"):
        await bot.dispatch_modal(modal, {"said": "no"})  # the client would not send it
    with pytest.raises(AssertionError, match="only its opener"):
        await bot.dispatch_modal(modal, {"said": "hello"}, user="mod")
    answer = await bot.submit_modal(modal, {"said": "hello"})
    assert answer.ephemeral and answer.content == "you said hello"
