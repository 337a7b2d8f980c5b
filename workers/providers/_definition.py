"""Execute a provider definition: auth headers, rate-limit headers, error text and JSON paths.

The pure half of what :class:`workers.providers.base.ProviderClient` does with a
:class:`config.providers.ProviderDefinition`; each function reads the definition and a response or the
credentials, never the network.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from config.providers import Errors, Pagination, ProviderDefinition, RateLimits, placeholders
from workers.errors import CredentialsUnavailable
from workers.providers._parse import float_or_none

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_path(body: Any, path: str) -> Any:
    """The value at a dotted path (``error.message``, ``errors[0].code``, ``[0].message``), or None."""
    value = body
    for key, index in _STEP.findall(path):
        if key:
            value = value.get(key) if isinstance(value, Mapping) else None
        else:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        if value is None:
            return None
    return value


def fill(template: str, values: Mapping[str, str]) -> str | None:
    """``template`` with its ``{fields}`` filled from ``values``, or None when one of them is unset."""
    names = placeholders(template)
    if any(not values.get(n) for n in names):
        return None
    return template.format(**{n: values[n] for n in names})


def auth_headers(defn: ProviderDefinition, creds: Mapping[str, str]) -> dict[str, str]:
    """Every header the definition sends: its fixed headers, then the credential in the auth header."""
    headers = {k: v for k, tmpl in defn.headers.items() if (v := fill(tmpl, creds) or "")}
    auth = defn.auth
    if auth.mode == "query":
        return headers
    missing = sorted(f for f in auth.fields if not creds.get(f))
    if missing and auth.mode != "oauth2":  # an OAuth client refreshes a missing access token first
        raise CredentialsUnavailable(f"{defn.id} credentials need {' and '.join(missing)}")
    if auth.mode == "basic":
        raw = f"{fill(auth.username, creds)}:{fill(auth.password, creds)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        value = creds.get(auth.field, "")
        headers[auth.header] = f"{auth.scheme} {value}" if auth.scheme else value
    return headers


def auth_params(defn: ProviderDefinition, creds: Mapping[str, str]) -> dict[str, str]:
    """Query parameters that authenticate a request (``query`` auth only)."""
    if defn.auth.mode != "query":
        return {}
    if not (value := creds.get(defn.auth.field)):
        raise CredentialsUnavailable(f"{defn.id} credentials have no {defn.auth.field}")
    return {defn.auth.param: value}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _first(headers: httpx.Headers, names: tuple[str, ...]) -> float | None:
    return next((v for n in names if (v := float_or_none(headers.get(n))) is not None), None)


def reset_delay(limits: RateLimits, headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds until the window resets, from Retry-After first, then the reset header in its unit."""
    delay = parse_retry_after(headers.get("retry-after")) if limits.retry_after else None
    if delay is not None or (reset := _first(headers, limits.reset)) is None:
        return delay
    if limits.reset_unit == "epoch":
        return max(0.0, reset - (time.time() if now is None else now))
    return reset / 1000 if limits.reset_unit == "ms" else max(0.0, reset)


def header_limits(limits: RateLimits, headers: httpx.Headers) -> tuple[float | None, float | None, float | None]:
    """(limit, remaining, seconds to reset) read from the definition's header names."""
    return _first(headers, limits.limit), _first(headers, limits.remaining), reset_delay(limits, headers)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when there is none."""
    try:
        return response.json()
    except ValueError:
        return None


def error_text(defn: ProviderDefinition, response: httpx.Response) -> tuple[str, str | None]:
    """The message and code found at the definition's error paths; the raw text when none is found."""
    body = json_body(response)
    if body is None:
        return response.text, None
    errs = defn.errors
    details = _details(errs, body)
    paths = [p for p in errs.message if not (details and errs.details and p.startswith(errs.details))]
    message = _text(next((v for p in paths if (v := json_path(body, p)) not in (None, "")), None))
    code = next((v for p in errs.code if (v := json_path(body, p)) not in (None, "")), None)
    code_text = None if code is None else str(code)
    text = ": ".join(p for p in (message, details) if p)
    if not text:
        return response.text, code_text
    return (f"{code_text}: {text}" if errs.code_prefix and code_text else text), code_text


def _text(value: Any) -> str | None:
    """A message as text: a string or number, or a list of them joined; None for anything else."""
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return "; ".join(map(str, value))
    return None if value is None or isinstance(value, Mapping | list) else str(value)


def _details(errs: Errors, body: Any) -> str:
    """The field errors at ``errs.details`` as ``field: message; ...`` (empty when there are none)."""
    items = json_path(body, errs.details) if errs.details else None
    return "; ".join(_detail(errs, e) for e in items if isinstance(e, Mapping | str)) \
        if isinstance(items, list) else ""


def _detail(errs: Errors, entry: Mapping[str, Any] | str) -> str:
    if isinstance(entry, str):
        return entry
    field, message = entry.get(errs.detail_field), entry.get(errs.detail_message)
    return f"{field}: {message}" if field else str(message)


def error_in_200(defn: ProviderDefinition, response: httpx.Response) -> bool:
    """Whether a 2xx JSON body reports an error the way the definition's ``in_200`` says."""
    rule = defn.errors.in_200
    if rule is None or not response.content:
        return False
    body = json_body(response)
    return isinstance(body, Mapping) and rule.failed(json_path(body, rule.path))


def page_query(pg: Pagination, params: Mapping[str, Any] | None, size: int, position: Any,
                done: int) -> dict[str, Any]:
    """The query of the next page: the caller's params, the page size, and the cursor/offset/page."""
    query = {**(params or {}), pg.limit_param: size}
    if pg.style == "offset":
        query[pg.cursor_param] = done
    elif pg.style == "page":
        query[pg.cursor_param] = position or 1
    elif pg.style == "cursor" and position:
        query[pg.cursor_param] = position
    return query


def next_page(pg: Pagination, response: httpx.Response, body: Any, path: str, position: Any,
               short: bool) -> tuple[str | None, Any]:
    """Where the next page is (None: no more) and its cursor or page number."""
    if pg.more and not json_path(body, pg.more):
        return None, None
    link = response.links.get("next", {}).get("url") if pg.next == "link:next" else None
    if pg.style == "cursor":
        cursor = json_path(body, pg.next)
        return (path, cursor) if cursor else (None, None)
    if pg.style == "next_link":
        nxt = link or json_path(body, pg.next)
        return (str(nxt), None) if nxt else (None, None)
    if pg.style in ("offset", "page") and not short and (pg.next != "link:next" or link):
        return path, (position or 1) + 1
    return None, None
