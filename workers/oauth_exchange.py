"""The worker's half of "Connect with <provider>": trade the authorization code for tokens, keep them in Vault.

Only an agent's worker identity may read its integrations' client secrets, so the code exchange runs here,
as a connection-test job whose action is ``oauth_exchange`` (the message carries the job id only). The API
left ``{state, code, code_verifier, redirect_uri}`` at the pending path beside the credentials
(``agents/<agent>/tenants/<ws>/<integration>-oauth``, write-only for the API). The worker:

1. reads it and checks it belongs to this job's state (a newer authorize replaces it);
2. marks it used in Vault *before* calling the provider (a code is single-use; a re-run never resends it);
3. exchanges the code (client auth in the body or HTTP Basic, PKCE verifier, the provider's quirks:
   TikTok's JSON body with ``auth_code``, Meta's short- to long-lived exchange), checks fields taken from
   the answer (Salesforce's ``instance_url``) against the catalog's patterns, and writes the tokens with
   check-and-set next to the app's client id and secret;
4. hands the merged credentials back: the runner then makes the same test call as ``connect``.

A re-run after step 4 (the worker died before the job finished) finds ``oauth_state`` already stored and
goes straight to the test call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from config.catalog import IntegrationSpec
from config.logging import register_secret
from config.providers import ProviderDefinition
from config.providers.oauth import flow_url, pending_integration
from workers.credentials.base import Credentials
from workers.errors import AuthError, InvalidPayload, MalformedResponse, ProviderUnavailable
from workers.providers._definition import json_body, json_path
from workers.store.db import atomic
from workers.store.integrations import write_state

if TYPE_CHECKING:
    from workers.store.models import Job

#: Secret fields of the pending authorization.
PENDING_SECRETS = frozenset({"code", "code_verifier"})
#: Non-secret field stored with the tokens: the state whose code produced them (makes a re-run a no-op).
STATE_FIELD = "oauth_state"


def exchange(ctx: Any, job: Job, spec: IntegrationSpec) -> Credentials:
    """Exchange the job's authorization code; return the stored credentials holding the new tokens."""
    defn, state = spec.definition, str((job.params or {}).get("state") or "")
    if defn.oauth is None or not state:
        raise InvalidPayload(f"{spec.id} has no authorization-code flow or the job names no state")
    ids = {"workspace": job.workspace_id, "agent": job.agent}
    app = ctx.credentials.get(**ids, integration=job.integration, secret_fields=spec.secret_fields)
    if app.get(STATE_FIELD) == state and app.get("access_token"):
        return app  # exchanged by an earlier run of this job
    pending = ctx.credentials.get(**ids, integration=pending_integration(job.integration),
                                  secret_fields=PENDING_SECRETS)
    if pending.get("state") != state or not pending.get("code"):
        raise AuthError(f"the authorization of {spec.name} was already used or replaced by a newer one; "
                        "connect again")
    ctx.credentials.update(**ids, integration=pending_integration(job.integration), cas=pending.version,
                           values={"state": state, "used": "true"})
    tokens = _exchange_code(ctx, defn, app, pending)
    kept = {k: v for k, v in app.items() if k != "expires_at"}  # a pasted token's expiry is not the new one's
    values = {**kept, **tokens, STATE_FIELD: state}
    if problems := spec.credential_problems(values):
        raise AuthError(f"{spec.name}'s token answer is not acceptable: "
                        + "; ".join(f"{k} {v}" for k, v in sorted(problems.items())))
    version = ctx.credentials.update(**ids, integration=job.integration, values=values, cas=app.version)
    ctx.forget_credentials(job)
    declared = {f.name for f in spec.credential_fields}

    def record() -> None:
        atomic(ctx.engine, lambda conn: write_state(
            conn, workspace=job.workspace_id, agent=job.agent, integration=job.integration, status="configured",
            message=f"authorized at {defn.name}; testing the connection",
            fields_set=sorted(k for k in values if k in declared), vault_version=version), single=False)
    ctx.db(record, "oauth")
    return Credentials(values, secret_fields=spec.secret_fields, version=version)


