"""Saved reports of the Salesforce simulator and their runs in the Reports and Dashboards API shape."""

from __future__ import annotations

from typing import Any, TypeVar

#: Either both numbers or both text: the two sides of a report filter comparison share one type.
_Ordered = TypeVar("_Ordered", float, str)

#: Report column -> (record field, label, data type), per report type.
COLUMNS: dict[str, dict[str, tuple[str, str, str]]] = {
    "Opportunity": {"OPPORTUNITY_NAME": ("Name", "Opportunity Name", "string"),
                    "ACCOUNT_NAME": ("_AccountName", "Account Name", "string"),
                    "STAGE_NAME": ("StageName", "Stage", "picklist"),
                    "AMOUNT": ("Amount", "Amount", "currency"),
                    "CLOSE_DATE": ("CloseDate", "Close Date", "date"),
                    "FORECAST_CATEGORY": ("ForecastCategoryName", "Forecast Category", "picklist")},
    "Lead": {"FIRST_NAME": ("FirstName", "First Name", "string"),
             "LAST_NAME": ("LastName", "Last Name", "string"),
             "COMPANY": ("Company", "Company / Account", "string"),
             "LEAD_STATUS": ("Status", "Lead Status", "picklist"), "EMAIL": ("Email", "Email", "email")},
}


def saved_reports(ids: list[str]) -> dict[str, dict[str, Any]]:
    """The org's saved reports: a summary of open pipeline by stage and a tabular list of open leads."""
    pipeline, leads = ids
    return {
        pipeline: {"id": pipeline, "name": "Open Pipeline by Stage", "reportFormat": "SUMMARY",
                   "reportType": {"type": "Opportunity", "label": "Opportunities"},
                   "detailColumns": ["OPPORTUNITY_NAME", "ACCOUNT_NAME", "STAGE_NAME", "AMOUNT",
                                     "CLOSE_DATE"],
                   "groupingsDown": [{"name": "STAGE_NAME", "sortOrder": "Asc", "dateGranularity": "None"}],
                   "aggregates": ["s!AMOUNT", "RowCount"], "reportBooleanFilter": None,
                   "reportFilters": [{"column": "FORECAST_CATEGORY", "operator": "notEqual",
                                      "value": "Omitted"}]},
        leads: {"id": leads, "name": "Open Leads", "reportFormat": "TABULAR",
                "reportType": {"type": "LeadList", "label": "Leads"},
                "detailColumns": ["FIRST_NAME", "LAST_NAME", "COMPANY", "LEAD_STATUS", "EMAIL"],
                "groupingsDown": [], "aggregates": ["RowCount"], "reportBooleanFilter": None,
                "reportFilters": [{"column": "LEAD_STATUS", "operator": "notEqual",
                                   "value": "Closed - Converted"}]},
    }


def columns_of(meta: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """The columns a report's type offers."""
    return COLUMNS["Opportunity" if meta["reportType"]["type"] == "Opportunity" else "Lead"]


def check_filters(meta: dict[str, Any], filters: Any) -> str | None:
    """Why ``filters`` are invalid for this report, or None."""
    if not isinstance(filters, list):
        return "reportFilters must be a list"
    allowed = columns_of(meta)
    for f in filters:
        if not isinstance(f, dict) or f.get("column") not in allowed:
            column = f.get("column") if isinstance(f, dict) else f
            return f"The column {column} isn't valid for this report type."
        if f.get("operator") not in OPERATORS:
            return f"The operator {f.get('operator')} isn't valid."
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).lower()


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _ordered(op: str) -> Any:
    def check(cell: Any, wanted: str) -> bool:
        """Compare as numbers when both are numbers, else as text."""
        a, b = _number(cell), _number(wanted)
        return _holds(op, a, b) if a is not None and b is not None else _holds(op, _text(cell), _text(wanted))
    return check


def _holds(op: str, left: _Ordered, right: _Ordered) -> bool:
    return {"lessThan": left < right, "greaterThan": left > right, "lessOrEqual": left <= right,
            "greaterOrEqual": left >= right}[op]


OPERATORS = {
    "equals": lambda c, w: any(_text(c) == v.strip().lower() for v in w.split(",")),
    "notEqual": lambda c, w: all(_text(c) != v.strip().lower() for v in w.split(",")),
    "contains": lambda c, w: w.lower() in _text(c), "notContain": lambda c, w: w.lower() not in _text(c),
    "startsWith": lambda c, w: _text(c).startswith(w.lower()), "includes": lambda c, w: w.lower() in _text(c),
    "excludes": lambda c, w: w.lower() not in _text(c),
    **{op: _ordered(op) for op in ("lessThan", "greaterThan", "lessOrEqual", "greaterOrEqual")},
}


def _cell(kind: str, value: Any) -> dict[str, Any]:
    if kind == "currency":
        return {"label": "" if value is None else f"${float(value):,.2f}", "value": value}
    return {"label": "-" if value is None else str(value), "value": value}


def run(meta: dict[str, Any], rows: list[dict[str, Any]], include_details: bool) -> dict[str, Any]:
    """A synchronous report run over ``rows`` with ``meta`` (filters applied)."""
    cols = columns_of(meta)
    filters = [(cols[f["column"]][0], OPERATORS[f["operator"]], str(f.get("value", "")))
               for f in meta.get("reportFilters") or []]
    rows = [r for r in rows if all(check(r.get(field), wanted) for field, check, wanted in filters)]
    detail = meta["detailColumns"]

    def fact(members: list[dict[str, Any]]) -> dict[str, Any]:
        """The aggregates (and detail rows) of one grouping."""
        amount = sum(float(r.get("Amount") or 0) for r in members)
        aggregates = ([_cell("currency", amount)] if "s!AMOUNT" in meta["aggregates"] else []) + \
            [{"label": str(len(members)), "value": len(members)}]
        data = [{"dataCells": [_cell(cols[c][2], r.get(cols[c][0])) for c in detail]} for r in members]
        return {"aggregates": aggregates, "rows": data if include_details else []}

    fact_map: dict[str, Any] = {}
    groupings: list[dict[str, Any]] = []
    if meta["groupingsDown"]:
        field = cols[meta["groupingsDown"][0]["name"]][0]
        for n, value in enumerate(sorted({str(r.get(field)) for r in rows})):
            groupings.append({"key": str(n), "label": value, "value": value, "groupings": []})
            fact_map[f"{n}!T"] = fact([r for r in rows if str(r.get(field)) == value])
        fact_map["T!T"] = {**fact(rows), "rows": []}
    else:
        fact_map["T!T"] = fact(rows)
    info = {c: {"label": cols[c][1], "dataType": cols[c][2]} for c in detail}
    return {"attributes": {"type": "Report", "reportId": meta["id"], "reportName": meta["name"],
                           "describeUrl": f"/services/data/v66.0/analytics/reports/{meta['id']}/describe"},
            "allData": True, "factMap": fact_map, "groupingsAcross": {"groupings": []},
            "groupingsDown": {"groupings": groupings}, "hasDetailRows": include_details,
            "reportExtendedMetadata": {"detailColumnInfo": info}, "reportMetadata": meta}
