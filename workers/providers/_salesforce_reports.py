"""Reading a Salesforce Reports and Dashboards API run (``factMap``, groupings) into plain rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def cell_value(cell: Mapping[str, Any]) -> Any:
    """A data cell's value (a currency amount's number), else its label."""
    value = cell.get("value")
    if isinstance(value, Mapping):
        value = value.get("amount", cell.get("label"))
    return cell.get("label") if value is None else value


def _groupings(groups: list[Mapping[str, Any]], depth: int = 0) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for group in groups:
        yield depth, group
        yield from _groupings(group.get("groupings") or [], depth + 1)


def _aggregates(fact: Mapping[str, Any], key: str) -> list[Any]:
    return [cell_value(a) for a in (fact.get(key) or {}).get("aggregates") or []]


def report_result(data: Mapping[str, Any]) -> dict[str, Any]:
    """Columns, detail rows, down-groupings with their aggregates, and grand totals of a report run."""
    meta, fact = data["reportMetadata"], data["factMap"]
    info = (data.get("reportExtendedMetadata") or {}).get("detailColumnInfo") or {}
    columns = list(meta.get("detailColumns") or [])
    groupings, rows = [], []
    for depth, group in _groupings((data.get("groupingsDown") or {}).get("groupings") or []):
        key = str(group["key"])
        groupings.append({"key": key, "depth": depth, "label": group.get("label"),
                          "value": group.get("value"), "aggregates": _aggregates(fact, f"{key}!T")})
        rows.extend(_rows(fact, f"{key}!T", columns, group.get("label")))
    if not groupings:
        rows.extend(_rows(fact, "T!T", columns, None))
    return {"report_id": meta.get("id"), "name": meta.get("name"), "format": meta.get("reportFormat"),
            "all_data": data.get("allData"), "has_detail_rows": data.get("hasDetailRows"),
            "columns": [{"name": c, "label": (info.get(c) or {}).get("label", c)} for c in columns],
            "aggregates": _aggregates(fact, "T!T"), "groupings": groupings, "rows": rows,
            "row_count": len(rows)}


def _rows(fact: Mapping[str, Any], key: str, columns: list[str], group: Any) -> list[dict[str, Any]]:
    out = []
    for row in (fact.get(key) or {}).get("rows") or []:
        values = dict(zip(columns, (cell_value(c) for c in row["dataCells"]), strict=False))
        out.append(values if group is None else {"_group": group, **values})
    return out
