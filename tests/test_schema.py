"""The published JSON Schema matches the model, and accepts exactly what the loader accepts."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.loader import _TextLoader
from bot.schema import SCHEMA_PATH, content_schema, render_schema

CONTENT = Path(__file__).resolve().parent.parent / "content"


def test_checked_in_schema_is_in_sync_with_the_model():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "content/peacebot.schema.json is stale: run `peacebot schema`"
    )


@pytest.mark.parametrize("path", sorted(CONTENT.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_validates_against_the_schema(path):
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextLoader)
    jsonschema.validate(data, content_schema())


@pytest.mark.parametrize(
    "document",
    [
        {"terms": [{"id": "x"}]},
        {"glossary": []},
        {"facts": [{"id": "Bad Id", "text": "t", "section": "s", "source": {"title": "t"}}]},
        {
            "quiz": [
                {
                    "id": "q",
                    "question": "?",
                    "choices": ["only one"],
                    "answer": "only one",
                    "explanation": "e",
                    "section": "s",
                    "source": {"title": "t"},
                }
            ]
        },
    ],
)
def test_schema_rejects_what_the_loader_rejects(document):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, content_schema())


MISSION = {
    "id": "m",
    "name": "M",
    "definition": "d",
    "section": "s",
    "sources": [{"title": "t"}],
    "started": "2003-10",
    "led_by": "UN",
}


@pytest.mark.parametrize(
    "change",
    [{"started": "2003-13"}, {"ended": "03"}, {"led_by": "United Nations"}, {"mandate": "Res 1"}],
)
def test_schema_checks_mission_metadata_like_the_loader(change):
    jsonschema.validate({"terms": [MISSION]}, content_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"terms": [{**MISSION, **change}]}, content_schema())
