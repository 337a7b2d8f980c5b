"""Ads insights for the Facebook client: ``GET /act_{id}/insights``, or the async report flow.

The async flow is ``POST /act_{id}/insights`` -> ``report_run_id`` -> poll ``GET /{report_run_id}`` until
``async_status`` is "Job Completed" -> read ``GET /{report_run_id}/insights``. The report id is stored in the
job's :class:`StepLog` as soon as it exists, so a restarted worker polls the same report instead of asking
for a new one. A synchronous request Meta finds too large is moved to the async flow.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from workers.errors import ProviderRejected, ProviderUnavailable
from workers.providers._polling import poll
from workers.providers.base import StepLog, expect_shape, require

if TYPE_CHECKING:
    from workers.providers.facebook import FacebookClient

#: Days a ``date_preset`` covers (for choosing the async flow).
PRESET_DAYS = {"today": 1, "yesterday": 1, "last_7d": 7, "last_14d": 14, "last_28d": 28, "last_30d": 30,
               "last_90d": 90, "this_month": 31, "last_month": 31}
ASYNC_DONE, ASYNC_FAILED = "Job Completed", ("Job Failed", "Job Skipped")
#: Text of Meta's answer to a synchronous insights request that asks for too much.
TOO_MUCH = "reduce the amount of data"


def span_days(params: Any) -> int:
    """How many days the requested range covers."""
    if params.since and params.until:
        return (params.until - params.since).days + 1
    return PRESET_DAYS.get(params.date_preset or "last_7d", 7)


def insights_query(params: Any) -> dict[str, Any]:
    """The Graph parameters of an insights request (without paging)."""
    query: dict[str, Any] = {"fields": ",".join(params.fields), "level": params.level,
                             "time_increment": str(params.time_increment)}
    if params.since and params.until:
        span = {"since": params.since.isoformat(), "until": params.until.isoformat()}
        query["time_range"] = json.dumps(span)
    else:
        query["date_preset"] = params.date_preset or "last_7d"
    return query


def ads_insights(client: FacebookClient, params: Any, steps: StepLog) -> dict[str, Any]:
    """Rows of the ad account's insights, synchronously or through an async report."""
    account, query = client.ad_account, insights_query(params)
    use_async = bool(steps.get("report_run_id")) or span_days(params) > client.ASYNC_AFTER_DAYS
    if not use_async:
        try:
            rows = client.pages(f"/{account}/insights", params.limit, query)
        except (ProviderRejected, ProviderUnavailable) as exc:
            if TOO_MUCH not in exc.message.lower():
                raise
            use_async = True
    if use_async:
        rows = _async_rows(client, account, query, params.limit, steps)
    return {"ad_account_id": account, "level": params.level, "rows": rows, "count": len(rows),
            "async": use_async, "report_run_id": steps.get("report_run_id") if use_async else None}


def _async_rows(client: FacebookClient, account: str, query: dict[str, Any], limit: int,
                steps: StepLog) -> list[dict[str, Any]]:
    """Start (or resume) an async report, wait for it, and read its rows."""
    run_id = steps.get("report_run_id")
    if not run_id:
        steps.progress("starting the insights report", 5.0)
        data = client.json("POST", f"/{account}/insights", data=query)
        run_id = str(require(data, "report_run_id", client.provider, "POST /act_{id}/insights"))
        steps.put("report_run_id", run_id)
    _wait(client, run_id, steps)
    steps.progress("reading the insights report", 95.0)
    return client.pages(f"/{run_id}/insights", limit, {})


def _wait(client: FacebookClient, run_id: str, steps: StepLog) -> None:
    """Poll an async report until it completes; a failed report is forgotten so the retry starts anew."""

    def fetch() -> tuple[Any, float]:
        data = client.json("GET", f"/{run_id}", params={"fields": "async_status,async_percent_completion"})
        with expect_shape(client.provider, "GET /{report_run_id}"):
            return data["async_status"], float(data.get("async_percent_completion") or 0)

    def done(state: tuple[Any, float]) -> bool:
        status, pct = state
        if status == ASYNC_DONE:
            return True
        if status in ASYNC_FAILED:
            steps.put("report_run_id", None)
            raise ProviderUnavailable(f"facebook insights report {run_id} ended with {status!r}; the retry "
                                      "starts a new report")
        steps.progress(f"insights report {pct:.0f}% done", round(10.0 + 0.8 * pct, 1))
        return False

    poll(fetch, done, interval=client.POLL_INTERVAL, timeout=client.POLL_TIMEOUT,
         what=lambda state: f"facebook insights report {run_id} still {state[0]!r}")
