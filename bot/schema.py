"""The JSON Schema of the content format, generated from the model declarations."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

from bot.config import BUNDLED_CONTENT
from bot.content import ID_PATTERN, TABLES, Source

SCHEMA_PATH = BUNDLED_CONTENT / "peacebot.schema.json"
ID_SCHEMA_PATTERN = f"^{ID_PATTERN}$"


def content_schema() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "peacebot content file",
        "description": "One YAML file of peacebot content; see content/README.md.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            table: {"type": "array", "items": _object(model)} for table, model in TABLES.items()
        },
    }


def _object(model: type) -> dict:
    hints = typing.get_type_hints(model)
    properties = {}
    required = []
    for field in dataclasses.fields(model):
        properties[field.name] = _property(field, hints[field.name])
        if field.default is dataclasses.MISSING:
            required.append(field.name)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _property(field: dataclasses.Field, hint: object) -> dict:
    meta = field.metadata
    args = typing.get_args(hint)
    if type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return {"anyOf": [_property(field, inner), {"type": "null"}]}
    if typing.get_origin(hint) is tuple:
        schema: dict = {"type": "array", "items": _property(field, args[0])}
        if meta["items"]:
            schema["minItems"], schema["maxItems"] = meta["items"]
        return schema
    if hint is Source:
        return _object(Source)
    schema = {"type": "string", "minLength": 1, "maxLength": meta["max_len"]}
    if field.name == "id" or meta["ref"]:
        schema["pattern"] = ID_SCHEMA_PATTERN
    if meta["pattern"]:
        schema["pattern"], schema["description"] = meta["pattern"]
    if meta["choices"]:
        schema["enum"] = list(meta["choices"])
    return schema


def render_schema() -> str:
    return json.dumps(content_schema(), indent=2) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(render_schema(), encoding="utf-8")
    return path
