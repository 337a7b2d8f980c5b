"""OAuth 2.0 provider clients: bearer access token, refreshed before expiry and once on a 401."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from workers.credentials.base import Credentials
from workers.credentials.refresh import LocalRefresher, Refresher
from config.providers import Token
from workers.errors import AuthError, GrantRevoked, IntegrationUnavailable, MalformedResponse
from workers.providers.base import ProviderClient

#: Refresh this many seconds before the access token expires.
REFRESH_MARGIN_S = 120
#: Token-endpoint error codes that blame the app's own credentials, not the user's grant.
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class OAuth2Client(ProviderClient):
    """A provider client whose credentials are client id/secret, a refresh token and an access token.

    The token endpoint (may hold ``{placeholders}`` of non-secret credential fields), where the client
    id/secret go ("body": in the form; "basic": HTTP Basic), the grant type and the extra fields kept
    from the answer come from the provider definition's ``token``. The refreshed access token, its
    expiry (``expires_at``, epoch seconds) and any rotated refresh token are stored back.
    """

    def __init__(self, *, refresher: Refresher | None = None, token_url: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.refresher: Refresher = refresher or LocalRefresher()
        self._token_url = token_url
        self._refreshed_once = False

    # -- credentials ------------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        """The definition's token endpoint and refresh shape."""
        token = self.definition().token
        if token is None:
            raise IntegrationUnavailable(f"{self.provider}: the provider definition has no token endpoint")
        return token

    @property
    def token_auth(self) -> str:
        """Where the client id/secret go in the token request: "body" or "basic"."""
        return self.token.client_auth

    def token_url(self) -> str:
        """Where refresh requests go (the settings override wins over the definition)."""
        if self._token_url:
            return self._token_url
        fields = {k: v for k, v in self.credentials.items() if k not in self.credentials.secret_fields}
        try:
            return self.token.url.format(**fields)
        except KeyError as exc:
            raise IntegrationUnavailable(f"{self.provider}: token URL needs credential field {exc}") from None

    @staticmethod
    def is_fresh(creds: Credentials) -> bool:
        """True while the access token exists and is not within the refresh margin of expiry."""
        if not creds.get("access_token"):
            return False
        expires_at = creds.get("expires_at")
        return not expires_at or float(expires_at) - time.time() > REFRESH_MARGIN_S

    def refresh_form(self, creds: Credentials) -> dict[str, str]:
        """The token request body (override for provider quirks)."""
        form = {"grant_type": self.token.grant_type}
        if self.token.grant_type == "refresh_token":
            form["refresh_token"] = creds.get("refresh_token", "")
        if self.token_auth == "body":
            form.update(client_id=creds.get("client_id", ""), client_secret=creds.get("client_secret", ""))
        return form

    def fetch_token(self, creds: Credentials) -> Mapping[str, str]:
        """Call the provider's token endpoint; return the new values to store."""
        # HTTP Basic client auth only where the provider takes it (no auth argument otherwise: not the client's)
        basic: dict[str, Any] = ({"auth": (creds.get("client_id", ""), creds.get("client_secret", ""))}
                                 if self.token_auth == "basic" else {})
        started = time.perf_counter()
        try:
            response = self.http.post(self.token_url(), data=self.refresh_form(creds),
                                      headers={"Accept": "application/json"}, **basic)
        except httpx.HTTPError:
            self._record_token_call(None, started, "network_error")
            raise
        self._record_token_call(response.status_code, started, "ok" if response.is_success else "auth")
        if response.status_code in (400, 401, 403):
            raise self._refused(response)
        error = self.error_for(response)
        if error is not None:
            raise error
        try:
            body = response.json()
            values = {"access_token": str(body["access_token"])}
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse(f"{self.provider} token endpoint answered without access_token") from None
        if body.get("refresh_token"):  # rotated; when omitted the old one stays valid (Nango #298)
            values["refresh_token"] = str(body["refresh_token"])
        if body.get("expires_in"):
            values["expires_at"] = str(int(time.time() + float(body["expires_in"])))
        for extra in self.token.extra_fields:
            if body.get(extra):
                values[extra] = str(body[extra])
        values["refreshed_at"] = str(int(time.time()))  # the grant was used now (its unused-expiry restarts)
        return values

    def _refused(self, response: httpx.Response) -> AuthError:
        """The token endpoint's refusal: the grant itself (revoked, expired) unless the app is to blame."""
        text, code = self.error_text(response)
        reason = f"{code}: {text}" if code and code not in text else text
        message = f"{self.provider} refused the refresh token ({response.status_code} {' '.join(reason.split())[:300]})"
        if self.token.grant_type == "refresh_token" and (code or "").lower() not in CLIENT_ERRORS:
            return GrantRevoked(f"{message}; the grant was revoked or expired: reconnect the integration",
                                status=response.status_code, provider_code=code)
        return AuthError(f"{message}; check the app's client id and secret", status=response.status_code,
                         provider_code=code)

    def _record_token_call(self, status: int | None, started: float, outcome: str) -> None:
        from workers.providers.base import CallRecord

        self.record(CallRecord(provider=self.provider, action="oauth_refresh", method="POST",
                               path=httpx.URL(self.token_url()).path, status=status,
                               duration_ms=(time.perf_counter() - started) * 1000, outcome=outcome))

    def refresh_now(self) -> None:
        """Refresh the access token (single-flight through the refresher)."""
        self.credentials = self.refresher.refresh(self.credentials, self.fetch_token, is_fresh=self.is_fresh)

    # -- requests ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Refresh an expiring token first; on a 401, refresh once and replay the request."""
        if not self.is_fresh(self.credentials):
            self.refresh_now()
        try:
            return super().request(method, path, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or self._refreshed_once or not self.credentials.get("refresh_token"):
                raise
            self._refreshed_once = True
            self.refresh_now()
            try:
                return super().request(method, path, **kwargs)
            except AuthError as again:
                if again.status != 401:
                    raise
                # a token the provider just issued is refused too: the grant behind it is gone
                raise GrantRevoked(f"{again.message} (with a just-refreshed token): the grant was revoked; "
                                   "reconnect the integration", status=401,
                                   provider_code=again.provider_code) from None
