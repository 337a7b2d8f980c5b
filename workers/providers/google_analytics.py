"""Google Analytics 4 Data API client, serving Seomi's SEO reports and Dexter's data analysis.

Every report is a ``runReport`` (paged with ``limit``/``offset`` until ``rowCount`` or the ``limit``
parameter is reached), a ``runRealtimeReport`` (one request: it has no offset) or a v1alpha
``runFunnelReport``. Reports ask for ``returnPropertyQuota`` so the result shows the tokens left.
Rows come back as ``{dimension: value, metric: number}`` dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from workers.errors import CredentialsUnavailable
from workers.providers._google import GoogleClient
from workers.providers.base import StepLog, expect_shape, require

#: Most rows one runReport request returns.
MAX_ROWS = 250_000
ORGANIC = {"filter": {"fieldName": "sessionDefaultChannelGroup",
                      "stringFilter": {"matchType": "EXACT", "value": "Organic Search"}}}
#: Metric types whose values are whole numbers.
INTEGER_TYPES = frozenset({"TYPE_INTEGER"})


def in_list(field: str, values: list[str]) -> dict[str, Any]:
    """A FilterExpression: ``field`` is one of ``values``."""
    return {"filter": {"fieldName": field, "inListFilter": {"values": values}}}


def positive(metric: str) -> dict[str, Any]:
    """A FilterExpression: ``metric`` > 0."""
    return {"filter": {"fieldName": metric,
                       "numericFilter": {"operation": "GREATER_THAN", "value": {"int64Value": "0"}}}}


def metric_value(value: Any, kind: str | None) -> int | float | None:
    """A metric value (sent as a string) as a number; rates may be fractional even when typed integer."""
    if value in (None, ""):
        return None
    number = float(value)
    return int(number) if kind in INTEGER_TYPES and number.is_integer() else number


def table_rows(data: Mapping[str, Any], rows: list[Any]) -> list[dict[str, Any]]:
    """Rows of a report table as ``{dimension: value, metric: number}``."""
    dims = [h["name"] for h in data.get("dimensionHeaders") or []]
    metrics = [(h["name"], h.get("type")) for h in data.get("metricHeaders") or []]
    out = []
    for row in rows:
        item: dict[str, Any] = {d: v.get("value") for d, v in zip(dims, row.get("dimensionValues") or [],
                                                                  strict=False)}
        for (name, kind), v in zip(metrics, row.get("metricValues") or [], strict=False):
            item[name] = metric_value(v.get("value"), kind)
        out.append(item)
    return out


def quota_left(data: Mapping[str, Any]) -> dict[str, int] | None:
    """Remaining property quota (tokens per day/hour, concurrent requests) from ``propertyQuota``."""
    quota = data.get("propertyQuota")
    if not isinstance(quota, Mapping):
        return None
    return {name: int(status["remaining"]) for name, status in quota.items()
            if isinstance(status, Mapping) and "remaining" in status}


def report_meta(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the response metadata says about the data's quality."""
    meta = data.get("metadata") or {}
    return {"currency_code": meta.get("currencyCode"), "time_zone": meta.get("timeZone"),
            "subject_to_thresholding": bool(meta.get("subjectToThresholding")),
            "data_loss_from_other_row": bool(meta.get("dataLossFromOtherRow")),
            "sampled": bool(meta.get("samplingMetadatas")), "empty_reason": meta.get("emptyReason")}