def _client_auth(defn: ProviderDefinition, app: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """(body fields, Basic auth) carrying the client id and secret the way the provider wants them."""
    flow = defn.oauth
    assert flow is not None
    how = flow.client_auth or (defn.token.client_auth if defn.token else "body")
    client_id, secret = app.get("client_id", ""), app.get("client_secret", "")
    if how == "basic" and secret:
        return {}, (client_id, secret)
    # a public client (X's PKCE apps) has no secret: it names itself in the body
    return {flow.exchange_client_id_param: client_id, **({"client_secret": secret} if secret else {})}, None


def _exchange_code(ctx: Any, defn: ProviderDefinition, app: Mapping[str, str],
                   pending: Mapping[str, str]) -> dict[str, str]:
    """The token-exchange request, then Meta's long-lived exchange; the values to store."""
    flow = defn.oauth
    assert flow is not None
    body, basic = _client_auth(defn, app)
    body |= {"grant_type": "authorization_code", flow.code_param: pending["code"],
             "redirect_uri": pending.get("redirect_uri", "")}
    if flow.pkce == "S256":
        body["code_verifier"] = pending.get("code_verifier", "")
    url = _url(ctx, defn, defn.exchange_url, app)
    answer = _call(ctx, defn, flow.exchange_method, url, body, basic, json=flow.exchange_format == "json")
    found = json_path(answer, flow.answer_path) if flow.answer_path else answer
    tokens = _tokens(defn, found if isinstance(found, Mapping) else answer)
    if flow.long_lived is not None:
        ll = flow.long_lived
        query = {"grant_type": ll.grant_type, ll.token_param: tokens["access_token"],
                 "client_secret": app.get("client_secret", ""),
                 **({"client_id": app.get("client_id", "")} if ll.client_id else {})}
        longer = _call(ctx, defn, "GET", _url(ctx, defn, ll.url, app), query, None, json=False)
        tokens |= {k: v for k, v in _tokens(defn, longer).items() if k in ("access_token", "expires_at")}
    return tokens


def _url(ctx: Any, defn: ProviderDefinition, real: str, app: Mapping[str, str]) -> str:
    flow = defn.oauth
    assert flow is not None
    host = app.get(flow.host_field, "") if flow.host_field else ""
    return flow_url(defn, real, root=ctx.settings.provider_root, host=host)


def _call(ctx: Any, defn: ProviderDefinition, method: str, url: str, fields: dict[str, str],
          basic: tuple[str, str] | None, *, json: bool) -> Any:
    """One token-endpoint request; the provider's refusal becomes an :class:`AuthError` with its message."""
    parsed = httpx.URL(url)
    origin = f"{parsed.scheme}://{parsed.netloc.decode()}"
    kwargs: dict[str, Any] = {"params": fields} if method == "GET" else ({"json": fields} if json else {"data": fields})
    try:
        response = ctx.http(origin).request(method, url, auth=basic, headers={"Accept": "application/json"},
                                            **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"{defn.name} token endpoint unreachable ({type(exc).__name__})") from None
    body = json_body(response)
    in_200 = defn.errors.in_200
    refused = not response.is_success or (in_200 is not None and isinstance(body, Mapping)
                                          and in_200.failed(json_path(body, in_200.path)))
    if refused:
        raise AuthError(f"{defn.name} refused the authorization code: {_reason(body, response)}",
                        status=response.status_code)
    if not isinstance(body, Mapping):
        raise MalformedResponse(f"{defn.name} token endpoint answered without JSON")
    return body


def _reason(body: Any, response: httpx.Response) -> str:
    """The provider's own words: OAuth's ``error``/``error_description``, Graph's or TikTok's message."""
    if isinstance(body, Mapping):
        for path in ("error_description", "error.message", "message", "error"):
            value = json_path(body, path)
            if isinstance(value, str) and value:
                code = body.get("error") if isinstance(body.get("error"), str) else None
                return f"{value} ({code})" if code and code != value else value
    return f"HTTP {response.status_code}"


def _tokens(defn: ProviderDefinition, answer: Mapping[str, Any]) -> dict[str, str]:
    """The access token, refresh token, expiry and mapped extra fields of a token answer."""
    flow = defn.oauth
    assert flow is not None
    if not answer.get("access_token"):
        raise MalformedResponse(f"{defn.name} token endpoint answered without access_token")
    out = {"access_token": str(answer["access_token"])}
    if answer.get("refresh_token"):
        out["refresh_token"] = str(answer["refresh_token"])
    for token in out.values():  # before any log line could carry one (Meta's short token goes in a query)
        register_secret(token)
    if answer.get("expires_in"):
        out["expires_at"] = str(int(time.time() + float(answer["expires_in"])))
    for source, target in flow.answer_fields.items():
        if answer.get(source) not in (None, ""):
            out[target] = str(answer[source])
    return out
