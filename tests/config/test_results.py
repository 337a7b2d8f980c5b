"""Declared result shapes (config/catalog/results/*.yaml): complete over the catalog, and strict when read.

Every available action has a declared result and nothing else is declared; a declaration mistake fails when
its file loads, naming the file, the shape and the field; the declared types mean what the grammar says.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.catalog import agents
from config.catalog.results import DECLARATIONS, Result, ResultsError, registry, result_schema
from config.catalog.results.loader import load

ROOT = Path(__file__).resolve().parents[2]


def available() -> set[tuple[str, str]]:
    """(integration id, action name) of every available action of every implemented integration."""
    return {(i.id, act.name) for a in agents() for i in a.integrations
            if i.implemented and i.availability == "available" for act in i.actions if not act.restricted}


def test_every_available_action_has_a_result_schema_and_only_those_are_declared() -> None:
    missing = sorted(key for key in available() if result_schema(*key) is None)
    extra = sorted(set(registry()) - available())
    assert not missing, f"no declared result: {missing}"
    assert not extra, f"declared but not an available action: {extra}"
    assert len(registry()) >= 182


def test_every_declared_result_is_a_described_result_allowing_extra_fields() -> None:
    for (integration, action), model in registry().items():
        assert issubclass(model, Result) and model.model_config.get("extra") == "allow"
        schema = result_schema(integration, action)
        assert schema is not None and schema.get("additionalProperties") is True
        undescribed = [name for name, prop in schema["properties"].items() if not prop.get("description")]
        assert not undescribed, f"{integration}.{action}: fields without a description: {undescribed}"


def test_the_declaration_files_ship_with_the_package() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "*.yaml" in package_data["*"]
    assert len(list(DECLARATIONS.glob("*.yaml"))) >= 23


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(text)
    return path


GOOD = """
shapes:
  Item:
    _doc: An item.
    id: "int: The item's id."
    name: "str?: Its name (required, may be null)."
    note: "str? = null: A note, when there is one."
    sent: "bool = false: Whether it went out."
    counts: "dict[int]: Counts by kind."
    ids: "list[int | str?]: Ids, numeric or not."
  Created:
    _extends: Item
    resumed: "bool: True when an earlier attempt did it."
  Items:
    items: "list[Item]: The items."
    meta: "dict: Anything."
    "on": "str?: A field YAML would read as a boolean unquoted."
actions:
  acme_crm: {create_item: Created, list_items: Items}
"""


def test_a_declaration_builds_models_that_validate_as_declared(tmp_path: Path) -> None:
    models = load(write(tmp_path, GOOD))
    assert set(models) == {("acme_crm", "create_item"), ("acme_crm", "list_items")}
    created = models[("acme_crm", "create_item")]
    ok: dict[str, Any] = {"id": 1, "name": None, "counts": {"a": 2}, "ids": [1, "x", None], "resumed": True}
    item = created.model_validate(ok | {"provider_field": "kept"})
    assert item.model_dump() == ok | {"note": None, "sent": False, "provider_field": "kept"}
    for broken in ({k: v for k, v in ok.items() if k != "name"}, ok | {"counts": {"a": "many"}},
                   {k: v for k, v in ok.items() if k != "resumed"}):
        with pytest.raises(ValidationError):
            created.model_validate(broken)
    schema = created.model_json_schema()
    assert list(schema["properties"])[:1] == ["id"] and list(schema["properties"])[-1] == "resumed"
    assert schema["required"] == ["id", "name", "counts", "ids", "resumed"]
    items = models[("acme_crm", "list_items")]
    assert "on" in items.model_json_schema()["properties"]
    with pytest.raises(ValidationError):
        items.model_validate({"items": [{"id": "not a number"}], "meta": {}, "on": None})


@pytest.mark.parametrize(("text", "message"), [
    ("shapes: {A: {x: 'integer: An x.'}}\nactions: {}",
     "acme.yaml: shape A, field x: unknown type 'integer'"),
    ("shapes: {A: {x: 'list[B]: Bs.'}}\nactions: {}",
     "acme.yaml: shape A, field x: unknown type 'B'"),
    ("shapes: {A: {x: 'int'}}\nactions: {}",
     "acme.yaml: shape A, field x: write \"TYPE: description\""),
    ("shapes: {A: {x: 'int: '}}\nactions: {}",
     "acme.yaml: shape A, field x: write \"TYPE: description\""),
    ("shapes: {A: {_extends: C, x: 'int: An x.'}}\nactions: {}",
     "acme.yaml: shape A, field _extends: unknown shape 'C'"),
    ("shapes: {A: {_extends: B}, B: {_extends: A}}\nactions: {}",
     "refers to itself"),
    ("shapes: {A: {_title: T}}\nactions: {}",
     "acme.yaml: shape A: unknown keys ['_title']"),
    ("shapes: {A: {on: 'str: On.'}}\nactions: {}",
     "acme.yaml: shape A, field True: a field name must be a string"),
    ("shapes: {A: {x: 'int: An x.'}}\nactions: {acme: {get: Missing}}",
     "acme.yaml: action acme.get: unknown shape 'Missing'"),
    ("shapes: {A: {x: 'int: An x.'}}",
     "acme.yaml: needs exactly the keys 'shapes' and 'actions'"),
    ("shapes: {A: [x]\nactions: {}",
     "acme.yaml: not valid YAML"),
])
def test_a_declaration_mistake_fails_at_load_naming_file_shape_and_field(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ResultsError) as caught:
        load(write(tmp_path, text))
    assert message in str(caught.value)