class GoogleAnalyticsClient(GoogleClient):
    """GA4 Data API (v1beta, funnels v1alpha) for the configured property."""

    provider: ClassVar[str] = "google_analytics"
    #: Rows asked for per runReport request.
    PAGE_SIZE: ClassVar[int] = 100_000

    @property
    def property_id(self) -> str:
        """The numeric GA4 property id."""
        if not (pid := str(self.credentials.get("property_id") or "").removeprefix("properties/")):
            raise CredentialsUnavailable("google_analytics credentials have no property_id")
        return pid

    def _path(self, method: str, version: str = "v1beta") -> str:
        return f"/{version}/properties/{self.property_id}:{method}"

    def test_connection(self) -> dict[str, Any]:
        """Kept: the property's field counts, read at the normalized id (``properties/123`` is accepted)."""
        data = self.json("GET", f"/v1beta/properties/{self.property_id}/metadata")
        with expect_shape(self.provider, "GET /v1beta/properties/{id}/metadata"):
            dims, metrics = data.get("dimensions") or [], data.get("metrics") or []
            custom = sum(1 for d in [*dims, *metrics] if d.get("customDefinition"))
            return {"property_id": self.property_id, "dimensions": len(dims), "metrics": len(metrics),
                    "custom_definitions": custom}

    # -- report machinery -----------------------------------------------------------------------------
    def _report(self, params: Any, *, dimension_filter: dict[str, Any] | None = None,
                metric_filter: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """A runReport over ``params`` (dates, dimensions, metrics, limit), paged with offset."""
        body: dict[str, Any] = {
            "dateRanges": [{"startDate": params.start_date, "endDate": params.end_date}],
            "dimensions": [{"name": d} for d in params.dimensions],
            "metrics": [{"name": m} for m in params.metrics], "returnPropertyQuota": True, **extra}
        if dimension_filter:
            body["dimensionFilter"] = dimension_filter
        if metric_filter:
            body["metricFilter"] = metric_filter
        rows: list[Any] = []
        first: dict[str, Any] | None = None
        last: dict[str, Any] = {}
        total = 0
        while len(rows) < params.limit:
            size = min(self.PAGE_SIZE, MAX_ROWS, params.limit - len(rows))
            page = {**body, "limit": size, "offset": len(rows)}
            last = self.json("POST", self._path("runReport"), json=page)
            with expect_shape(self.provider, "POST :runReport"):
                got = list(last.get("rows") or [])
                total = int(last.get("rowCount") or 0)
                first = first or dict(last)
            rows.extend(got)
            if not got or len(rows) >= total:
                break
        return self._table(first or last, rows[: params.limit], total, last)

    def _table(self, head: Mapping[str, Any], rows: list[Any], total: int,
               last: Mapping[str, Any]) -> dict[str, Any]:
        with expect_shape(self.provider, "a report"):
            return {"property_id": self.property_id,
                    "dimensions": [h["name"] for h in head.get("dimensionHeaders") or []],
                    "metrics": [h["name"] for h in head.get("metricHeaders") or []],
                    "row_count": total, "returned": len(rows), "rows": table_rows(head, rows),
                    "metadata": report_meta(head), "quota_remaining": quota_left(last)}

    # -- Seomi ----------------------------------------------------------------------------------------
    def action_organic_traffic_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._report(params, dimension_filter=ORGANIC)

    def action_user_behavior_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._report(params, dimension_filter=ORGANIC if params.organic_only else None)

    def action_conversions_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        events = in_list("eventName", params.event_names) if params.event_names else None
        keyed = positive("keyEvents") if "keyEvents" in params.metrics else None
        return self._report(params, dimension_filter=events, metric_filter=keyed)

    def action_run_custom_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        extra: dict[str, Any] = {"keepEmptyRows": params.keep_empty_rows}
        if params.order_bys:
            extra["orderBys"] = params.order_bys
        return self._report(params, dimension_filter=params.dimension_filter,
                            metric_filter=params.metric_filter, **extra)

    # -- Dexter ---------------------------------------------------------------------------------------
    def action_traffic_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._report(params)

    def action_custom_events_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._report(params, dimension_filter=in_list("eventName", params.event_names))

    def action_run_realtime_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = {"dimensions": [{"name": d} for d in params.dimensions],
                "metrics": [{"name": m} for m in params.metrics], "limit": params.limit,
                "minuteRanges": [{"startMinutesAgo": params.minutes_ago_start,
                                  "endMinutesAgo": params.minutes_ago_end}], "returnPropertyQuota": True}
        data = self.json("POST", self._path("runRealtimeReport"), json=body)
        with expect_shape(self.provider, "POST :runRealtimeReport"):
            rows = list(data.get("rows") or [])
            table = self._table(data, rows, int(data.get("rowCount") or len(rows)), data)
        return {**table, "minutes_ago": [params.minutes_ago_start, params.minutes_ago_end]}

    def action_run_funnel_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dateRanges": [{"startDate": params.start_date, "endDate": params.end_date}],
            "funnel": {"isOpenFunnel": params.open_funnel, "steps": [
                {"name": s.name, "filterExpression": {"funnelEventFilter": {"eventName": s.event_name}}}
                for s in params.steps]}, "returnPropertyQuota": True}
        if params.breakdown_dimension:
            body["funnelBreakdown"] = {"breakdownDimension": {"name": params.breakdown_dimension}}
        data = self.json("POST", self._path("runFunnelReport", "v1alpha"), json=body)
        with expect_shape(self.provider, "POST :runFunnelReport"):
            table = require(data, "funnelTable", self.provider, "POST :runFunnelReport")
            rows = table_rows(table, list(table.get("rows") or []))
            return {"property_id": self.property_id, "open_funnel": params.open_funnel,
                    "breakdown_dimension": params.breakdown_dimension,
                    "steps": funnel_steps(rows, params.breakdown_dimension),
                    "metadata": table.get("metadata") or {}, "quota_remaining": quota_left(data)}


def funnel_steps(rows: list[dict[str, Any]], breakdown: str | None) -> list[dict[str, Any]]:
    """Funnel table rows as steps: position, name (without GA's ``"1. "`` prefix), users and rates."""
    out = []
    for row in rows:
        label = str(row.get("funnelStepName") or "")
        position, _, name = label.partition(". ")
        step = {"position": int(position) if position.isdigit() else None,
                "step": name if position.isdigit() else label, "active_users": row.get("activeUsers"),
                "completion_rate": row.get("funnelStepCompletionRate"),
                "abandonments": row.get("funnelStepAbandonments"),
                "abandonment_rate": row.get("funnelStepAbandonmentRate")}
        if breakdown:
            value = row.get(breakdown)
            step["breakdown"] = "total" if value == "RESERVED_TOTAL" else value
        out.append(step)
    return out


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = GoogleAnalyticsClient
