"""Builds the declared result models from ``<provider>.yaml``: result shapes are data, like the catalog's facts.

A file has two keys. ``shapes`` maps a shape name to its fields, each ``name: "TYPE: description"`` or
``name: "TYPE = DEFAULT: description"`` (DEFAULT a YAML literal such as ``null`` or ``false``; without one the
field is required, even when it may be null). Two reserved keys per shape (a field name never starts with
``_``): ``_doc``, the shape's description, and ``_extends``, a shape of the same file whose fields come first.
``actions`` maps an integration id to ``{action name: shape name}``.

TYPE is ``str``, ``int``, ``float``, ``bool``, ``any``, a shape of the same file, ``list[T]``, ``dict[T]``
(an object with string keys and T values), bare ``list``/``dict`` (of ``any``), ``A | B`` (either), and a
trailing ``?`` for "or null" (``str?``, ``list[Issue]?``, ``int | str?``). YAML anchors may share a field's
text within a file. Every shape is a :class:`Result` (extra fields allowed), so the JSON Schema and the
validation are pydantic's. A mistake (unknown type or shape, a field without a description, an unknown key)
raises :class:`ResultsError` naming the file, the shape and the field, when the file is loaded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, create_model

from config.catalog.results.base import Registry, Result

__all__ = ["ResultsError", "load"]

_SCALARS: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "any": Any}
_GENERIC = re.compile(r"^(list|dict)\[(.*)\]$")
_SPEC = re.compile(r"^(?P<type>[^=:]+?)\s*(?:=\s*(?P<default>[^:]+?)\s*)?:\s+(?P<desc>\S.*)$", re.S)


class ResultsError(ValueError):
    """A result declaration file that cannot be read as declared."""


def _split_union(text: str) -> list[str]:
    """``text`` cut at its top-level ``|`` (those outside brackets)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


class _File:
    """One declaration file while its models are built (each shape once, on first reference)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or set(data) != {"shapes", "actions"}:
            raise ResultsError(f"{path.name}: needs exactly the keys 'shapes' and 'actions'")
        self.shapes: dict[str, Any] = data["shapes"] or {}
        self.actions: dict[str, Any] = data["actions"] or {}
        self.models: dict[str, type[Result]] = {}
        self.building: set[str] = set()

    def error(self, shape: str, field: str | None, message: str) -> ResultsError:
        where = f"shape {shape}" + (f", field {field}" if field else "")
        return ResultsError(f"{self.path.name}: {where}: {message}")

    def type_of(self, text: str, shape: str, field: str) -> Any:
        """The Python annotation that TYPE ``text`` stands for."""
        text = text.strip()
        if "|" in text and len(parts := _split_union(text)) > 1:
            union = self.type_of(parts[0], shape, field)
            for part in parts[1:]:
                union = union | self.type_of(part, shape, field)
            return union
        if text.endswith("?"):
            return self.type_of(text[:-1], shape, field) | None
        if text in _SCALARS:
            return _SCALARS[text]
        if text in ("list", "dict"):
            text += "[any]"
        if generic := _GENERIC.match(text):
            inner = self.type_of(generic[2], shape, field)
            return list[inner] if generic[1] == "list" else dict[str, inner]  # type: ignore[valid-type]
        if text in self.shapes:
            return self.model(text, referrer=(shape, field))
        raise self.error(shape, field, f"unknown type {text!r} (a scalar, list[T], dict[T], or a shape of this file)")

    def field(self, shape: str, name: str, spec: Any) -> tuple[Any, Any]:
        """(annotation, FieldInfo) of one ``name: "TYPE[ = DEFAULT]: description"`` entry."""
        if not isinstance(spec, str) or not (parsed := _SPEC.match(spec.strip())):
            raise self.error(shape, name, f'write "TYPE: description" (got {spec!r}): every field needs a description')
        default = ... if parsed["default"] is None else yaml.safe_load(parsed["default"])
        return self.type_of(parsed["type"], shape, name), Field(default, description=parsed["desc"].strip())

    def model(self, shape: str, referrer: tuple[str, str] | None = None) -> type[Result]:
        """The model of ``shape``, built on first use."""
        if shape in self.models:
            return self.models[shape]
        if shape not in self.shapes:
            where = referrer or (shape, None)
            raise self.error(where[0], where[1], f"unknown shape {shape!r}")
        if shape in self.building:
            raise self.error(shape, None, "refers to itself (directly or through other shapes)")
        self.building.add(shape)
        body = self.shapes[shape]
        if not isinstance(body, dict):
            raise self.error(shape, None, "must map field names to their specs")
        if wrong := [key for key in body if not isinstance(key, str)]:
            raise self.error(shape, str(wrong[0]), "a field name must be a string: quote it (YAML reads on, off, "
                             "yes and no as booleans)")
        unknown = {key for key in body if key.startswith("_")} - {"_doc", "_extends"}
        if unknown:
            raise self.error(shape, None, f"unknown keys {sorted(unknown)} (only _doc and _extends are reserved)")
        base = self.model(body["_extends"], referrer=(shape, "_extends")) if "_extends" in body else Result
        doc = body.get("_doc")
        if doc is not None and not isinstance(doc, str):
            raise self.error(shape, "_doc", "must be the shape's description, a string")
        fields: dict[str, Any] = {name: self.field(shape, name, spec) for name, spec in body.items()
                                  if not name.startswith("_")}
        built = create_model(shape, __base__=base, __doc__=doc, __module__=__name__, **fields)
        self.models[shape] = built
        self.building.discard(shape)
        return built

    def registry(self) -> Registry:
        """(integration id, action name) -> model, for every action of the file; every shape is built."""
        for shape in self.shapes:
            self.model(shape)
        out: Registry = {}
        for integration, actions in self.actions.items():
            for action, shape in (actions or {}).items():
                if shape not in self.models:
                    raise ResultsError(f"{self.path.name}: action {integration}.{action}: unknown shape {shape!r}")
                out[(integration, action)] = self.models[shape]
        return out


def load(path: Path) -> Registry:
    """The result models that the declaration file at ``path`` declares, by (integration id, action name)."""
    try:
        return _File(path).registry()
    except yaml.YAMLError as exc:
        raise ResultsError(f"{path.name}: not valid YAML: {exc}") from exc
