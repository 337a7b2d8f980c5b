"""The generic half of a simulated provider, executed from its definition (:mod:`config.providers`).

What every provider does the same way is written once here and read from the definition the worker's
clients execute, so the two cannot drift: the route prefix (``/<id>`` + the real base path), the auth
check (the credential read the way ``auth`` says it is sent, a bad one answered with the provider's 401),
error bodies (message and code put at the ``errors`` paths), throttling (a 429 carries the
``rate_limits`` headers in their unit) and list paging (``pagination``'s params). A provider module
keeps its state and behaviour and builds a :class:`Sim`; where its wire format truly differs from what
the paths can say (an envelope, a list of strings, plain text) it passes a ``body`` override.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from config.providers import ProviderDefinition, definition
from simulator.control import FaultSpec, Reply, fault_headers, state
from simulator.urls import BASES

#: ``body(status, message, code) -> JSON body`` for a provider whose error shape the paths cannot say
#: (a string is a plain-text answer).
BodyBuilder = Callable[[int, str, Any], Any]
#: An error code: a string, or a number where the provider uses one (Graph).
Code = str | int | None


def put(body: Any, path: str, value: Any) -> Any:
    """``body`` with ``value`` set at a definition's JSON path (dotted; ``[0]`` for a list's first item).

    The inverse of the client's lookup, so a body built here reads back at the same path. ``body`` is
    a dict, a list (for a path starting with ``[0]``) or None (a new one is made).
    """
    steps: list[str | int] = [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", path)]
    root = body if body is not None else ([] if isinstance(steps[0], int) else {})
    node: Any = root
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        child: Any = value if following is None else ([] if isinstance(following, int) else {})
        if isinstance(step, int):
            while len(node) <= step:
                node.append(child)
            if following is None:
                node[step] = value
        elif following is None:
            node[step] = value
        else:
            node.setdefault(step, child)
        node = node[step]
    return root


def number(value: float) -> str:
    """A header number as providers write it: ``45`` rather than ``45.0``."""
    return str(int(value) if float(value).is_integer() else value)


def credential(request: Request, defn: ProviderDefinition) -> list[str]:
    """The credential parts the request carries where ``defn.auth`` says they are sent (empty: none).

    ``bearer``/``oauth2``/``header``: the header value after the scheme; ``basic``: user name and
    password; ``query``: the query parameter.
    """
    auth = defn.auth
    if auth.mode == "query":
        value = request.query_params.get(auth.param, "")
        return [value] if value else []
    raw = request.headers.get(auth.header, "").strip()
    if auth.mode == "basic":
        scheme, _, encoded = raw.partition(" ")
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return []
        return [user, password] if scheme.lower() == "basic" and sep and user and password else []
    if auth.scheme:
        scheme, _, raw = raw.partition(" ")
        if scheme.lower() != auth.scheme.lower():
            return []
    return [raw.strip()] if raw.strip() else []


@dataclass(frozen=True)
class Page:
    """One page of a list, read with the definition's ``pagination`` params."""

    items: list[Any]
    start: int
    size: int
    total: int

    @property
    def more(self) -> bool:
        """Whether items remain after this page."""
        return self.start + len(self.items) < self.total


def encode_cursor(position: int) -> str:
    """An opaque cursor for a list position."""
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def decode_cursor(value: str) -> int:
    """The position of a cursor made by :func:`encode_cursor` (0 for one that is not)."""
    try:
        return int(base64.urlsafe_b64decode(value.encode()).decode())
    except (binascii.Error, ValueError):
        return 0


