"""Shared Google API client machinery: OAuth 2.0 against oauth2.googleapis.com, the standard error body,
and quota errors.

Google sends no rate-limit headers. A quota error (429 ``RESOURCE_EXHAUSTED``, or 403 with reason
``rateLimitExceeded``/``userRateLimitExceeded``/``quotaExceeded``) becomes :class:`QuotaExhausted`: its
delay is ``Retry-After`` when present, the time to midnight Pacific for a daily quota, else an exponential
default that doubles with every throttle of the same job (counted in the job's :class:`StepLog`).
Refresh tokens are not rotated: the token response omits ``refresh_token`` and the old one stays valid.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from config.logging import redact_text
from workers.errors import AgentError, RateLimited
from workers.providers._parse import json_dict
from workers.providers.base import StepLog, parse_retry_after
from workers.providers.oauth import OAuth2Client

#: Google's OAuth 2.0 token endpoint.
#: ``errors[].reason`` / ``ErrorInfo.reason`` values that mean "quota exceeded, try later".
QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                           "dailyLimitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"})
#: First fallback delay (s) for a quota error without Retry-After; doubles per throttle of the same job.
BACKOFF_BASE = 30.0
#: Longest fallback delay (s): Search Console asks to wait 15 minutes after a load-quota error.
BACKOFF_MAX = 900.0
#: Step key counting the throttles a job has met.
THROTTLE_STEP = "google.throttles"
#: Daily Google quotas reset at midnight Pacific time.
PACIFIC = ZoneInfo("America/Los_Angeles")


class QuotaExhausted(RateLimited):
    """A Google quota error; ``from_provider`` is False when the delay is our own guess."""

    def __init__(self, message: str, *, retry_after: float, from_provider: bool, status: int | None = 429,
                 provider_code: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after, status=status, provider_code=provider_code)
        self.from_provider = from_provider


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (site URLs and sitemap URLs go in the path)."""
    return quote(value, safe="")


def google_error(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a Google error body (API or token endpoint), or None."""
    body = json_dict(response) or {}
    error = body.get("error")
    if isinstance(error, str):  # token endpoint: {"error": "invalid_grant", "error_description": ...}
        return {"status": error, "message": body.get("error_description") or error}
    return error if isinstance(error, dict) else None


def error_reasons(error: dict[str, Any]) -> list[str]:
    """Reasons from legacy ``errors[]`` and from ``details[]`` ErrorInfo entries."""
    items = [*(error.get("errors") or []), *(error.get("details") or [])]
    return [str(i["reason"]) for i in items if isinstance(i, dict) and i.get("reason")]


def seconds_to_pacific_midnight(now: datetime | None = None) -> float:
    """Seconds until the next midnight in America/Los_Angeles (when daily quotas reset)."""
    now = now or datetime.now(PACIFIC)
    local = now.astimezone(PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(60.0, (midnight - local).total_seconds())


class GoogleClient(OAuth2Client):
    """Base of the Google API clients: bearer token from a refresh token, Google error and quota mapping."""


    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: the code is the first ``errors[].reason``/ErrorInfo reason (or status), which no path can pick."""
        error = google_error(response)
        if error is None:
            return response.text, None
        reasons = error_reasons(error)
        status = error.get("status")
        text = " ".join(str(p) for p in (status, error.get("message")) if p)
        return text or response.text, reasons[0] if reasons else (str(status) if status else None)

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Quota errors (429, or 403 with a rate-limit reason) are throttles; the rest as the base maps."""
        status = response.status_code
        error = google_error(response) if status >= 400 else None
        if error is None:
            return super().error_for(response)
        quota = status == 429 or error.get("status") == "RESOURCE_EXHAUSTED" or (
            status == 403 and QUOTA_REASONS.intersection(error_reasons(error)))
        if not quota:
            return super().error_for(response)
        text, code = self.error_text(response)
        delay = parse_retry_after(response.headers.get("retry-after"))
        daily = "per day" in text.lower() or "daily" in text.lower()
        guess = seconds_to_pacific_midnight() if daily else BACKOFF_BASE
        return QuotaExhausted(f"{self.provider} answered {status}: {redact_text(text)[:300]}",
                              retry_after=guess if delay is None else delay, from_provider=delay is not None
                              or daily, status=status, provider_code=code)

    def run(self, action: str, params: Any, steps: StepLog) -> Any:
        """Run the action; a quota error without a provider delay backs off exponentially per job."""
        try:
            return super().run(action, params, steps)
        except QuotaExhausted as exc:
            if not exc.from_provider:
                throttles = int(steps.get(THROTTLE_STEP) or 0)
                steps.put(THROTTLE_STEP, throttles + 1)
                exc.retry_after = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** throttles)
            raise
