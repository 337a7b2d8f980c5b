"""The CRM search of the HubSpot simulator: filterGroups (OR of ANDs), free-text query, sorts, ``after``
offsets and the 10,000-result ceiling, including the ``associations.<type>`` pseudo-properties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.providers._hubspot_common import SINGULAR, invalid, view, wanted_properties

#: Properties the free-text ``query`` looks in, per object type.
SEARCHABLE = {"contacts": ("firstname", "lastname", "email", "phone", "company"),
              "companies": ("name", "domain"), "deals": ("dealname",), "emails": ("hs_email_subject",)}
OPERATORS = frozenset({"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
                       "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"})
MAX_LIMIT, CEILING = 200, 10_000


def comparable(value: Any) -> Any:
    """Numbers and times (epoch ms or ISO 8601) as numbers, anything else as lower-case text."""
    raw = str(value)
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return raw.lower()


def _values(p: dict[str, Any], kind: str, obj: dict[str, Any], name: str) -> list[Any]:
    """The values a filter compares: one property, or the ids behind ``associations.<type>``."""
    if name.startswith("associations."):
        other = SINGULAR.get(name.split(".", 1)[1], "")
        return sorted(p["assoc"].get((kind, obj["id"]), {}).get(other, ()))
    value = obj["properties"].get(name)
    return [] if value in (None, "") else [value]


def _match(values: list[Any], f: dict[str, Any]) -> bool:
    op = f["operator"]
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return bool(values) == (op == "HAS_PROPERTY")
    wanted = f.get("values") if op in ("IN", "NOT_IN") else [f.get("value")]
    mine = [comparable(v) for v in values]
    targets = [comparable(w) for w in wanted or []]
    if op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN"):
        positive = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}[op]
        return not _match(values, {**f, "operator": positive})
    if op in ("EQ", "IN"):
        return any(m == t for m in mine for t in targets)
    if op == "CONTAINS_TOKEN":
        token = str(f.get("value", "")).lower().strip("*")
        return any(token in str(v).lower() for v in values)
    if op == "BETWEEN":
        low, high = comparable(f.get("value")), comparable(f.get("highValue"))
        return any(_ordered(low, m) and _ordered(m, high) for m in mine)
    checks = {"LT": lambda m, t: m < t, "LTE": lambda m, t: m <= t, "GT": lambda m, t: m > t,
              "GTE": lambda m, t: m >= t}
    return any(type(m) is type(t) and checks[op](m, t) for m in mine for t in targets)


def _ordered(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a <= b


def _check(body: dict[str, Any]) -> tuple[list[list[dict[str, Any]]], int, int]:
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
        invalid("Too many filters: at most 5 filterGroups of at most 6 filters each")
    filters = [list(g.get("filters") or []) for g in groups]
    for f in (f for group in filters for f in group):
        if f.get("operator") not in OPERATORS or not f.get("propertyName"):
            invalid(f"Invalid filter: {f}")
    try:
        limit, after = int(body.get("limit") or 10), int(body.get("after") or 0)
    except (TypeError, ValueError):
        invalid("limit and after must be integers")
    if not 0 < limit <= MAX_LIMIT:
        invalid(f"limit must be between 1 and {MAX_LIMIT}")
    if after + limit > CEILING:
        invalid(f"Search results are limited to {CEILING} records; narrow the filters")
    return filters, limit, after


def search(p: dict[str, Any], kind: str, body: Any) -> dict[str, Any]:
    """``POST /crm/v3/objects/{kind}/search``."""
    if not isinstance(body, dict):
        invalid("Invalid input JSON")
    filters, limit, after = _check(body)
    found = sorted(p["objects"][kind].values(), key=lambda o: int(o["id"]))
    if filters:
        found = [o for o in found if any(all(_match(_values(p, kind, o, f["propertyName"]), f) for f in group)
                                         for group in filters)]
    if query := str(body.get("query") or "").lower():
        found = [o for o in found if any(query in str(o["properties"].get(n) or "").lower()
                                         for n in SEARCHABLE[kind])]
    for sort in reversed(body.get("sorts") or []):
        if isinstance(sort, dict):
            name, desc = sort.get("propertyName"), sort.get("direction") == "DESCENDING"
        else:
            name, desc = str(sort).lstrip("-"), str(sort).startswith("-")
        found.sort(key=lambda o, n=name: _sort_key(o["properties"].get(n)), reverse=desc)
    page = found[after: after + limit]
    wanted = wanted_properties(body.get("properties"))
    out: dict[str, Any] = {"total": len(found), "results": [view(o, kind, wanted) for o in page]}
    if after + limit < len(found):
        out["paging"] = {"next": {"after": str(after + limit)}}
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0.0)
    key = comparable(value)
    return (1, key) if isinstance(key, float) else (2, key)
