"""Ahrefs API v3 client (Site Explorer): backlinks, referring domains, Domain Rating, overview metrics,
organic competitors and organic keywords.

Bearer API key. Errors are JSON ``{"error": "..."}``; there are no rate-limit headers, so a 429 waits for
its Retry-After when one is sent and the default delay otherwise. Every request spends API units (at
least 50, cache hits free); the metering header ``x-api-units-cost-total-actual`` is summed into each
result's ``units_cost``. List reports take ``limit`` rows in one request (no offset paging in v3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from workers.errors import MalformedResponse
from workers.providers.base import ProviderClient, StepLog, require

#: Ahrefs uses ISO country codes; ``uk`` (Semrush's name) means ``gb``.
COUNTRIES = {"uk": "gb"}
#: Columns ``organic_keywords`` always asks for: the keyword rows every caller relies on.
KEYWORD_COLUMNS = ("keyword", "best_position", "best_position_url", "volume", "sum_traffic")
#: Ahrefs column -> our name in ``organic_keywords`` rows.
KEYWORD_NAMES = {"best_position": "position", "best_position_url": "url", "sum_traffic": "traffic"}
COMPETITOR_COLUMNS = ("competitor_domain", "domain_rating", "keywords_common", "keywords_competitor",
                      "keywords_target", "share", "traffic")


def country(value: str | None) -> str | None:
    """The Ahrefs country code for ``value``."""
    return COUNTRIES.get(value, value) if value else value


class AhrefsClient(ProviderClient):
    """Ahrefs API v3 over a bearer API key."""

    provider: ClassVar[str] = "ahrefs"


    def test_connection(self) -> dict[str, Any]:
        """Plan limits and units used (costs no units)."""
        data = self.send_test_call()
        usage = require(data, "limits_and_usage", self.provider, "GET /subscription-info/limits-and-usage")
        if not isinstance(usage, Mapping):
            raise MalformedResponse("ahrefs answered limits-and-usage without an object")
        keys = ("subscription", "usage_reset_date", "units_limit_workspace", "units_usage_workspace",
                "units_limit_api_key", "units_usage_api_key", "api_key_expiration_date")
        return {k: usage.get(k) for k in keys}

    # -- helpers --------------------------------------------------------------------------------------
    def _get(self, path: str, key: str, params: Mapping[str, Any]) -> tuple[Any, int]:
        """``data[key]`` of one report and the units it cost."""
        query = {k: v for k, v in params.items() if v is not None}
        response = self.request("GET", path, params=query)
        try:
            body = response.json()
        except ValueError:
            raise MalformedResponse(f"ahrefs sent a body that is not JSON on GET {path}",
                                    status=response.status_code) from None
        value = require(body, key, self.provider, f"GET {path}")
        return value, _units(response)

    def _rows(self, path: str, key: str, params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        rows, cost = self._get(path, key, params)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise MalformedResponse(f"ahrefs answered GET {path} with {key!r} that is not a list of rows")
        return rows, cost

    @staticmethod
    def _day(value: Any) -> str:
        return (value or datetime.now(UTC).date()).isoformat()

    # -- actions --------------------------------------------------------------------------------------
    def action_backlinks(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"target": params.target, "mode": params.mode, "select": _csv(params.select),
                 "aggregation": params.aggregation, "history": params.history, "where": params.where,
                 "order_by": params.order_by, "limit": params.limit, "output": "json"}
        rows, cost = self._rows("/site-explorer/all-backlinks", "backlinks", query)
        return {"target": params.target, "backlinks": rows, "count": len(rows), "units_cost": cost}

    def action_referring_domains(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"target": params.target, "mode": params.mode, "select": _csv(params.select),
                 "history": params.history, "order_by": params.order_by, "limit": params.limit,
                 "output": "json"}
        rows, cost = self._rows("/site-explorer/refdomains", "refdomains", query)
        return {"target": params.target, "refdomains": rows, "count": len(rows), "units_cost": cost}

    def action_domain_rating(self, params: Any, steps: StepLog) -> dict[str, Any]:
        day = self._day(params.date)
        data, cost = self._get("/site-explorer/domain-rating", "domain_rating",
                               {"target": params.target, "date": day, "output": "json"})
        if not isinstance(data, Mapping):
            raise MalformedResponse("ahrefs answered GET /site-explorer/domain-rating without an object")
        return {"target": params.target, "date": day, "domain_rating": data.get("domain_rating"),
                "ahrefs_rank": data.get("ahrefs_rank"), "units_cost": cost}

    def action_site_explorer_overview(self, params: Any, steps: StepLog) -> dict[str, Any]:
        day, where = self._day(params.date), country(params.country)
        base = {"target": params.target, "mode": params.mode, "date": day, "output": "json"}
        organic, cost = self._get("/site-explorer/metrics", "metrics", {**base, "country": where})
        links, more = self._get("/site-explorer/backlinks-stats", "metrics", base)
        if not isinstance(organic, Mapping) or not isinstance(links, Mapping):
            raise MalformedResponse("ahrefs answered the overview metrics without an object")
        return {"target": params.target, "mode": params.mode, "date": day, "country": where,
                "organic": dict(organic), "backlinks": dict(links), "units_cost": cost + more}

    def action_organic_competitors(self, params: Any, steps: StepLog) -> dict[str, Any]:
        where = country(params.country)
        query = {"target": params.target, "mode": params.mode, "country": where,
                 "date": self._day(params.date), "select": _csv(COMPETITOR_COLUMNS),
                 "order_by": "keywords_common:desc", "limit": params.limit, "output": "json"}
        rows, cost = self._rows("/site-explorer/organic-competitors", "competitors", query)
        return {"target": params.target, "country": where, "competitors": rows, "count": len(rows),
                "units_cost": cost}

    def action_organic_keywords(self, params: Any, steps: StepLog) -> dict[str, Any]:
        """Keyword rows with ``keyword, position, volume, traffic, url`` plus any other selected column."""
        where = country(params.country)
        columns = list(dict.fromkeys([*KEYWORD_COLUMNS, *params.select]))
        query = {"target": params.target, "mode": params.mode, "country": where,
                 "date": self._day(params.date), "select": _csv(columns), "order_by": params.order_by,
                 "limit": params.limit, "output": "json"}
        rows, cost = self._rows("/site-explorer/organic-keywords", "keywords", query)
        keywords = [{KEYWORD_NAMES.get(k, k): v for k, v in row.items()} for row in rows]
        return {"target": params.target, "country": where, "keywords": keywords, "count": len(keywords),
                "units_cost": cost}


def _csv(values: Iterable[str]) -> str:
    return ",".join(v.strip() for v in values if v.strip())


def _units(response: httpx.Response) -> int:
    """Units a request cost (the actual cost: cache hits are free), 0 when not said."""
    for name in ("x-api-units-cost-total-actual", "x-api-units-cost-total"):
        try:
            return int(response.headers[name])
        except (KeyError, ValueError):
            continue
    return 0


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = AhrefsClient
