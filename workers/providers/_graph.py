"""Meta Graph API shapes shared by the Facebook and Instagram clients: errors, usage headers, paging.

Graph errors look like ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``. Throttles
come back as codes 4, 17, 32, 613 and the 80000-series (Business Use Case limits), usually with HTTP 400 or
403, so the code decides, not the status. Usage is reported in JSON headers: ``X-App-Usage`` (percent),
``X-Business-Use-Case-Usage`` (per business object, ``estimated_time_to_regain_access`` in minutes),
``X-Ad-Account-Usage`` (``acc_id_util_pct``, ``reset_time_duration`` in seconds) and
``X-FB-Ads-Insights-Throttle`` (``app_id_util_pct``, ``acc_id_util_pct``). Edges page with
``paging.cursors.after``, and ``paging.next`` is absent on the last page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from config.logging import redact_text
from workers.errors import AgentError, AuthError, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers._parse import json_dict
from workers.providers.base import (
    DEFAULT_RETRY_AFTER,
    ProviderClient,
    RateLimit,
    expect_shape,
    parse_retry_after,
)

#: Graph error codes that mean "throttled" (plus the 80000-80014 Business Use Case codes).
THROTTLE_CODES = frozenset({4, 17, 32, 613})
#: Graph error codes that mean the token is invalid, expired, missing or lacks a permission.
AUTH_CODES = frozenset({10, 102, 190, 2500, *range(200, 300)})
#: Graph error codes for a temporary fault at Meta.
TRANSIENT_CODES = frozenset({1, 2})
#: The JSON usage headers that hold one usage object each (Instagram sends only the first).
USAGE_HEADERS = ("x-app-usage", "x-ad-account-usage", "x-fb-ads-insights-throttle")
#: Keys of the usage objects that are percentages of a limit.
_PERCENT_KEYS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct")


class GraphObjectMissing(ProviderRejected):
    """Graph answered that the object does not exist (or the token cannot see it)."""


def is_throttle(code: Any, last_buc_code: int = 80014) -> bool:
    """Whether a Graph error code is one of Meta's rate-limit codes."""
    return code in THROTTLE_CODES or (isinstance(code, int) and 80000 <= code <= last_buc_code)


def graph_error(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a Graph answer, or None."""
    body = json_dict(response) or {}
    error = body.get("error")
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


def usage_entries(headers: httpx.Headers, names: tuple[str, ...] = USAGE_HEADERS) -> list[dict[str, Any]]:
    """Every usage object of the ``names`` headers and ``X-Business-Use-Case-Usage``, flattened."""
    entries: list[dict[str, Any]] = []
    for name in names:
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


def usage_rate_limit(headers: httpx.Headers, names: tuple[str, ...] = USAGE_HEADERS) -> RateLimit | None:
    """Percent left of the most used limit, and the longest wait any header asks for."""
    entries = usage_entries(headers, names)
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


class GraphClient(ProviderClient):
    """Base of the Graph API clients: errors mapped by Graph code first, and cursor-paginated edges."""

    #: Items asked for per page of a cursor-paginated edge.
    PAGE_SIZE: ClassVar[int] = 100
    #: Last code of the 80000-series the client treats as a Business Use Case throttle.
    LAST_BUC_CODE: ClassVar[int] = 80014
    #: (code, subcode) pairs raised as :class:`GraphObjectMissing` instead of :class:`ProviderRejected`.
    MISSING: ClassVar[frozenset[tuple[int, int | None]]] = frozenset()
    #: The JSON usage headers this API sends (besides ``X-Business-Use-Case-Usage``).
    USAGE: ClassVar[tuple[str, ...]] = USAGE_HEADERS

    def rate_limit(self, response: httpx.Response) -> RateLimit | None:
        """Meta reports usage as percentages in JSON headers, which no definition header name can say."""
        return usage_rate_limit(response.headers, self.USAGE)

    def error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        """Kept: the text names the Graph type, code and subcode together (``OAuthException (code 190, ...)``)."""
        error = graph_error(response)
        if error is None:
            return response.text, None
        return describe(error), None if error.get("code") is None else str(error.get("code"))

    def error_for(self, response: httpx.Response) -> AgentError | None:
        """Map by Graph error code first: throttles and auth errors come back as 400 or 403 too."""
        status, error = response.status_code, graph_error(response)
        if status < 400 or error is None:
            return super().error_for(response)
        text, code_text = self.error_text(response)
        message, code = f"{self.provider} answered {status}: {redact_text(text)[:300]}", error.get("code")
        kw: dict[str, Any] = {"status": status, "provider_code": code_text}
        if is_throttle(code, self.LAST_BUC_CODE):
            rl = self.rate_limit(response)
            delay = rl.reset_after if rl and rl.reset_after is not None else DEFAULT_RETRY_AFTER
            return RateLimited(message, retry_after=delay, **kw)
        if code in AUTH_CODES or status == 401:
            return AuthError(message, **kw)
        if code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            return ProviderUnavailable(message, **kw)
        if (code, error.get("error_subcode")) in self.MISSING or (code, None) in self.MISSING:
            return GraphObjectMissing(message, **kw)
        return ProviderRejected(message, **kw)

    def pages(self, path: str, limit: int, params: Mapping[str, Any], *,
              call: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` items of a cursor-paginated edge, read with ``call`` (default :meth:`json`)."""
        call = call or self.json
        items: list[dict[str, Any]] = []
        after: str | None = None
        while len(items) < limit:
            query = {**params, "limit": min(self.PAGE_SIZE, limit - len(items))}
            if after:
                query["after"] = after
            page = call("GET", path, params=query)
            with expect_shape(self.provider, f"GET {path}"):
                batch = list(page["data"])
                paging = page.get("paging") or {}
                after = (paging.get("cursors") or {}).get("after")
            items.extend(batch)
            if not batch or not after or not paging.get("next"):
                break
        return items[:limit]
