"""Interaction callbacks and the interaction webhook (followups, @original edits).

Discord's rules that matter to a bot are enforced: one callback per interaction, callback types
valid for the interaction type, followups only after the callback, payload limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._http import (
    RECEIVED_AT,
    Attachment,
    DiscordError,
    invalid_form,
    no_content,
    ok,
    read_body,
    snowflake,
    unknown,
)
from ._limits import check_choices, check_message, check_modal
from ._records import LOADING_FLAG, FakeInteraction, Response

if TYPE_CHECKING:
    from ._server import FakeDiscord

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
VALID_CALLBACKS = {
    APPLICATION_COMMAND: {4, 5, 9},
    COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}
CHAT_INPUT_REPLY = 20


def routes(fake: FakeDiscord) -> list[tuple[str, str, Any]]:
    handlers = _InteractionRoutes(fake)
    message = "/webhooks/{app_id}/{token}/messages/{message_id}"
    return [
        ("POST", "/interactions/{interaction_id}/{token}/callback", handlers.callback),
        ("POST", "/webhooks/{app_id}/{token}", handlers.followup),
        ("GET", message, handlers.get_message),
        ("PATCH", message, handlers.edit_message),
        ("DELETE", message, handlers.delete_message),
    ]


class _InteractionRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    async def callback(self, request: web.Request) -> web.Response:
        received_at = request[RECEIVED_AT]
        interaction = self.fake.interactions.get(snowflake(request, "interaction_id"))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise unknown("interaction", 10062)
        late = received_at - interaction.dispatched_at > self.fake.interaction_deadline
        if interaction.dispatched_at and interaction.callback is None and late:
            self.fake.late_callbacks.append(interaction)
            raise unknown("interaction", 10062)  # the token is gone, as on Discord
        body = await read_body(request)
        if interaction.callback is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        callback_type = body.data.get("type")
        if callback_type not in VALID_CALLBACKS[interaction.type]:
            raise invalid_form([("type", f"Invalid interaction callback type {callback_type}")])
        data = body.data.get("data") or {}
        if callback_type == 8:
            problems = check_choices(data)
        elif callback_type == 9:
            problems = check_modal(data)
        elif callback_type in (4, 7):
            problems = check_message(data, files=len(body.files), editing=callback_type == 7)
        else:
            problems = []
        if problems:
            raise invalid_form(problems)

        message_id = self._apply(interaction, callback_type, data, body.files)
        response = Response(
            interaction=interaction,
            kind="callback",
            data=data,
            received_at=received_at,
            callback_type=callback_type,
            message=self.fake.snapshot(message_id) if callback_type in (4, 5, 7) else None,
            allowed_mentions=data.get("allowed_mentions"),
            files=list(body.files),
        )
        self.fake.add_response(response)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        return ok(self._callback_answer(interaction, callback_type, response))

    def _apply(
        self, interaction: FakeInteraction, callback_type: int, data: dict, files: list[Attachment]
    ) -> int | None:
        """Create or update the message the callback is about; returns its id."""
        if callback_type in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING_FLAG if callback_type == 5 else 0)
            message = self._new_message(interaction, {**data, "flags": flags}, files)
            interaction.original_message_id = int(message["id"])
        elif callback_type in (6, 7):
            # The original response of a component interaction is the message holding it.
            interaction.original_message_id = int(interaction.payload["message"]["id"])
            if callback_type == 7:
                self.fake.edit_message(interaction.original_message_id, data, files)
        return interaction.original_message_id

    def _callback_answer(
        self, interaction: FakeInteraction, callback_type: int, response: Response
    ) -> dict[str, Any]:
        flags = int((response.message or {}).get("flags") or 0)
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": callback_type == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if response.message is not None:
            answer["interaction"]["response_message_id"] = response.message["id"]
            answer["resource"] = {"type": callback_type, "message": response.message}
        return answer

    def _new_message(
        self, interaction: FakeInteraction, data: dict[str, Any], files: list[Attachment]
    ) -> dict[str, Any]:
        payload = interaction.payload
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        is_command = interaction.type == APPLICATION_COMMAND
        extra = {
            "webhook_id": str(self.fake.world.application_id),
            "application_id": str(self.fake.world.application_id),
            "interaction_metadata": {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
                **({"name": payload["data"]["name"]} if is_command else {}),
            },
        }
        return self.fake.new_message(
            int(payload["channel_id"]),
            self.fake.world.bot,
            data,
            message_type=CHAT_INPUT_REPLY if is_command else 0,
            files=files,
            extra=extra,
        )

    # -- webhook: followups and edits ----------------------------------------------------------

    def _interaction(self, request: web.Request) -> FakeInteraction:
        if snowflake(request, "app_id") != self.fake.world.application_id:
            raise unknown("Webhook", 10015)
        interaction = self.fake.interactions_by_token.get(request.match_info["token"])
        if interaction is None or interaction.callback is None:
            # Discord only opens the interaction webhook once the interaction is acknowledged.
            raise unknown("Webhook", 10015)
        return interaction

    def _message_id(self, request: web.Request, interaction: FakeInteraction) -> int:
        raw = request.match_info["message_id"]
        message_id = interaction.original_message_id if raw == "@original" else int(raw)
        if message_id is None or message_id not in self.fake.message_store:
            raise unknown("Message", 10008)
        return message_id

    async def followup(self, request: web.Request) -> web.Response:
        received_at = request[RECEIVED_AT]
        interaction = self._interaction(request)
        body = await read_body(request)
        problems = check_message(body.data, files=len(body.files))
        if problems:
            raise invalid_form(problems)
        message = self._new_message(interaction, body.data, body.files)
        self._record(
            interaction, "followup", body.data, received_at, int(message["id"]), body.files
        )
        if request.query.get("wait") in ("1", "true", "True"):
            return ok(message)
        return no_content()

    async def get_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        return ok(self.fake.message_store[self._message_id(request, interaction)])

    async def edit_message(self, request: web.Request) -> web.Response:
        received_at = request[RECEIVED_AT]
        interaction = self._interaction(request)
        message_id = self._message_id(request, interaction)
        body = await read_body(request)
        problems = check_message(body.data, files=len(body.files), editing=True)
        if problems:
            raise invalid_form(problems)
        edited = self.fake.edit_message(message_id, body.data, body.files)
        self._record(interaction, "edit", body.data, received_at, message_id, body.files)
        await self.fake.message_log.touched()
        return ok(edited)

    async def delete_message(self, request: web.Request) -> web.Response:
        received_at = request[RECEIVED_AT]
        interaction = self._interaction(request)
        message_id = self._message_id(request, interaction)
        self.fake.message_store[message_id]["deleted"] = True
        self._record(interaction, "delete", {}, received_at, message_id)
        return no_content()

    def _record(
        self,
        interaction: FakeInteraction,
        kind: str,
        data: dict[str, Any],
        received_at: float,
        message_id: int,
        files: list[Attachment] | None = None,
    ) -> None:
        response = Response(
            interaction=interaction,
            kind=kind,
            data=data,
            received_at=received_at,
            message=self.fake.snapshot(message_id),
            allowed_mentions=data.get("allowed_mentions"),
            files=list(files or []),
        )
        self.fake.add_response(response)
