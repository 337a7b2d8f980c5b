"""The authorization-code flow of every OAuth provider in the simulator, derived from the provider definitions.

For each definition with an :class:`~config.providers.OAuthFlow`, under ``/<provider><path of the real URL>``:

- the consent page (GET): checks ``response_type=code``, the client id parameter (TikTok's ``client_key``),
  an absolute ``redirect_uri``, ``state``, scopes and, when the provider requires PKCE, an S256 challenge;
  it shows the scopes with an Allow and a Deny button. Allow redirects to ``redirect_uri`` with a fresh
  single-use ``code`` and the ``state``; Deny with ``error=access_denied``;
- the code exchange (:func:`grant`): a provider module whose token endpoint also serves the refresh grant
  calls it first; a separate exchange URL (Meta, Instagram, TikTok) and Meta's long-lived exchange get
  their own routes here. As the real providers do, it refuses an unknown or reused code (``invalid_grant``),
  another client's code, a missing or ``bad...`` client secret (``invalid_client``; X's public PKCE clients
  have none), a ``redirect_uri`` other than the one consented to, a wrong PKCE verifier and a code older
  than 10 minutes. Answers and errors have each provider's own shape (:mod:`simulator._oauth_shapes`).
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from config.providers import ProviderDefinition, definitions, root_path, root_token_path
from config.providers.oauth import pkce_challenge
from simulator import _oauth_shapes as shapes
from simulator.control import params, state

#: Seconds an authorization code stays valid (RFC 6749 recommends at most 10 minutes).
CODE_TTL = 600
router = APIRouter(include_in_schema=False)


def _book(request: Request) -> dict[str, Any]:
    """Consent tickets, issued codes, used codes and short-lived tokens (for Meta's long-lived exchange)."""
    return state(request).account("_oauth", "__book__",
                                  lambda: {"tickets": {}, "codes": {}, "used": set(), "short": set()})


def _page(defn: ProviderDefinition, q: dict[str, str], scopes: list[str], ticket: str, action: str) -> str:
    items = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes)
    return (f"<!doctype html><html><head><title>Authorize · {html.escape(defn.name)}</title></head><body>"
            f"<h1>{html.escape(defn.name)} (simulated)</h1><p>The app <code id=\"client\">"
            f"{html.escape(q.get('client', ''))}</code> wants to:</p><ul id=\"scopes\">{items}</ul>"
            f"<form method=\"post\" action=\"{html.escape(action)}\"><input type=\"hidden\" name=\"ticket\" "
            f"value=\"{ticket}\"><button id=\"allow\" name=\"decision\" value=\"allow\">Allow</button> "
            f"<button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>")


def _consent(defn: ProviderDefinition) -> Any:
    flow = defn.oauth
    assert flow is not None

    async def consent(request: Request) -> Response:
        """The consent page (GET) or the user's decision (POST)."""
        if request.method == "POST":
            return await _decide(request)
        q = dict(request.query_params)
        client, redirect = q.get(flow.client_id_param, ""), q.get("redirect_uri", "")
        scopes = [s for s in q.get("scope", "").split(flow.scope_separator) if s]
        problem = ("response_type must be code" if q.get("response_type") != "code" else
                   f"{flow.client_id_param} is required" if not client else
                   "redirect_uri must be an absolute URL" if not redirect.startswith(("http://", "https://")) else
                   "state is required" if not q.get("state") else "scope is required" if not scopes else
                   "code_challenge with code_challenge_method=S256 is required"
                   if flow.pkce == "S256" and (q.get("code_challenge_method") != "S256" or
                                               not q.get("code_challenge")) else None)
        if problem:
            return HTMLResponse(f"<!doctype html><h1>Invalid request</h1><p id=\"error\">{html.escape(problem)}</p>",
                                status_code=400)
        ticket = secrets.token_urlsafe(12)
        _book(request)["tickets"][ticket] = {
            "provider": defn.id, "client_id": client, "redirect_uri": redirect, "state": q["state"],
            "challenge": q.get("code_challenge", ""), "scope": scopes, "offline": q.get("access_type") == "offline"}
        return HTMLResponse(_page(defn, {"client": client}, scopes, ticket, request.url.path))

    return consent


async def _decide(request: Request) -> Response:
    form = await params(request)
    with state(request).lock:
        ticket = _book(request)["tickets"].pop(str(form.get("ticket", "")), None)
    if ticket is None:
        return HTMLResponse("<!doctype html><h1>This consent page has expired</h1>", status_code=400)
    if form.get("decision") == "allow":
        code = "sim-code-" + secrets.token_urlsafe(24)
        _book(request)["codes"][code] = {**ticket, "issued": time.time()}
        query = {"code": code, "state": ticket["state"]}
    else:
        query = {"error": "access_denied", "error_description": "The user denied the request.",
                 "state": ticket["state"]}
    sep = "&" if "?" in ticket["redirect_uri"] else "?"
    return RedirectResponse(ticket["redirect_uri"] + sep + urlencode(query), status_code=303)


