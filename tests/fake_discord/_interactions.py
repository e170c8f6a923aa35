"""INTERACTION_CREATE and MESSAGE_CREATE payloads, built the way the Discord client would send them.

Slash commands are built from what the bot actually synced: an unsynced command, an unknown option,
a missing required option or a value outside the declared choices fails here, because a user could
not send it. Buttons must exist, be enabled and be visible to the user who clicks them.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from ._records import EPHEMERAL_FLAG, iter_components
from ._world import BOT_PERMISSIONS, Channel, Role, User, World

if TYPE_CHECKING:
    from ._server import FakeDiscord

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE = 2, 3, 4
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, NUMBER = 3, 4, 5, 6, 7, 8, 10


class InteractionBuilder:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world: World = fake.world

    def slash(
        self, name: str, options: dict[str, Any], user: User, channel: Channel
    ) -> dict[str, Any]:
        data = self._command_data(name, options, focused=None)
        return self._base(APPLICATION_COMMAND, user, channel, data)

    def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: dict[str, Any],
        user: User,
        channel: Channel,
    ) -> dict[str, Any]:
        data = self._command_data(name, {**options, focused: value}, focused=focused)
        return self._base(AUTOCOMPLETE, user, channel, data)

    def component(
        self,
        custom_id: str,
        message: dict[str, Any],
        user: User,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        component = _find_component(message, custom_id)
        if int(message.get("flags") or 0) & EPHEMERAL_FLAG:
            owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
            if owner != str(user.id):
                raise AssertionError(f"{user.username} cannot see someone else's ephemeral message")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        channel = self.world.channel(int(message["channel_id"]))
        assert channel is not None, f"message {message['id']} is in an unknown channel"
        payload = self._base(COMPONENT, user, channel, data)
        payload["message"] = message
        return payload

    def user_message(
        self, content: str, user: User, channel: Channel, mentions: list[User]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The stored message and the MESSAGE_CREATE payload for it."""
        extra = {"mentions": [m.payload() for m in mentions]}
        message = self.fake.new_message(channel.id, user, {"content": content}, extra=extra)
        member = self.world.guild_of(channel).members[user.id]
        event = {**message, "member": member.payload(with_user=False)}
        return message, event

    # -- pieces --------------------------------------------------------------------------------

    def _base(self, kind: int, user: User, channel: Channel, data: dict) -> dict[str, Any]:
        world = self.world
        guild = world.guild_of(channel)
        return {
            "id": str(self.fake.ids.next()),
            "application_id": str(world.application_id),
            "type": kind,
            "token": "interaction." + secrets.token_urlsafe(32),
            "version": 1,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": world.interaction_channel(channel, user.id),
            "member": world.interaction_member(user.id, guild),
            "app_permissions": str(BOT_PERMISSIONS.value),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _command_data(self, name: str, options: dict[str, Any], focused: str | None) -> dict:
        root, *path = name.split()
        command = self.fake.command(root)
        data: dict[str, Any] = {"id": command["id"], "name": root, "type": 1}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        resolved: dict[str, dict[str, Any]] = {}
        node, holder = command, data
        for part in path:
            node = _child(node, part, (SUB_COMMAND, SUB_COMMAND_GROUP))
            nested: dict[str, Any] = {"name": part, "type": node["type"]}
            holder["options"] = [nested]
            holder = nested
        holder["options"] = self._options(name, node, options, focused, resolved)
        if resolved:
            data["resolved"] = resolved
        return data

    def _options(
        self,
        name: str,
        node: dict[str, Any],
        given: dict[str, Any],
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        declared = {o["name"]: o for o in node.get("options") or []}
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in declared.values()):
            raise AssertionError(f"/{name} needs a subcommand: {sorted(declared)}")
        unknown = set(given) - set(declared)
        if unknown:
            raise AssertionError(
                f"/{name} has no option {sorted(unknown)}; it has {sorted(declared)}"
            )
        if focused is None:
            missing = [o for o, d in declared.items() if d.get("required") and o not in given]
            if missing:
                raise AssertionError(f"/{name} requires {missing}")
        out = []
        for option_name, value in given.items():
            option = declared[option_name]
            if option_name == focused:
                if not option.get("autocomplete"):
                    raise AssertionError(f"/{name} {option_name} has no autocomplete")
                entry = {"name": option_name, "type": option["type"], "value": str(value)}
                out.append({**entry, "focused": True})
                continue
            value = self._value(name, option, value, resolved)
            out.append({"name": option_name, "type": option["type"], "value": value})
        return out

    def _value(self, name: str, option: dict, value: Any, resolved: dict) -> Any:
        kind = option["type"]
        if kind == STRING:
            value = str(value)
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise AssertionError(f"/{name} {option['name']}: length must be {low}..{high}")
        elif kind in (INTEGER, NUMBER):
            value = int(value) if kind == INTEGER else float(value)
            low, high = option.get("min_value", -(2**53)), option.get("max_value", 2**53)
            if not low <= value <= high:
                raise AssertionError(f"/{name} {option['name']}: must be {low}..{high}")
        elif kind == BOOLEAN:
            value = bool(value)
        elif kind == USER:
            user = self.world.user(value)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            member = self.world.members[user.id].payload(with_user=False)
            member["permissions"] = str(self.world.permissions(user.id).value)
            resolved.setdefault("members", {})[str(user.id)] = member
            value = str(user.id)
        elif kind == CHANNEL:
            channel = value if isinstance(value, Channel) else self.world.channels[value]
            entry = {**channel.payload(), "permissions": str(BOT_PERMISSIONS.value)}
            resolved.setdefault("channels", {})[str(channel.id)] = entry
            value = str(channel.id)
        elif kind == ROLE:
            role = value if isinstance(value, Role) else self.world.roles[value]
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            value = str(role.id)
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise AssertionError(f"/{name} {option['name']}: {value!r} is not one of its choices")
        return value


def _child(node: dict[str, Any], name: str, kinds: tuple[int, ...]) -> dict[str, Any]:
    for option in node.get("options") or []:
        if option["name"] == name and option["type"] in kinds:
            return option
    raise AssertionError(f"/{node['name']} has no subcommand {name!r}")


def _find_component(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    for component in iter_components(message.get("components") or []):
        if component.get("custom_id") == custom_id:
            if component.get("disabled"):
                raise AssertionError(f"component {custom_id!r} is disabled")
            return component
    present = [c.get("custom_id") for c in iter_components(message.get("components") or [])]
    raise AssertionError(
        f"message {message['id']} has no component {custom_id!r}; it has {present}"
    )