@dataclass(frozen=True)
class Sim:
    """The generic behaviour of one simulated provider, driven by its definition.

    ``faults`` maps a status to the provider's own ``(message, code)`` for an injected fault (others get
    the HTTP phrase); ``body`` overrides the body shape; ``rate_limit`` is the limit a 429 reports and
    ``delay`` the wait its reset header says when the fault names none; ``throttle_extra`` adds headers
    the definition does not name. ``retry_after_header=False`` for a provider whose 429 carries only its
    reset header (the fault's delay then goes there); ``refused`` is a refused credential's 401 when it
    says more than an injected one.
    """

    provider: str
    faults: Mapping[int, tuple[str, Code]] = field(default_factory=dict)
    body: BodyBuilder | None = None
    media_type: str = "application/json"
    rate_limit: int = 100
    delay: float = 1.0
    throttle_extra: Mapping[str, str] = field(default_factory=dict)
    retry_after_header: bool = True
    #: ``(message, code)`` of the 401 for a refused credential, when it differs from an injected 401's.
    refused: tuple[str, Code] | None = None
    #: A query parameter that also carries the credential (Pipedrive's legacy ``api_token``).
    query_alias: str = ""
    #: Fields of an error body beside the message and code, which the paths do not name (Intercom's
    #: ``type`` and ``request_id``), by status.
    extra: Callable[[int], dict[str, Any]] | None = None

    @property
    def definition(self) -> ProviderDefinition:
        """The provider's definition (the one the worker's client executes)."""
        return definition(self.provider)

    def router(self, suffix: str = "", **options: Any) -> APIRouter:
        """A router under the provider's base path in the simulator (plus ``suffix``, e.g. ``/v1``);
        ``options`` go to :class:`APIRouter` (dependencies, a route class)."""
        return APIRouter(prefix=BASES[self.provider] + suffix, tags=[self.provider], **options)

    @property
    def base(self) -> str:
        """The path of the real base URL (``/v3``), for routes of a :meth:`root_router`."""
        return self.definition.base_path

    def root_router(self) -> APIRouter:
        """A router under ``/<provider>`` alone, for a provider that also serves paths outside its base
        path (a token endpoint, an upload host); its API routes start with :attr:`base`."""
        return APIRouter(prefix=f"/{self.provider}", tags=[self.provider])

    def error_body(self, status: int, message: str, code: Code = None) -> Any:
        """The provider's error body: the override's, else message and code at the definition's paths."""
        if self.body is not None:
            return self.body(status, message, code)
        errors = self.definition.errors
        out = put(None, errors.message[0], message)
        if code is not None and errors.code:
            put(out, errors.code[0], code)
        if self.extra is not None:
            out |= self.extra(status)
        if errors.in_200 is not None and errors.in_200.error:  # the marker a 2xx error would carry too
            marker = errors.in_200.error[0]
            put(out, errors.in_200.path, {"false": False, "true": True}.get(marker, marker))
        return out

    def error(self, status: int, message: str, code: Code = None,
              headers: dict[str, str] | None = None) -> Response:
        """The provider's error answer."""
        body = self.error_body(status, message, code)
        if body is None:  # an answer without a body (Freshdesk's 404)
            return Response(status_code=status, headers=headers)
        if isinstance(body, str):  # a plain-text error (the definition's ``plain_text``)
            return PlainTextResponse(body, status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, media_type=self.media_type, headers=headers)

    def fail(self, status: int, message: str, code: Code = None) -> NoReturn:
        """Answer the current request with the provider's error."""
        raise Reply(self.error(status, message, code))

    def budget_headers(self, used: int, reset_in: float) -> dict[str, str]:
        """The definition's rate-limit headers for ``used`` calls of a
        ``rate_limit`` window that resets in ``reset_in`` seconds, the reset in the definition's unit."""
        limits = self.definition.rate_limits
        reset = {"seconds": number(reset_in), "ms": str(int(reset_in * 1000)),
                 "epoch": str(math.ceil(time.time() + reset_in))}[limits.reset_unit]
        # the first name of each: the others are alternatives the client also reads (HubSpot's daily pair)
        return {names[0]: value for names, value in ((limits.limit, str(self.rate_limit)),
                                                     (limits.remaining, str(max(0, self.rate_limit - used))),
                                                     (limits.reset, reset)) if names}

    def throttle_headers(self, spec: FaultSpec) -> dict[str, str]:
        """A spent budget's headers (reset after the fault's delay, else ``delay``), Retry-After when the
        definition honours it and the fault names a delay."""
        delay = self.delay if spec.retry_after is None else spec.retry_after
        headers = dict(self.throttle_extra) | self.budget_headers(self.rate_limit, delay)
        if self.definition.rate_limits.retry_after and self.retry_after_header and spec.retry_after is not None:
            headers["Retry-After"] = number(spec.retry_after)
        return headers | spec.headers

    def counting(self, account: Callable[[Request], dict[str, Any]], reset_in: Callable[[], float],
                 skip: Callable[[Request], bool] = lambda _request: False) -> Callable[[Request, Response], None]:
        """A router dependency that counts each call of a valid credential in its account's ``calls``
        and adds the budget headers to the answer (not for requests ``skip`` names)."""
        def count(request: Request, response: Response) -> None:
            parts = credential(request, self.definition)
            if skip(request) or not parts or any(p.startswith("bad") for p in parts):
                return
            with state(request).lock:
                acct = account(request)
                acct["calls"] += 1
                used = acct["calls"] % self.rate_limit
            response.headers.update(self.budget_headers(used, reset_in()))
        return count

    def fault_text(self, status: int) -> tuple[str, Code]:
        """``(message, code)`` of a fault: the listed one, else the listed 500 (5xx) or 400 (4xx), else
        the HTTP phrase."""
        fallback = self.faults.get(500 if status >= 500 else 400, (HTTPStatus(status).phrase, None))
        return self.faults.get(status, fallback)

    def fault_response(self, spec: FaultSpec) -> Response:
        """The provider's answer to an injected fault: its error body, its 429 headers."""
        message, code = self.fault_text(spec.status)
        headers = self.throttle_headers(spec) if spec.status == 429 else fault_headers(spec)
        return self.error(spec.status, message, code, headers=headers)

    def credential(self, request: Request, refuse: Callable[[], NoReturn] | None = None) -> str:
        """The request's credential sent the way the definition says (basic: ``user:password``); when it
        is missing or refused (a part starting with ``bad``), ``refuse()`` for a provider that does not
        answer that with a 401 (Semrush's HTTP 200 ``ERROR 120``), else the provider's 401."""
        parts = credential(request, self.definition)
        if not parts and self.query_alias and (alias := request.query_params.get(self.query_alias)):
            parts = [alias]
        if not parts or any(p.startswith("bad") for p in parts):
            if refuse is not None:
                refuse()
            raise Reply(self.error(401, *(self.refused or self.fault_text(401))))
        return ":".join(parts)

    def account(self, request: Request, seed: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The state of the request's credential (created by ``seed``), or the provider's 401."""
        return state(request).account(self.provider, self.credential(request), seed)

    def page(self, request: Request, items: list[Any], *, default: int, maximum: int | None = None) -> Page:
        """One page of ``items`` read with the definition's params: ``offset`` (a position), ``page``
        (a 1-based number), ``cursor`` (an opaque position from :func:`encode_cursor`)."""
        paging = self.definition.pagination
        query = request.query_params
        size = max(1, int(query.get(paging.limit_param) or default))
        size = min(size, maximum or paging.page_size)
        given = query.get(paging.cursor_param) or ""
        if paging.style == "page":
            start = (max(1, int(given or 1)) - 1) * size
        elif paging.style == "cursor":
            start = decode_cursor(given) if given else 0
        else:
            start = int(given or 0)
        return Page(items[start: start + size], start, size, len(items))
