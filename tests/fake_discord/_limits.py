"""Discord's documented payload limits, checked the way the real API rejects a request.

Each checker returns a list of (path, message) problems; the REST layer turns a non-empty list into
the 400 "Invalid Form Body" (code 50035) that discord.py raises as HTTPException.
"""

from __future__ import annotations

import re
from typing import Any

Problems = list[tuple[str, str]]

COMPONENTS_V2_FLAG = 1 << 15
_NAME = re.compile(r"^[-_\w]{1,32}$")

EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_TOTAL = 6000


def _too_long(problems: Problems, path: str, value: Any, limit: int, *, required: bool = False):
    text = "" if value is None else str(value)
    if required and not text.strip():
        problems.append((path, "This field is required"))
    elif len(text) > limit:
        problems.append((path, f"Must be {limit} or fewer in length."))


def check_message(data: dict[str, Any], *, files: int = 0, editing: bool = False) -> Problems:
    problems: Problems = []
    _too_long(problems, "content", data.get("content"), 2000)
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "Must be 10 or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        total += _check_embed(problems, f"embeds.{i}", embed)
    if total > EMBED_TOTAL:
        problems.append(("embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL}"))
    if not int(data.get("flags") or 0) & COMPONENTS_V2_FLAG:
        _check_components(problems, data.get("components") or [])
    has_body = data.get("content") or embeds or data.get("components") or files
    if not editing and not has_body and not data.get("poll"):
        problems.append(("", "Cannot send an empty message"))
    return problems


def _check_embed(problems: Problems, path: str, embed: dict[str, Any]) -> int:
    size = 0
    for key, limit in EMBED_LIMITS.items():
        _too_long(problems, f"{path}.{key}", embed.get(key), limit)
        size += len(embed.get(key) or "")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        problems.append((f"{path}.fields", "Must be 25 or fewer in length."))
    for j, item in enumerate(fields):
        _too_long(problems, f"{path}.fields.{j}.name", item.get("name"), 256, required=True)
        _too_long(problems, f"{path}.fields.{j}.value", item.get("value"), 1024, required=True)
        size += len(item.get("name") or "") + len(item.get("value") or "")
    footer = (embed.get("footer") or {}).get("text")
    author = (embed.get("author") or {}).get("name")
    _too_long(problems, f"{path}.footer.text", footer, 2048)
    _too_long(problems, f"{path}.author.name", author, 256)
    return size + len(footer or "") + len(author or "")


def _check_components(problems: Problems, rows: list[dict[str, Any]]) -> None:
    if len(rows) > 5:
        problems.append(("components", "Must be 5 or fewer in length."))
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.get("type") != 1:
            problems.append((f"components.{i}.type", "Top-level components must be action rows"))
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            problems.append((f"components.{i}.components", "Must be between 1 and 5 in length."))
        for j, child in enumerate(children):
            path = f"components.{i}.components.{j}"
            custom_id = child.get("custom_id")
            if child.get("type") == 2 and child.get("style") == 5:
                _too_long(problems, f"{path}.url", child.get("url"), 512, required=True)
            else:
                _too_long(problems, f"{path}.custom_id", custom_id, 100, required=True)
                if custom_id in seen:
                    problems.append(
                        (f"{path}.custom_id", "Component custom id cannot be duplicated")
                    )
                seen.add(custom_id)
            if child.get("type") == 2:
                _too_long(problems, f"{path}.label", child.get("label"), 80)
            elif len(child.get("options") or []) > 25:
                problems.append((f"{path}.options", "Must be 25 or fewer in length."))


def check_choices(data: dict[str, Any]) -> Problems:
    problems: Problems = []
    choices = data.get("choices")
    if choices is None:
        return [("data.choices", "This field is required")]
    if len(choices) > 25:
        problems.append(("data.choices", "Must be 25 or fewer in length."))
    for i, choice in enumerate(choices):
        _too_long(problems, f"data.choices.{i}.name", choice.get("name"), 100, required=True)
        if isinstance(choice.get("value"), str):
            _too_long(problems, f"data.choices.{i}.value", choice["value"], 100)
    return problems


def check_commands(commands: list[dict[str, Any]]) -> Problems:
    problems: Problems = []
    if len(commands) > 100:
        problems.append(("", "Must be 100 or fewer in length."))
    names: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        key = (int(command.get("type", 1)), command.get("name", ""))
        if key in names:
            problems.append((f"{i}.name", "Application command names must be unique"))
        names.add(key)
        _check_command_shape(problems, str(i), command, slash=key[0] == 1)
    return problems


def _check_command_shape(problems: Problems, path: str, node: dict[str, Any], *, slash: bool):
    name = node.get("name") or ""
    if slash and (not _NAME.match(name) or name != name.lower()):
        problems.append((f"{path}.name", f"Invalid command or option name {name!r}"))
    if slash:
        _too_long(problems, f"{path}.description", node.get("description"), 100, required=True)
    options = node.get("options") or []
    if len(options) > 25:
        problems.append((f"{path}.options", "Must be 25 or fewer in length."))
    optional_seen = False
    for j, option in enumerate(options):
        option_path = f"{path}.options.{j}"
        if option.get("type") not in (1, 2):
            if option.get("required") and optional_seen:
                problems.append((option_path, "Required options must be placed before optional"))
            optional_seen = optional_seen or not option.get("required")
            if option.get("autocomplete") and option.get("choices"):
                problems.append((option_path, "Autocomplete and choices are mutually exclusive"))
            if len(option.get("choices") or []) > 25:
                problems.append((f"{option_path}.choices", "Must be 25 or fewer in length."))
        _check_command_shape(problems, option_path, option, slash=True)


TEXT_INPUT, LABEL, ACTION_ROW = 4, 18, 1


def modal_inputs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The text inputs of a modal, whether inside labels or (older) action rows."""
    inputs = []
    for component in data.get("components") or []:
        if component.get("type") == LABEL:
            inputs.append(component.get("component") or {})
        elif component.get("type") == ACTION_ROW:
            inputs.extend(component.get("components") or [])
    return [c for c in inputs if c.get("type") == TEXT_INPUT]


def check_modal(data: dict[str, Any]) -> Problems:
    problems: Problems = []
    _too_long(problems, "data.custom_id", data.get("custom_id"), 100, required=True)
    _too_long(problems, "data.title", data.get("title"), 45, required=True)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        problems.append(("data.components", "Must be between 1 and 5 in length."))
    for i, component in enumerate(components):
        if component.get("type") == LABEL:
            _too_long(problems, f"data.components.{i}.label", component.get("label"), 45,
                      required=True)  # fmt: skip
            _too_long(problems, f"data.components.{i}.description",
                      component.get("description"), 100)  # fmt: skip
    for text_input in modal_inputs(data):
        _too_long(problems, "data.components.custom_id", text_input.get("custom_id"), 100,
                  required=True)  # fmt: skip
        low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
        if not 0 <= low <= high <= 4000:
            problems.append(("data.components.max_length", "Must be 4000 or fewer."))
    return problems
