"""Semrush client: Standard (Analytics) API reports, Site Audit and Position Tracking (Projects API).

The API key travels in the ``key`` query parameter, never in a path or a message (the audit trail keeps
paths without query strings). Reports are semicolon-separated text; errors are ``ERROR nn :: TEXT``
bodies, usually inside HTTP 200 answers: a wrong key is an :class:`AuthError`, ``NOTHING FOUND`` is an
empty result, used-up units or request limits are :class:`RateLimited`. A Site Audit is launched once
per job: its snapshot id is stored right away, and a retry polls that audit instead of launching another.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from workers.errors import (
    AgentError,
    AuthError,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers import _semrush_shapes as shapes
from workers.providers._polling import poll
from workers.providers.base import ProviderClient, StepLog, expect_shape, require

#: The www host answering the free unit-balance check, beside the API host.
UNITS_URL = "https://www.semrush.com/users/countapiunits.html"
#: The production API host; any other base URL (a simulator, a proxy) serves the balance check itself.
API_HOST = "api.semrush.com"
#: Semrush names the United Kingdom database ``uk``; ISO ``gb`` is accepted for it.
DATABASES = {"gb": "uk", "mobile-gb": "mobile-uk"}
ORGANIC = ("Ph", "Po", "Pp", "Nq", "Cp", "Ur", "Tg", "Tr", "Co", "Kd", "In")
RELATED = ("Ph", "Nq", "Cp", "Co", "Nr", "Td", "Rr", "Kd", "In")
OVERVIEW = ("Ph", "Nq", "Cp", "Co", "Nr", "Td", "In", "Kd")
OVERVIEW_ALL = ("Db", "Dt", "Ph", "Nq", "Cp", "Co", "Nr", "In", "Kd")
COMPETITORS = ("Dn", "Cr", "Np", "Or", "Ot", "Oc", "Ad")


def database(value: str) -> str:
    """The Semrush database code for ``value``."""
    return DATABASES.get(value, value)


def bare_domain(value: str) -> str:
    """``https://www.example.com/x`` -> ``www.example.com``; a bare domain is kept as given."""
    return (urlsplit(value).hostname or value) if "://" in value else value.strip().strip("/")


