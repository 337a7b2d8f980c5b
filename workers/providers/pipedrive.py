"""Pipedrive client: pipelines, deals and their change history, activities and forecasts.

API v2 where it exists (pipelines, stages, deals, activities); v1 only where v2 has no replacement
(``/v1/users/me``, ``/v1/deals/{id}/changelog``, ``/v1/deals/summary``, ``/v1/deals/timeline``).
Pipedrive has no idempotency keys and no field to stamp a job on a deal or an activity, so a retry after a
crash lists the newest deals (or activities) and reuses the one this job created, matched on its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import httpx

from config.logging import redact_text
from workers.errors import (
    AgentError,
    AuthError,
    IntegrationUnavailable,
    MalformedResponse,
    ProviderRejected,
    RateLimited,
)
from workers.providers._parse import aware_time
from workers.providers._pipedrive_shapes import (
    CHANGELOG_PAGE,
    V2_PAGE,
    activity,
    body_of,
    deal,
    error_text,
    period,
    pipeline,
    rfc3339,
    stage_summary,
)
from workers.providers.base import MAX_ERROR_TEXT, ProviderClient, StepLog, expect_shape, require

#: How far back a retry looks for the deal or activity an earlier attempt may have created.
RETRY_WINDOW = timedelta(days=2)
#: Delay when the daily token budget is spent (it resets at midnight, server time, which no header tells).
DAILY_BUDGET_RETRY = 900.0
#: Delay when Cloudflare blocks an API token that kept going after 429s (403 with an HTML page).
BLOCKED_RETRY = 120.0


class PipedriveClient(ProviderClient):
    """Pipedrive API v2 (v1 where needed) with a personal API token in the ``x-api-token`` header."""

    provider: ClassVar[str] = "pipedrive"
    #: Largest ``limit`` the v2 list endpoints accept.
    PAGE_SIZE: ClassVar[int] = V2_PAGE

    # -- provider shapes -------------------------------------------------------------------------------

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: ``error_info`` is appended unless it is only a docs link; error_for reads the same text."""
        return error_text(response)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Pipedrive's statuses: ``success: false`` in a 2xx, 402 account closed, 403 feature caps or a
        Cloudflare block, 429 burst window or spent daily budget."""
        status = response.status_code
        if status < 400:
            body = body_of(response)
            if body is not None and body.get("success") is False:
                text, code = error_text(response)
                return ProviderRejected(f"pipedrive answered {status} with an error: {_clip(text)}",
                                        status=status, provider_code=code)
            return None
        text, code = error_text(response)
        message = f"pipedrive answered {status}: {_clip(text)}"
        if status == 402:
            return IntegrationUnavailable(message + " (the company account is not open)", status=402,
                                          provider_code=code)
        if status == 403 and body_of(response) is None:
            return RateLimited(message, retry_after=BLOCKED_RETRY, status=403, provider_code="blocked")
        if status == 403 and str(code or "").startswith("feature_capping"):
            return ProviderRejected(message, status=403, provider_code=code)
        if status == 403:
            return AuthError(message, status=403, provider_code=code)
        if status == 429:
            return RateLimited(message, retry_after=self._throttle_delay(response), provider_code=code)
        return super().error_for(response)

    def _throttle_delay(self, response: httpx.Response) -> float:
        """``Retry-After``; else the burst window's reset when it is spent; else the daily budget is."""
        rl = self.rate_limit(response)
        if response.headers.get("retry-after") and rl and rl.reset_after is not None:
            return rl.reset_after
        if rl and rl.remaining == 0 and rl.reset_after is not None:
            return rl.reset_after
        return DAILY_BUDGET_RETRY

    def test_connection(self) -> dict[str, Any]:
        """Kept: the user and company behind the token."""
        me = self._data(self.send_test_call(), "GET /v1/users/me")
        with expect_shape(self.provider, "GET /v1/users/me"):
            return {"user_id": me["id"], "name": me.get("name"), "email": me.get("email"),
                    "company_id": me.get("company_id"), "company_name": me.get("company_name"),
                    "company_domain": me.get("company_domain"),
                    "default_currency": me.get("default_currency")}

    # -- paging ----------------------------------------------------------------------------------------
    def _data(self, body: Any, what: str) -> Any:
        """``body["data"]`` of a success answer."""
        if not isinstance(body, Mapping) or body.get("success") is not True:
            raise MalformedResponse(f"pipedrive answered {what} without success: true")
        return require(body, "data", self.provider, what)

    def _cursor(self, path: str, params: Mapping[str, Any], limit: int, size: int | None = None
                ) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a cursor-paged list (``additional_data.next_cursor``)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(items) < limit:
            query = {**params, "limit": min(size or self.PAGE_SIZE, limit - len(items))}
            if cursor:
                query["cursor"] = cursor
            body = self.json("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch = list(self._data(body, f"GET {path}") or [])
                cursor, previous = (body.get("additional_data") or {}).get("next_cursor"), cursor
            items.extend(batch)
            if not cursor or cursor == previous or not batch:
                break
        return items[:limit]

    def _stages(self, pipeline_id: int | None) -> list[dict[str, Any]]:
        params = {"pipeline_id": pipeline_id} if pipeline_id else {}
        return [s for s in self._cursor("/api/v2/stages", params, 1000) if not s.get("is_deleted")]

    # -- pipelines and deals ---------------------------------------------------------------------------
    def action_list_pipelines(self, params: Any, steps: StepLog) -> dict[str, Any]:
        pipelines = self._cursor("/api/v2/pipelines", {}, params.limit)
        pipelines, stages = [p for p in pipelines if not p.get("is_deleted")], self._stages(None)
        with expect_shape(self.provider, "GET /api/v2/pipelines"):
            return {"pipelines": [pipeline(p, stages) for p in pipelines]}

    def action_list_deals(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = _given(params, "pipeline_id", "stage_id", "status", "owner_id")
        if params.updated_since:
            query["updated_since"] = rfc3339(params.updated_since)
        items = self._cursor("/api/v2/deals", query, params.limit)
        with expect_shape(self.provider, "GET /api/v2/deals"):
            return {"deals": [deal(d) for d in items], "count": len(items)}

    def _deal(self, deal_id: int) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /api/v2/deals/{id}"):
            return deal(self._data(self.json("GET", f"/api/v2/deals/{deal_id}"), "GET /api/v2/deals/{id}"))

    def _newest(self, path: str, filters: Mapping[str, Any], same: Any) -> dict[str, Any] | None:
        """The newest item added within :data:`RETRY_WINDOW` for which ``same(item)`` holds."""
        since = datetime.now(UTC) - RETRY_WINDOW
        query = {**filters, "sort_by": "add_time", "sort_direction": "desc"}
        for item in self._cursor(path, query, 100, size=100):
            added = aware_time(item.get("add_time"))
            if added is not None and added < since:
                break
            if same(item):
                return item
        return None

    def action_create_deal(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if deal_id := steps.get("deal_id"):
            return self._deal(deal_id)
        body = _body(params)
        if steps.intent("deal"):
            filters: dict[str, Any] = {k: body[k] for k in ("owner_id", "person_id", "org_id", "pipeline_id",
                                                            "stage_id") if k in body}
            found = self._newest("/api/v2/deals", filters, lambda d: all(
                d.get(k) == body[k] for k in ("title", "value", "currency") if k in body))
            if found:  # an earlier attempt created it but died before recording the id
                steps.put("deal_id", found["id"])
                return deal(found)
        created = self._data(self.json("POST", "/api/v2/deals", json=body), "POST /api/v2/deals")
        steps.put("deal_id", require(created, "id", self.provider, "POST /api/v2/deals"))
        with expect_shape(self.provider, "POST /api/v2/deals"):
            return deal(created)

    def action_update_deal(self, params: Any, steps: StepLog) -> dict[str, Any]:
        body = _body(params, exclude={"deal_id"})
        updated = self._data(self.json("PATCH", f"/api/v2/deals/{params.deal_id}", json=body),
                             "PATCH /api/v2/deals/{id}")
        with expect_shape(self.provider, "PATCH /api/v2/deals/{id}"):
            return {**deal(updated), "changed": sorted(body)}

    def action_get_deal_history(self, params: Any, steps: StepLog) -> dict[str, Any]:
        items = self._cursor(f"/v1/deals/{params.deal_id}/changelog", {}, params.limit, size=CHANGELOG_PAGE)
        keys = ("field_key", "old_value", "new_value", "actor_user_id", "time", "change_source",
                "is_bulk_update_flag")
        with expect_shape(self.provider, "GET /v1/deals/{id}/changelog"):
            return {"deal_id": params.deal_id, "changes": [{k: c.get(k) for k in keys} for c in items],
                    "count": len(items)}

    # -- activities ------------------------------------------------------------------------------------
    def action_create_activity(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if activity_id := steps.get("activity_id"):
            with expect_shape(self.provider, "GET /api/v2/activities/{id}"):
                return activity(self._data(self.json("GET", f"/api/v2/activities/{activity_id}"),
                                           "GET /api/v2/activities/{id}"))
        body = _body(params, exclude={"person_id"})
        if params.person_id is not None:  # v2: person_id is read-only, set through the primary participant
            body["participants"] = [{"person_id": params.person_id, "primary": True}]
        if steps.intent("activity"):
            filters: dict[str, Any] = {k: body[k] for k in ("deal_id", "owner_id") if k in body}
            found = self._newest("/api/v2/activities", filters, lambda a: all(
                a.get(k) == body.get(k) for k in ("subject", "type", "due_date", "deal_id")))
            if found:
                steps.put("activity_id", found["id"])
                return activity(found)
        created = self._data(self.json("POST", "/api/v2/activities", json=body), "POST /api/v2/activities")
        steps.put("activity_id", require(created, "id", self.provider, "POST /api/v2/activities"))
        with expect_shape(self.provider, "POST /api/v2/activities"):
            return activity(created)

    def action_list_activities(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = _given(params, "deal_id", "owner_id", "done")
        if params.updated_since:
            query["updated_since"] = rfc3339(params.updated_since)
        items = self._cursor("/api/v2/activities", query, params.limit)
        with expect_shape(self.provider, "GET /api/v2/activities"):
            return {"activities": [activity(a) for a in items], "count": len(items)}

    # -- forecasting -----------------------------------------------------------------------------------
    def action_deal_summary(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._by_stage(params, steps) if params.by == "stage" else self._by_period(params, steps)

    def _by_stage(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """One ``/v1/deals/summary`` per stage; each row is kept in ``steps`` so a restart resumes."""
        stages = self._stages(params.pipeline_id)
        rows = []
        for n, stage in enumerate(stages, start=1):
            key = f"summary.stage.{stage['id']}.{params.status}"
            if (row := steps.get(key)) is None:
                pct = round(100.0 * (n - 1) / len(stages), 1)
                steps.progress(f"summarising stage {n}/{len(stages)}", pct)
                row = self._stage_row(stage, params.status)
                steps.put(key, row)
            rows.append(row)
        steps.progress("summary ready", 100.0)
        return {"by": "stage", "status": params.status, "pipeline_id": params.pipeline_id, "stages": rows,
                "total_count": sum(r["count"] or 0 for r in rows),
                "total_value": round(sum(r["value"] or 0 for r in rows), 2),
                "total_weighted_value": round(sum(r["weighted_value"] or 0 for r in rows), 2)}

    def _stage_row(self, stage: Mapping[str, Any], status: str) -> dict[str, Any]:
        query = {"status": status, "stage_id": stage["id"], "pipeline_id": stage["pipeline_id"]}
        data = self._data(self.json("GET", "/v1/deals/summary", params=query), "GET /v1/deals/summary")
        with expect_shape(self.provider, "GET /v1/deals/summary"):
            return stage_summary(stage, data)

    def _by_period(self, params: Any, steps: StepLog) -> dict[str, Any]:
        start = params.start_date or datetime.now(UTC).date()
        query: dict[str, Any] = {"start_date": start.isoformat(), "interval": params.interval,
                                 "amount": params.amount, "field_key": params.field_key, "exclude_deals": 1,
                                 "totals_convert_currency": "default_currency"}
        if params.pipeline_id:
            query["pipeline_id"] = params.pipeline_id
        data = self._data(self.json("GET", "/v1/deals/timeline", params=query), "GET /v1/deals/timeline")
        with expect_shape(self.provider, "GET /v1/deals/timeline"):
            periods = [period(p) for p in (data if isinstance(data, list) else [data])]
        return {"by": "period", "interval": params.interval, "start_date": start.isoformat(),
                "field_key": params.field_key, "pipeline_id": params.pipeline_id, "periods": periods,
                "note": "Pipedrive's timeline counts open and won deals."}


def _given(params: Any, *names: str) -> dict[str, Any]:
    """The parameters among ``names`` that are set."""
    return {name: getattr(params, name) for name in names if getattr(params, name) is not None}


def _body(params: Any, exclude: set[str] | None = None) -> dict[str, Any]:
    """The set fields of a parameter model as v2 JSON (dates as ``YYYY-MM-DD``)."""
    body = params.model_dump(exclude=exclude or set(), exclude_none=True)
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in body.items()}


def _clip(text: str) -> str:
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = PipedriveClient
