"""Salesforce REST API client (v66.0): records, SOQL with ``nextRecordsUrl`` paging, pipeline and reports.

Salesforce has no idempotency key. ``upsert_record`` is safe to repeat by construction (external id).
``create_record`` records its intent first; a retry looks for a record with exactly the fields it was
about to create before it creates one again. Errors come as a JSON array of ``{message, errorCode,
fields}``; ``REQUEST_LIMIT_EXCEEDED`` (403) is a throttle, not an auth failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from config.logging import redact_text
from workers.credentials.base import Credentials
from workers.errors import (
    AgentError,
    IntegrationUnavailable,
    InvalidPayload,
    MalformedResponse,
    ProviderRejected,
    RateLimited,
)
from workers.providers._salesforce_reports import report_result
from workers.providers._salesforce_shape import (
    GROUPINGS,
    OPPORTUNITY_FIELDS,
    close_date_range,
    group_key,
    opportunity,
    plain,
    salesforce_errors,
    soql_literal,
    where,
)
from workers.providers.base import MAX_ERROR_TEXT, RateLimit, StepLog, expect_shape, require
from workers.providers.oauth import OAuth2Client

#: The REST API version every path is pinned to.
API_PATH = "/services/data/v66.0"
#: Back-off after ``REQUEST_LIMIT_EXCEEDED`` on the rolling 24-hour allocation (Salesforce names no delay).
LIMIT_EXCEEDED_DELAY = 300.0
#: Back-off after the concurrent long-running request limit (``ConcurrentPerOrgLongTxn``).
CONCURRENT_LIMIT_DELAY = 30.0
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_UNCHECKABLE = "salesforce: cannot check whether an earlier attempt already created this {}{}; use " \
               "upsert_record with an external id"


class SalesforceClient(OAuth2Client):
    """Salesforce REST API over an OAuth 2.0 bearer token, on the org's My Domain ``instance_url``."""

    provider: ClassVar[str] = "salesforce"
    #: Rows asked for per query batch (``Sforce-Query-Options: batchSize``, 200..2000).
    PAGE_SIZE: ClassVar[int] = 2000

    @classmethod
    def fill_base_url(cls, template: str, credentials: Mapping[str, str]) -> str:
        """``template`` with the org's ``instance_url`` (without a trailing slash)."""
        instance = (credentials.get("instance_url") or "").strip().rstrip("/")
        if not instance.startswith(("https://", "http://")):
            raise IntegrationUnavailable("salesforce credentials need instance_url (the My Domain URL from "
                                         "the token response, e.g. https://acme.my.salesforce.com)")
        return template.replace("{instance_url}", instance)

    def token_url(self) -> str:
        """The org's own token endpoint (the definition's token URL on its ``instance_url``)."""
        if self._token_url:
            return self._token_url
        return self.resolve_base_url(self.token.url, self.credentials)

    def fetch_token(self, creds: Credentials) -> Mapping[str, str]:
        """Refresh; Salesforce sends no ``expires_in`` (the org's session timeout applies), so an old
        expiry is cleared and the next 401 triggers the next refresh."""
        values = dict(super().fetch_token(creds))
        values.setdefault("expires_at", "")
        return values

    # -- provider shapes -------------------------------------------------------------------------------
    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Kept: ``Sforce-Limit-Info: api-usage=used/max`` (the org's rolling 24-hour allocation)."""
        base = super().rate_limit(response)
        match = _USAGE.search(response.headers.get("sforce-limit-info", ""))
        if not match:
            return base
        used, limit = int(match[1]), int(match[2])
        return RateLimit(limit=limit, remaining=max(0, limit - used),
                         reset_after=base.reset_after if base else None)

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: every entry of Salesforce's error list with its fields, as ``errorCode: message (fields: ...)``."""
        errors = salesforce_errors(response)
        if not errors:
            return response.text, None
        parts = [f"{e.get('errorCode')}: {e.get('message')}"
                 + (f" (fields: {', '.join(map(str, e['fields']))})" if e.get("fields") else "")
                 for e in errors]
        return "; ".join(parts), str(errors[0].get("errorCode") or "") or None

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Throttles by error code; 300 (an external id matching several records) is a rejection."""
        status = response.status_code
        if status == 300:
            return ProviderRejected("salesforce answered 300: the external id matches more than one record",
                                    status=300, provider_code="MULTIPLE_CHOICES")
        if status < 400:
            return None
        text, code = self.error_text(response)
        message = f"salesforce answered {status}: {redact_text(' '.join(text.split()))[:MAX_ERROR_TEXT]}"
        if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
            rl = self.rate_limit(response)
            delay = CONCURRENT_LIMIT_DELAY if "concurrent" in text.lower() else LIMIT_EXCEEDED_DELAY
            delay = rl.reset_after if rl and rl.reset_after is not None else delay
            return RateLimited(message, retry_after=delay, status=status, provider_code=code)
        if code in ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"):
            return IntegrationUnavailable(message, status=status, provider_code=code)
        return super().error_for(response)

    def test_connection(self) -> dict[str, Any]:
        """Kept: the org's daily API allocation and what remains of it."""
        limits = self.send_test_call()
        daily = require(limits, "DailyApiRequests", self.provider, "GET /limits")
        with expect_shape(self.provider, "GET /limits"):
            return {"instance_url": self.credentials.get("instance_url"),
                    "api_version": API_PATH.rsplit("/v", 1)[1], "daily_api_requests_max": int(daily["Max"]),
                    "daily_api_requests_remaining": int(daily["Remaining"])}

    # -- SOQL ------------------------------------------------------------------------------------------
    def _relative(self, url: str) -> str:
        """A ``nextRecordsUrl`` (``/services/data/v66.0/query/01g...-2000``) relative to the base URL."""
        path = httpx.URL(url).path if "://" in url else url
        at = path.find(API_PATH)
        if at < 0:
            raise MalformedResponse(f"salesforce sent a nextRecordsUrl outside {API_PATH}")
        return path[at + len(API_PATH):]

    def _query(self, soql: str, limit: int, *, deleted: bool = False,
               steps: StepLog | None = None) -> tuple[list[dict[str, Any]], int, bool]:
        """Up to ``limit`` rows of ``soql`` following ``nextRecordsUrl``; the total; whether all were read."""
        headers = {"Sforce-Query-Options": f"batchSize={max(200, min(self.PAGE_SIZE, 2000))}"}
        path, params = ("/queryAll" if deleted else "/query"), {"q": soql}
        records: list[dict[str, Any]] = []
        while True:
            page = self.json("GET", path, params=params, headers=headers)
            with expect_shape(self.provider, f"GET {path}"):
                total, done, rows = int(page["totalSize"]), bool(page["done"]), list(page["records"])
                next_url = page.get("nextRecordsUrl")
            records.extend(rows)
            if done or not next_url or len(records) >= limit:
                break
            if steps is not None:
                wanted = min(limit, total) or 1
                steps.progress(f"read {len(records)} of {wanted} rows", round(100 * len(records) / wanted, 1))
            path, params = self._relative(str(next_url)), {}
        return [plain(r) for r in records[:limit]], total, done and len(records) <= limit

    def _find_created(self, sobject: str, fields: Mapping[str, Any]) -> str | None:
        """The newest record whose filterable fields equal ``fields`` (an earlier attempt's creation)."""
        conds = [f"{k} = {soql_literal(v)}" for k, v in fields.items() if _FIELD.match(k)
                 and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 255]
        if not conds:
            raise ProviderRejected(_UNCHECKABLE.format(sobject, ""))
        soql = f"SELECT Id FROM {sobject}{where(conds)} ORDER BY CreatedDate DESC LIMIT 1"
        try:
            rows, _, _ = self._query(soql, 1)
        except ProviderRejected as exc:
            raise ProviderRejected(_UNCHECKABLE.format(sobject, f" ({exc.message})"), status=exc.status,
                                   provider_code=exc.provider_code) from None
        return str(rows[0]["Id"]) if rows else None

    # -- records ---------------------------------------------------------------------------------------
    def action_create_record(self, params: Any, steps: StepLog) -> dict[str, Any]:
        result = {"sobject": params.sobject, "created": True, "resumed": True}
        if record_id := steps.get("record_id"):
            return {"id": record_id, **result}
        if steps.intent("create_record") and (found := self._find_created(params.sobject, params.fields)):
            steps.put("record_id", found)
            return {"id": found, **result}
        saved = self.json("POST", f"/sobjects/{params.sobject}", json=params.fields)
        record_id = self._saved(saved, f"POST /sobjects/{params.sobject}")
        steps.put("record_id", record_id)
        return {"id": record_id, **result, "resumed": False}

    def _saved(self, result: Any, what: str) -> str:
        """The id of a SaveResult ``{id, success, errors}``; its errors when ``success`` is false."""
        if isinstance(result, dict) and result.get("success") is False:
            errors = "; ".join(f"{e.get('statusCode') or e.get('errorCode')}: {e.get('message')}"
                               for e in result.get("errors") or [] if isinstance(e, dict))
            raise ProviderRejected(f"salesforce refused {what}: {redact_text(errors)[:MAX_ERROR_TEXT]}")
        return str(require(result, "id", self.provider, what))

    def action_update_record(self, params: Any, steps: StepLog) -> dict[str, Any]:
        self.json("PATCH", f"/sobjects/{params.sobject}/{params.record_id}", json=params.fields)
        return {"id": params.record_id, "sobject": params.sobject, "updated": sorted(params.fields)}

    def action_upsert_record(self, params: Any, steps: StepLog) -> dict[str, Any]:
        fields = dict(params.fields)
        given = fields.pop(params.external_id_field, params.external_id)
        if str(given) != params.external_id:
            raise InvalidPayload(f"fields.{params.external_id_field} differs from external_id")
        upsert = self._upsert_collection if "/" in params.external_id else self._upsert_one
        record_id, created = upsert(params.sobject, params.external_id_field, params.external_id, fields)
        steps.put("record_id", record_id)
        return {"id": record_id, "sobject": params.sobject, "created": created,
                "external_id_field": params.external_id_field, "external_id": params.external_id}

    def _upsert_one(self, sobject: str, field: str, value: str, fields: dict[str, Any]) -> tuple[str, bool]:
        """``PATCH /sobjects/{sobject}/{field}/{value}``: 201 created, 200 (or 204 before v46) updated."""
        path = f"/sobjects/{sobject}/{field}/{quote(value, safe='')}"
        result = self.json("PATCH", path, json=fields)
        if result:
            return self._saved(result, f"PATCH {path}"), bool(result.get("created"))
        found = self.json("GET", path, params={"fields": "Id"})  # 204: the id is not in the answer
        return str(require(found, "Id", self.provider, f"GET {path}")), False

    def _upsert_collection(self, sobject: str, field: str, value: str,
                           fields: dict[str, Any]) -> tuple[str, bool]:
        """The sObject Collections upsert, for external id values a URL path cannot carry (a ``/``)."""
        path = f"/composite/sobjects/{sobject}/{field}"
        body = {"allOrNone": True, "records": [{"attributes": {"type": sobject}, **fields, field: value}]}
        results = self.json("PATCH", path, json=body)
        with expect_shape(self.provider, f"PATCH {path}"):
            result = results[0]
        return self._saved(result, f"PATCH {path}"), bool(result.get("created"))

    def action_query(self, params: Any, steps: StepLog) -> dict[str, Any]:
        records, total, complete = self._query(params.soql, params.limit, deleted=params.include_deleted,
                                               steps=steps)
        return {"total_size": total, "returned": len(records), "complete": complete, "records": records}

    # -- pipeline --------------------------------------------------------------------------------------
    def action_list_opportunities(self, params: Any, steps: StepLog) -> dict[str, Any]:
        conds = close_date_range(params.close_date_from, params.close_date_to)
        if params.stage_names:
            conds.append(f"StageName IN ({', '.join(soql_literal(s) for s in params.stage_names)})")
        if params.owner_id:
            conds.append(f"OwnerId = {soql_literal(params.owner_id)}")
        if params.is_closed is not None:
            conds.append(f"IsClosed = {soql_literal(params.is_closed)}")
        soql = (f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity{where(conds)} "
                f"ORDER BY CloseDate ASC, Id ASC LIMIT {params.limit}")
        records, total, _ = self._query(soql, params.limit)
        with expect_shape(self.provider, "GET /query (Opportunity)"):
            return {"total_size": total, "opportunities": [opportunity(r) for r in records]}

    def action_pipeline_summary(self, params: Any, steps: StepLog) -> dict[str, Any]:
        select, group, keys = GROUPINGS[params.group_by]
        conds = close_date_range(params.close_date_from, params.close_date_to)
        if not params.include_closed:
            conds.append("IsClosed = false")
        soql = (f"SELECT {select}, COUNT(Id) cnt, SUM(Amount) total FROM Opportunity{where(conds)} "
                f"GROUP BY {group}")
        rows, _, _ = self._query(soql, 2000)
        with expect_shape(self.provider, "GET /query (aggregate)"):
            groups = [{"key": group_key(r, keys), "count": int(r["cnt"]),
                       "amount": float(r.get("total") or 0)} for r in rows]
        if params.group_by == "close_month":
            groups.sort(key=lambda g: str(g["key"] or ""))
        else:
            groups.sort(key=lambda g: -g["amount"])
        return {"group_by": params.group_by, "include_closed": params.include_closed, "groups": groups,
                "total_count": sum(g["count"] for g in groups),
                "total_amount": round(sum(g["amount"] for g in groups), 2)}

    # -- reports ---------------------------------------------------------------------------------------
    def action_run_report(self, params: Any, steps: StepLog) -> dict[str, Any]:
        path = f"/analytics/reports/{params.report_id}"
        query = {"includeDetails": "true" if params.include_details else "false"}
        if not params.filters:
            data = self.json("GET", path, params=query)
        else:  # the POST body is the report's metadata with this run's filters in it
            describe = self.json("GET", f"{path}/describe")
            metadata = dict(require(describe, "reportMetadata", self.provider, f"GET {path}/describe"))
            new = [f.model_dump() for f in params.filters]
            columns = {f["column"] for f in new}
            kept = [f for f in metadata.get("reportFilters") or [] if f.get("column") not in columns]
            metadata["reportFilters"] = kept + new
            data = self.json("POST", path, params=query, json={"reportMetadata": metadata})
        with expect_shape(self.provider, f"GET {path}"):
            return report_result(data)


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = SalesforceClient
