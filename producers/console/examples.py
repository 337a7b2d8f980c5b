"""Example parameters for an action's run form, built from its JSON Schema (required fields only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {}), root)
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _resolve(options[0], root)
    return schema


def _quarter_hour_tomorrow() -> str:
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    return now.replace(minute=now.minute - now.minute % 15).isoformat().replace("+00:00", "Z")


def example_value(schema: dict[str, Any], root: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible value for one schema (defaults and enums first)."""
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    schema = _resolve(schema, root)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return example_object(schema, root, depth + 1) if depth < 4 else {}
    if kind == "array":
        item = example_value(schema.get("items", {}), root, name, depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema
                              else 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return _quarter_hour_tomorrow()
    if schema.get("format") == "date":
        return (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    if "@" in str(schema.get("pattern", "")) or "email" in name:
        return "hello@example.com"
    if "url" in name or schema.get("format") == "uri" or str(schema.get("pattern", "")).startswith("^http"):
        return "https://example.com/"
    if "html" in name:
        return "<p>Hello</p>"
    text = f"example-{name}" if name else "example"
    return text.ljust(int(schema.get("minLength", 0)), ".")


def example_object(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """An object with a value for each required property."""
    props = schema.get("properties", {})
    return {name: example_value(props[name], root, name, depth) for name in schema.get("required", [])
            if name in props}


def example_params(schema: dict[str, Any]) -> dict[str, Any]:
    """Example params of an action (what the run form starts with): the catalog's own first example, which
    works as written against the simulator's sandbox, else one built from the required fields."""
    declared = schema.get("examples")
    if isinstance(declared, list) and declared and isinstance(declared[0], dict):
        return dict(declared[0])
    return example_object(schema, schema)


def parameter_rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per top-level parameter: name, type, required, default, description."""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        resolved = _resolve(prop, schema)
        kind = resolved.get("type") or ("object" if "properties" in resolved else "any")
        if resolved.get("enum"):
            kind = " | ".join(str(v) for v in resolved["enum"])
        elif kind == "array":
            kind = f"list of {_resolve(resolved.get('items', {}), schema).get('type', 'object')}"
        rows.append({"name": name, "type": kind, "required": name in required, "default": prop.get("default"),
                     "format": resolved.get("format"),
                     "description": prop.get("description") or resolved.get("description") or ""})
    return rows
