"""Meta Graph API shapes for the Facebook client: error objects, throttle codes and usage headers.

Graph errors look like ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``. Throttles
come back as codes 4, 17, 32, 613 and the 80000-series (Business Use Case limits), usually with HTTP 400 or
403, so the code decides, not the status. Usage is reported in JSON headers: ``X-App-Usage`` (percent),
``X-Business-Use-Case-Usage`` (per business object, ``estimated_time_to_regain_access`` in minutes),
``X-Ad-Account-Usage`` (``acc_id_util_pct``, ``reset_time_duration`` in seconds) and
``X-FB-Ads-Insights-Throttle`` (``app_id_util_pct``, ``acc_id_util_pct``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from workers.errors import ProviderRejected
from workers.providers.base import RateLimit, parse_retry_after

#: Graph error codes that mean "throttled" (plus the 80000-80014 Business Use Case codes).
THROTTLE_CODES = frozenset({4, 17, 32, 613})
#: Graph error codes that mean the token is invalid, expired, missing or lacks a permission.
AUTH_CODES = frozenset({10, 102, 190, 2500, *range(200, 300)})
#: Graph error codes for a temporary fault at Meta.
TRANSIENT_CODES = frozenset({1, 2})
#: (code, subcode) pairs meaning "this object does not exist or this token cannot see it".
MISSING = frozenset({(100, 33), (803, None)})
#: Keys of the usage objects that are percentages of a limit.
_PERCENT_KEYS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct")


class GraphObjectMissing(ProviderRejected):
    """Graph answered that the object does not exist (or the token cannot see it)."""


def is_throttle(code: Any) -> bool:
    """Whether a Graph error code is one of Meta's rate-limit codes."""
    return code in THROTTLE_CODES or (isinstance(code, int) and 80000 <= code <= 80014)


def graph_error(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a Graph answer, or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def describe(error: dict[str, Any]) -> str:
    """``OAuthException (code 190, subcode 463): message`` for an error object."""
    code, sub = error.get("code"), error.get("error_subcode")
    where = f"code {code}" + (f", subcode {sub}" if sub else "")
    return f"{error.get('type', 'GraphError')} ({where}): {error.get('message', '')}"


def _json_header(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def usage_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    """Every usage object of the four Meta usage headers, flattened."""
    entries: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-ad-account-usage", "x-fb-ads-insights-throttle"):
        value = _json_header(headers.get(name))
        if isinstance(value, dict):
            entries.append(value)
    buc = _json_header(headers.get("x-business-use-case-usage"))
    for group in buc.values() if isinstance(buc, dict) else ():
        entries.extend(e for e in (group if isinstance(group, list) else [group]) if isinstance(e, dict))
    return entries


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def usage_rate_limit(headers: httpx.Headers) -> RateLimit | None:
    """Percent left of the most used limit, and the longest wait any header asks for."""
    entries = usage_entries(headers)
    retry = parse_retry_after(headers.get("retry-after"))
    if not entries:
        return None if retry is None else RateLimit(reset_after=retry)
    used = [n for e in entries for k in _PERCENT_KEYS if (n := _number(e.get(k))) is not None]
    waits = [n * 60 for e in entries if (n := _number(e.get("estimated_time_to_regain_access")))]
    waits += [n for e in entries if (n := _number(e.get("reset_time_duration")))]
    waits += [retry] if retry is not None else []
    remaining = max(0, 100 - int(max(used))) if used else None
    return RateLimit(limit=100 if used else None, remaining=remaining,
                     reset_after=max(waits) if waits else None)