def _client(request: Request, form: dict[str, Any], id_param: str) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        user, _, password = base64.b64decode(value.strip()).decode(errors="replace").partition(":")
        return user, password
    return str(form.get(id_param) or ""), str(form.get("client_secret") or "")


async def grant(request: Request, provider: str) -> Response | None:
    """Answer an ``authorization_code`` grant to ``provider``'s token endpoint; None for any other grant."""
    form = await params(request)
    defn = definitions()[provider]
    flow = defn.oauth
    assert flow is not None
    # Meta's GET exchange names no grant type: a code alone is one
    if form.get("grant_type", "authorization_code" if form.get(flow.code_param) else "") != "authorization_code":
        return None
    code = str(form.get(flow.code_param) or "")
    client_id, secret = _client(request, form, flow.exchange_client_id_param)
    book = _book(request)
    with state(request).lock:
        record = book["codes"].get(code)
        problem = _refusal(record, code in book["used"], provider, client_id, secret, form)
        if code:
            book["used"].add(code)  # a code is consumed even by a failed attempt
    if problem is not None:
        return shapes.error(provider, *problem)
    assert record is not None
    answer = shapes.answer(provider, record)
    if flow.long_lived is not None:
        book["short"].add(shapes.access_of(provider, answer))
    return answer


def _refusal(record: dict[str, Any] | None, used: bool, provider: str, client_id: str, secret: str,
             form: dict[str, Any]) -> tuple[str, str] | None:
    """(OAuth error, description) when the exchange must be refused, else None."""
    if record is None or record["provider"] != provider:
        return "invalid_grant", "The authorization code is invalid."
    if used:
        return "invalid_grant", "The authorization code was already used."
    if time.time() - record["issued"] > CODE_TTL:
        return "invalid_grant", "The authorization code has expired."
    if client_id != record["client_id"]:
        return "invalid_client", "The code was issued to another client."
    public = provider == "x" and record["challenge"]  # X lets PKCE public clients go without a secret
    if (not secret and not public) or secret.startswith("bad"):
        return "invalid_client", "Client authentication failed."
    if form.get("redirect_uri") != record["redirect_uri"]:
        return "invalid_grant", "redirect_uri does not match the one of the authorization request."
    if record["challenge"] and pkce_challenge(str(form.get("code_verifier") or "")) != record["challenge"]:
        return "invalid_grant", "The code_verifier does not match the code_challenge."
    return None


def _exchange(provider: str) -> Any:
    async def exchange(request: Request) -> Response:
        """A provider's own code-exchange endpoint (separate from its refresh endpoint; Meta's also long-lived)."""
        flow = definitions()[provider].oauth
        assert flow is not None
        if flow.long_lived is not None and (await params(request)).get("grant_type") == flow.long_lived.grant_type:
            return await _long_lived(provider)(request)
        answer = await grant(request, provider)
        return answer if answer is not None else shapes.error(provider, "unsupported_grant_type",
                                                              "grant_type must be authorization_code")
    return exchange


def _long_lived(provider: str) -> Any:
    async def long_lived(request: Request) -> Response:
        """Meta's short- to long-lived token exchange (``fb_exchange_token`` / ``ig_exchange_token``)."""
        flow = definitions()[provider].oauth
        assert flow is not None and flow.long_lived is not None
        q, ll = await params(request), flow.long_lived
        secret, short = str(q.get("client_secret") or ""), str(q.get(ll.token_param) or "")
        if q.get("grant_type") != ll.grant_type or not secret or secret.startswith("bad"):
            return shapes.error(provider, "invalid_client", "Error validating client secret.")
        with state(request).lock:
            known = short in _book(request)["short"]
            _book(request)["short"].discard(short)
        if not known:
            return shapes.error(provider, "invalid_grant", "Invalid OAuth access token - Cannot parse access token")
        return shapes.long_lived(provider)
    return long_lived


def install_routes() -> None:
    """Add every provider's consent page, exchange and long-lived routes (once, at import)."""
    for defn in definitions().values():
        flow = defn.oauth
        if flow is None:
            continue
        router.add_api_route(root_path(defn.id, flow.authorize_url), _consent(defn), methods=["GET", "POST"])
        exchange = root_path(defn.id, defn.exchange_url)
        if exchange != root_token_path(defn.id):
            router.add_api_route(exchange, _exchange(defn.id), methods=[flow.exchange_method])
        if flow.long_lived is not None and root_path(defn.id, flow.long_lived.url) != exchange:
            router.add_api_route(root_path(defn.id, flow.long_lived.url), _long_lived(defn.id), methods=["GET"])


install_routes()
