"""TikTok for Business client (Business API v1.3, TikTok Accounts): account analytics, audience, videos.

TikTok answers HTTP 200 with ``{"code", "message", "request_id", "data"}``; any ``code`` other than 0 is an
error, so errors are read from bodies, not statuses. The access token travels in the ``Access-Token``
header. It lives about 24 h and is renewed through ``POST /tt_user/oauth2/refresh_token/`` (JSON body,
answer inside ``data``), which rotates the refresh token. Every action is a read: nothing to dedupe.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from config.logging import redact_text
from workers.credentials.base import Credentials
from workers.errors import (
    AgentError,
    AuthError,
    GrantRevoked,
    MalformedResponse,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from workers.providers.base import StepLog, expect_shape, require
from workers.providers.oauth import OAuth2Client

#: ``code`` for "too many requests" (per-app QPS/QPM/QPD limits).
RATE_LIMIT_CODE = 40100
#: Codes meaning the access token expired, is missing, or is wrong or revoked: refresh once and replay.
TOKEN_CODES = frozenset({40102, 40104, 40105})
#: Codes meaning the app or the authorization itself is refused: the user must reconnect.
AUTH_CODES = frozenset({40001, 40101, 40103, 40106, 40107, 40110})
#: TikTok sends no rate-limit headers: after code 40100 wait one QPM window unless told otherwise.
THROTTLE_DELAY = 60.0
#: Daily metrics that add up over days (the others are snapshots or rates).
ADDITIVE = frozenset({"video_views", "unique_video_views", "likes", "comments", "shares", "profile_views",
                      "daily_new_followers", "daily_lost_followers", "bio_link_clicks", "email_clicks",
                      "phone_number_clicks", "address_clicks", "lead_submissions", "app_download_clicks"})


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON body when it is TikTok's ``{"code": ...}`` envelope, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("code"), int) else None


class TikTokClient(OAuth2Client):
    """TikTok Business API with the ``Access-Token`` header and the tt_user OAuth refresh."""

    provider: ClassVar[str] = "tiktok"
    #: Largest ``max_count`` of ``/business/video/list/``.
    PAGE_SIZE: ClassVar[int] = 20


    def token_url(self) -> str:
        """The refresh endpoint: the settings override, else beside the API the client talks to."""
        if self._token_url:
            return self._token_url
        base, defn = str(self.http.base_url).rstrip("/"), self.definition()
        return base + self.token.url.removeprefix(defn.base_url) if base else self.token.url

    @property
    def business_id(self) -> str:
        """The TikTok account (open id) the actions read."""
        return self.credential("business_id")

    # -- provider shapes -------------------------------------------------------------------------------
    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: TikTok's envelope code with the request_id TikTok support asks for."""
        body = _envelope(response)
        if body is None:
            return response.text, None
        return f"code {body['code']}: {body.get('message', '')} (request_id {body.get('request_id')})", \
            str(body["code"])

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Map the body's ``code`` (errors come inside HTTP 200 answers), then the HTTP status."""
        body = _envelope(response)
        if body is None or body["code"] == 0:
            return super().error_for(response)
        code = body["code"]
        text, code_text = self.error_text(response)
        message = f"tiktok answered code {code}: {redact_text(text)[:300]}"
        if code == RATE_LIMIT_CODE:
            rl = self.rate_limit(response)
            delay = rl.reset_after if rl and rl.reset_after is not None else THROTTLE_DELAY
            return RateLimited(message, retry_after=delay, status=response.status_code,
                               provider_code=code_text)
        if code in TOKEN_CODES:  # status 401 lets OAuth2Client refresh once and replay
            return AuthError(message, status=401, provider_code=code_text)
        if code in AUTH_CODES:
            return AuthError(message, status=403, provider_code=code_text)
        if code >= 50000 or response.status_code >= 500:
            return ProviderUnavailable(message, status=response.status_code, provider_code=code_text)
        return ProviderRejected(message, status=response.status_code, provider_code=code_text)

    def data(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET path`` and the ``data`` object of its envelope."""
        body = self.json("GET", path, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise MalformedResponse(f"tiktok answered GET {path} without a data object")
        return body["data"]

    # -- OAuth -----------------------------------------------------------------------------------------
    def fetch_token(self, creds: Credentials) -> Mapping[str, str]:
        """``POST /tt_user/oauth2/refresh_token/`` with a JSON body; the answer sits in ``data``."""
        body = {"client_id": creds.get("client_id", ""), "client_secret": creds.get("client_secret", ""),
                "grant_type": "refresh_token", "refresh_token": creds.get("refresh_token", "")}
        started = time.perf_counter()
        try:
            response = self.http.post(self.token_url(), json=body, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            self._record_token_call(None, started, "network_error")
            raise ProviderUnavailable("tiktok token endpoint unreachable") from None
        error = self.error_for(response)
        self._record_token_call(response.status_code, started, "ok" if error is None else error.kind)
        if isinstance(error, (AuthError, ProviderRejected)):
            raise GrantRevoked(f"tiktok refused the refresh token ({error.message}); the grant was revoked or "
                               "expired: reconnect the integration", status=403, provider_code=error.provider_code)
        if error is not None:
            raise error
        try:
            data = response.json()["data"]
            values = {"access_token": str(data["access_token"])}
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse("tiktok token endpoint answered without data.access_token") from None
        if data.get("refresh_token"):
            values["refresh_token"] = str(data["refresh_token"])
        if data.get("expires_in"):
            values["expires_at"] = str(int(time.time() + float(data["expires_in"])))
        values["refreshed_at"] = str(int(time.time()))  # its 365-day unused-expiry restarts
        return values

    def test_connection(self) -> dict[str, Any]:
        """Kept: the account's display name and username from the envelope's ``data``."""
        data = require(self.send_test_call(), "data", self.provider, "GET /business/get/")
        return {"business_id": self.business_id, "display_name": data.get("display_name"),
                "username": data.get("username")}

    # -- actions ---------------------------------------------------------------------------------------
    def _account(self, params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Account-level fields and the daily ``metrics`` of ``/business/get/`` for the params' dates."""
        query = {"business_id": self.business_id, "fields": json.dumps(list(params.fields)),
                 "start_date": params.start_date.isoformat(), "end_date": params.end_date.isoformat()}
        data = self.data("/business/get/", query)
        with expect_shape(self.provider, "GET /business/get/"):
            daily = sorted((dict(d) for d in data.get("metrics") or []), key=lambda d: str(d.get("date")))
        return {k: v for k, v in data.items() if k != "metrics"}, daily

    def action_get_performance_analytics(self, params: Any, steps: StepLog) -> dict[str, Any]:
        account, daily = self._account(params)
        totals: dict[str, float] = {}
        for day in daily:
            for name, value in day.items():
                if name in ADDITIVE and isinstance(value, (int, float)):
                    totals[name] = totals.get(name, 0) + value
        return {"business_id": self.business_id, "start_date": params.start_date.isoformat(),
                "end_date": params.end_date.isoformat(), "account": account, "daily": daily, "totals": totals}

    def action_get_audience_insights(self, params: Any, steps: StepLog) -> dict[str, Any]:
        account, daily = self._account(params)
        by_hour: dict[str, int] = {}
        with expect_shape(self.provider, "GET /business/get/ audience_activity"):
            for day in daily:
                for slot in day.get("audience_activity") or []:
                    hour = str(slot["hour"])
                    by_hour[hour] = by_hour.get(hour, 0) + int(slot.get("count") or 0)
        result = {"business_id": self.business_id, "start_date": params.start_date.isoformat(),
                  "end_date": params.end_date.isoformat(), "audience": account}
        if "audience_activity" in params.fields:
            result["activity_by_hour"] = dict(sorted(by_hour.items(), key=lambda kv: int(kv[0])))
        return result

    def action_list_videos(self, params: Any, steps: StepLog) -> dict[str, Any]:
        query = {"business_id": self.business_id, "fields": json.dumps(list(params.fields))}
        videos = self.paginate("/business/video/list/", query, limit=params.limit, page_size=self.PAGE_SIZE)
        return {"business_id": self.business_id, "videos": videos, "count": len(videos)}


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = TikTokClient
