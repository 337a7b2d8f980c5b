"""The Core tables of the worker's statements (workers/store/tables.py) describe the models' tables exactly."""

from __future__ import annotations

from workers.store import tables
from workers.store.models import SQLModel


def _shape(column: object) -> tuple[object, ...]:
    t = column.type  # type: ignore[attr-defined]
    kind = type(t).__name__.replace("AutoString", "String")  # SQLModel's string type: a VARCHAR(length) too
    return (column.name, kind, getattr(t, "length", None), column.nullable, column.primary_key)  # type: ignore[attr-defined]


def test_each_core_table_has_the_models_columns_names_types_and_keys() -> None:
    assert tables.METADATA.tables
    for name, core in tables.METADATA.tables.items():
        model = SQLModel.metadata.tables[name]
        assert [_shape(c) for c in core.columns] == [_shape(c) for c in model.columns], name
