"""The HubSpot client's foundation: OAuth, error and rate-limit shapes, paging, CRM reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from config.logging import redact_text
from config.providers import definition
from workers.errors import AgentError, RateLimited
from workers.providers._hubspot_shape import body_of, crm_object
from workers.providers._parse import int_or_none
from workers.providers.base import MAX_ERROR_TEXT, RateLimit, expect_shape, parse_retry_after, require
from workers.providers.oauth import OAuth2Client

#: The window HubSpot throttles in when it names no delay (ten seconds, rolling).
SECONDLY_WINDOW = 10.0
#: CRM search returns at most this many results per query, whatever the paging.
SEARCH_CAP = 10_000


class HubSpotBase(OAuth2Client):
    """HubSpot with an OAuth 2.0 bearer token (30-minute access tokens, refreshed through /oauth/v3/token)."""

    provider: ClassVar[str] = "hubspot"
    #: Page sizes: CRM object lists (the definition's, max 100) and CRM search (max 200).
    PAGE_SIZE: ClassVar[int] = definition("hubspot").pagination.page_size
    SEARCH_PAGE: ClassVar[int] = 200

    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Kept: the ten-second window's interval (ms) is the delay once remaining is 0; else the daily pair."""
        h = response.headers
        retry = parse_retry_after(h.get("retry-after"))
        limit = (int_or_none(h.get("x-hubspot-ratelimit-max"))
                 or int_or_none(h.get("x-hubspot-ratelimit-daily")))
        remaining = int_or_none(h.get("x-hubspot-ratelimit-remaining"))
        if remaining is None:
            remaining = int_or_none(h.get("x-hubspot-ratelimit-daily-remaining"))
        interval = int_or_none(h.get("x-hubspot-ratelimit-interval-milliseconds"))
        if retry is None and remaining == 0 and interval:
            retry = interval / 1000
        if retry is None and limit is None and remaining is None:
            return None
        return RateLimit(limit=limit, remaining=remaining, reset_after=retry)

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: category, message, every sub-error and the correlationId HubSpot support asks for."""
        body = body_of(response)
        if not isinstance(body, dict) or "message" not in body:
            return response.text, None
        code = body.get("category") or body.get("errorType") or body.get("status")
        details = "; ".join(str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict))
        text = f"{code}: {body['message']}" + (f" ({details})" if details else "")
        if body.get("correlationId"):
            text += f" [correlationId {body['correlationId']}]"
        return text, None if code is None else str(code)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """A 429 (or ``errorType: RATE_LIMIT``) waits for Retry-After, else the day's end or the window."""
        body = body_of(response)
        limited = isinstance(body, dict) and body.get("errorType") == "RATE_LIMIT"
        if response.status_code != 429 and not (limited and response.status_code >= 400):
            return super().error_for(response)
        text, code = self.error_text(response)
        rl = self.rate_limit(response)
        if rl and rl.reset_after is not None:
            delay = rl.reset_after
        elif isinstance(body, dict) and body.get("policyName") == "DAILY":
            now = datetime.now(UTC)
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            delay = max(60.0, (tomorrow - now).total_seconds())  # the account's midnight is not known here
        else:
            delay = SECONDLY_WINDOW
        clipped = redact_text(" ".join(text.split()))[:MAX_ERROR_TEXT]
        message = f"hubspot answered {response.status_code}: {clipped}"
        return RateLimited(message, retry_after=delay, status=response.status_code,
                           provider_code=code or "RATE_LIMIT")

    def test_connection(self) -> dict[str, Any]:
        """Kept: the portal's id, type, time zone, currency and data-hosting location from the answer."""
        info = self.send_test_call()
        return {"portal_id": require(info, "portalId", self.provider, "GET /account-info/v3/details"),
                "account_type": info.get("accountType"), "time_zone": info.get("timeZone"),
                "currency": info.get("companyCurrency"), "ui_domain": info.get("uiDomain"),
                "data_hosting_location": info.get("dataHostingLocation")}

    # -- paging ----------------------------------------------------------------------------------------
    def _list(self, path: str, limit: int, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a GET collection (the definition's cursor paging, ``paging.next.after``)."""
        return self.paginate(path, params, limit=limit, page_size=self.PAGE_SIZE)

    def _search(self, object_type: str, body: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` results of a CRM search (HubSpot stops at 10,000), and its ``total``."""
        path = f"/crm/v3/objects/{object_type}/search"
        items: list[dict[str, Any]] = []
        after, total = 0, 0
        while len(items) < limit and after < SEARCH_CAP:
            size = min(self.SEARCH_PAGE, limit - len(items), SEARCH_CAP - after)
            paging = {"limit": size, **({"after": str(after)} if after else {})}
            page = self.json("POST", path, json={**body, **paging})
            with expect_shape(self.provider, f"POST {path}"):
                batch, total = list(page["results"]), int(page.get("total", 0))
                nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
            items.extend(batch)
            if not batch or nxt is None or not str(nxt).isdigit():
                break
            after = int(nxt)
        return items[:limit], total

    # -- CRM records -----------------------------------------------------------------------------------
    def _get(self, object_type: str, object_id: str, properties: list[str]) -> dict[str, Any]:
        path = f"/crm/v3/objects/{object_type}/{quote(object_id, safe='')}"
        with expect_shape(self.provider, f"GET {path}"):
            return crm_object(self.json("GET", path, params={"properties": ",".join(properties)}))

    def _patch(self, object_type: str, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        path = f"/crm/v3/objects/{object_type}/{quote(object_id, safe='')}"
        with expect_shape(self.provider, f"PATCH {path}"):
            return crm_object(self.json("PATCH", path, json={"properties": properties}))

    def _contact_id(self, email: str) -> str | None:
        """The id of the contact with this e-mail, or None."""
        body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
                "properties": ["email"]}
        found, _ = self._search("contacts", body, 1)
        return str(found[0]["id"]) if found else None