class SemrushClient(ProviderClient):
    """Semrush over the ``key`` query parameter: text reports plus the JSON Projects API."""

    provider: ClassVar[str] = "semrush"
    #: Most rows asked for in one report call (Semrush answers up to 100,000).
    PAGE_SIZE: ClassVar[int] = 10_000
    #: Rows per Position Tracking page.
    TRACKING_PAGE: ClassVar[int] = 100
    #: Delay when Semrush says "too many requests" without a Retry-After (about 10 requests/s allowed).
    RATE_RETRY: ClassVar[float] = 2.0
    #: Delay when the units balance or a request limit is used up.
    QUOTA_RETRY: ClassVar[float] = 3600.0
    #: Seconds between Site Audit polls (each info call costs 100 units), and the wait before a retry.
    POLL_INTERVAL: ClassVar[float] = 30.0
    POLL_TIMEOUT: ClassVar[float] = 240.0
    #: How recent a finished audit must be to count as the one an interrupted attempt launched (ms).
    ADOPT_WINDOW_MS: ClassVar[int] = 6 * 3600 * 1000

    # -- provider shapes -------------------------------------------------------------------------------

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """``ERROR nn :: TEXT`` or a Projects API ``{"code", "message"}`` body; raw text otherwise."""
        found = _error(response)
        if found is None:
            return response.text, None
        return f"ERROR {found[0]} :: {found[1]}", str(found[0])

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Semrush's own codes first (they come inside HTTP 200 answers too), then the HTTP status."""
        found = _error(response)
        if found is None:
            return super().error_for(response)
        code, text = found
        message = f"semrush answered ERROR {code}: {text[:200]}"
        status = response.status_code
        if code == shapes.NOTHING_FOUND:
            return None  # an empty report, not a failure
        if code in shapes.AUTH_CODES:
            return AuthError(message, status=status, provider_code=str(code))
        if code == 429 or status == 429:
            rl = self.rate_limit(response)
            delay = rl.reset_after if rl and rl.reset_after is not None else self.RATE_RETRY
            return RateLimited(message, retry_after=delay, status=status, provider_code=str(code))
        if code in shapes.QUOTA_CODES:
            return RateLimited(message, retry_after=self.QUOTA_RETRY, status=status, provider_code=str(code))
        if code in shapes.SERVER_CODES or status >= 500:
            return ProviderUnavailable(message, status=status, provider_code=str(code))
        return ProviderRejected(message, status=status, provider_code=str(code))

    def test_connection(self) -> dict[str, Any]:
        """The free unit-balance check (on the www host in production)."""
        host = urlsplit(str(self.http.base_url)).hostname
        url = UNITS_URL if host == API_HOST else "/users/countapiunits.html"
        response = self.request("GET", url)
        balance = shapes.units(response.text)
        if balance is None:
            if response.text.lstrip().startswith("{"):  # the balance check answers a bad key with JSON
                raise AuthError("semrush did not accept the API key (balance check answered an error)",
                                status=response.status_code)
            raise MalformedResponse("semrush answered the unit balance check without a number",
                                    status=response.status_code)
        return {"api_units": balance}

    # -- Standard API ---------------------------------------------------------------------------------
    def _report(self, kind: str, codes: Sequence[str], params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One report call; rows as dicts (none for ``NOTHING FOUND``)."""
        query = {"type": kind, "export_columns": ",".join(codes), "export_escape": 1, **params}
        response = self.request("GET", "/", params=query)
        return shapes.parse_report(response.text, codes, f"type={kind}")

    def _rows(self, kind: str, codes: Sequence[str], params: Mapping[str, Any], limit: int
              ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows; ``display_limit`` is the end row, so a page asks offset..offset+size."""
        rows: list[dict[str, Any]] = []
        while len(rows) < limit:
            size = min(self.PAGE_SIZE, limit - len(rows))
            page = {**params, "display_offset": len(rows), "display_limit": len(rows) + size}
            batch = self._report(kind, codes, page)
            rows.extend(batch)
            if len(batch) < size:
                break
        return rows[:limit]

    def action_keyword_overview(self, params: Any, steps: StepLog) -> dict[str, Any]:
        if params.all_databases:
            rows = self._report("phrase_all", OVERVIEW_ALL, {"phrase": params.phrase})
            return {"phrase": params.phrase, "found": bool(rows), "databases": rows}
        db = database(params.database)
        rows = self._report("phrase_this", OVERVIEW, {"phrase": params.phrase, "database": db})
        return {"phrase": params.phrase, "database": db, "found": bool(rows),
                "overview": rows[0] if rows else None}

    def action_related_keywords(self, params: Any, steps: StepLog) -> dict[str, Any]:
        db = database(params.database)
        rows = self._rows("phrase_related", RELATED, {"phrase": params.phrase, "database": db,
                                                       "display_sort": "nq_desc"}, params.limit)
        return {"phrase": params.phrase, "database": db, "keywords": rows, "count": len(rows)}

    def action_domain_organic_keywords(self, params: Any, steps: StepLog) -> dict[str, Any]:
        db, domain = database(params.database), bare_domain(params.domain)
        rows = self._rows("domain_organic", ORGANIC, {"domain": domain, "database": db,
                                                       "display_sort": params.sort}, params.limit)
        return {"domain": domain, "database": db, "keywords": rows, "count": len(rows)}

    def action_competitors(self, params: Any, steps: StepLog) -> dict[str, Any]:
        db, domain = database(params.database), bare_domain(params.domain)
        rows = self._rows("domain_organic_organic", COMPETITORS, {"domain": domain, "database": db,
                                                                  "display_sort": "np_desc"}, params.limit)
        return {"domain": domain, "database": db, "competitors": rows, "count": len(rows)}

    # -- Projects API ---------------------------------------------------------------------------------
    def _project(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A Projects API call answering a JSON object."""
        data = self.json(method, path, params=dict(params or {}))
        if not isinstance(data, dict):
            raise MalformedResponse(f"semrush answered {method} {_shape(path)} without a JSON object")
        return data

    def _info(self, project_id: int) -> dict[str, Any]:
        info = self._project("GET", f"/reports/v1/projects/{project_id}/siteaudit/info")
        status = require(info, "status", self.provider, "GET /siteaudit/info")
        if not isinstance(status, str):
            raise MalformedResponse(f"semrush answered GET /siteaudit/info with status {status!r}")
        return info

    def action_site_audit_status(self, params: Any, steps: StepLog) -> dict[str, Any]:
        with expect_shape(self.provider, "GET /siteaudit/info"):
            return shapes.audit_summary(params.project_id, self._info(params.project_id))

    def action_site_audit_start(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Launch (or resume) an audit, poll it until FINISHED and return its results."""
        steps.progress("launching site audit", 5.0)
        snapshot_id = self._launched(params.project_id, steps)
        info = self._wait(params.project_id, snapshot_id, steps)
        if snapshot_id is None:  # adopted an audit launched by an interrupted attempt
            snapshot_id = (info.get("current_snapshot") or {}).get("snapshot_id")
            steps.put("snapshot_id", snapshot_id)
        steps.progress("site audit finished", 100.0)
        with expect_shape(self.provider, "GET /siteaudit/info"):
            return {**shapes.audit_summary(params.project_id, info), "launched_snapshot_id": snapshot_id}

    def _launched(self, project_id: int, steps: StepLog) -> str | None:
        """The stored snapshot id, None to adopt the audit an interrupted attempt launched, or a new one."""
        if snapshot_id := steps.get("snapshot_id"):
            return str(snapshot_id)
        if steps.get("adopted"):
            return None
        if steps.intent("launch") and self._adoptable(self._info(project_id)):
            steps.put("adopted", True)  # launched before a crash lost its snapshot id: poll that one
            return None
        data = self._project("POST", f"/reports/v1/projects/{project_id}/siteaudit/launch")
        snapshot_id = str(require(data, "snapshot_id", self.provider, "POST /siteaudit/launch"))
        steps.put("snapshot_id", snapshot_id)
        return snapshot_id

    def _adoptable(self, info: Mapping[str, Any]) -> bool:
        """Whether the project's audit is running, or finished recently enough to be ours."""
        if info["status"] != "FINISHED":
            return True
        last = info.get("last_audit")
        return isinstance(last, int) and last >= time.time() * 1000 - self.ADOPT_WINDOW_MS

    def _wait(self, project_id: int, snapshot_id: str | None, steps: StepLog) -> dict[str, Any]:
        """Poll ``/siteaudit/info`` until the audit is FINISHED; a long crawl is retried (and resumed)."""

        def finished(info: dict[str, Any]) -> bool:
            current = raw if isinstance(raw := info.get("current_snapshot"), dict) else {}
            if info["status"] == "FINISHED" and (snapshot_id is None
                                                 or current.get("snapshot_id") == snapshot_id):
                return True
            done, total = info.get("running_pages_crawled") or 0, info.get("running_pages_limit") or 0
            pct = 10.0 + 85.0 * min(1.0, done / total) if total else 10.0
            steps.progress(f"site audit {info['status']}: {done}/{total or '?'} pages", round(pct, 1))
            return False

        return poll(lambda: self._info(project_id), finished, interval=self.POLL_INTERVAL,
                    timeout=self.POLL_TIMEOUT,
                    what=lambda info: f"semrush site audit of project {project_id} still {info['status']}")

    def action_position_tracking(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query: dict[str, Any] = {"action": "report", "type": "tracking_position_organic", "url": params.url}
        if params.date_begin:
            query["date_begin"] = params.date_begin.strftime("%Y%m%d")
        if params.date_end:
            query["date_end"] = params.date_end.strftime("%Y%m%d")
        rows: list[dict[str, Any]] = []
        total = 0
        path = f"/reports/v1/projects/{params.campaign_id}/tracking/"
        while len(rows) < params.limit:
            size = min(self.TRACKING_PAGE, params.limit - len(rows))
            page = self._project("GET", path, {**query, "display_limit": size, "display_offset": len(rows)})
            with expect_shape(self.provider, "GET /tracking/ (tracking_position_organic)"):
                batch = shapes.tracking_rows(page.get("data"), params.url)
                total = int(page.get("total") or 0)
            rows.extend(batch)
            if len(batch) < size or len(rows) >= total:
                break
        return {"campaign_id": params.campaign_id, "url": params.url, "keywords": rows[:params.limit],
                "total": total}


def _error(response: httpx.Response) -> tuple[int, str] | None:
    """Semrush's error code and text from a text or JSON body, or None."""
    text = response.text
    if found := shapes.error_line(text):
        return found
    if response.status_code < 400 or not text.lstrip().startswith("{"):
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    try:
        return (int(code), str(body.get("message") or "")) if code is not None else None
    except (TypeError, ValueError):
        return None


def _shape(path: str) -> str:
    """A Projects API path with its ids replaced, for messages."""
    return "/".join("{id}" if part.replace("_", "").isdigit() else part for part in path.split("/"))


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = SemrushClient
