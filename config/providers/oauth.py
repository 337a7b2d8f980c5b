"""Pure pieces of the authorization-code flow shared by the API (authorize, callback) and the worker (exchange).

The consent URL is built from a provider's :class:`~config.providers.model.OAuthFlow` and the scopes its
integration's actions need; PKCE follows RFC 7636 (S256). ``pending_integration`` names where, beside an
integration's credentials in Vault, the API leaves the code and verifier for the agent's worker.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

from config.providers.model import ProviderDefinition, _path_of

#: Suffix of the Vault "integration" segment holding a pending authorization (``x-oauth``): a hyphen, so
#: it can never collide with an integration id (``[a-z][a-z0-9_]*``).
PENDING_SUFFIX = "-oauth"
#: The job action that exchanges a code (a connection test whose credentials come from the exchange).
EXCHANGE_ACTION = "oauth_exchange"


def pending_integration(integration: str) -> str:
    """The Vault segment of ``integration``'s pending authorization."""
    return integration + PENDING_SUFFIX


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7636 appendix A)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def flow_url(defn: ProviderDefinition, real: str, *, root: str = "", host: str = "") -> str:
    """Where one of the flow's URLs is reached: under ``root`` (simulator, proxy), on ``host``'s origin
    (a configured My Domain), else the real URL."""
    if root:
        return f"{root}/{defn.id}{_path_of(real, keep_slash=True)}"
    if host:
        parts = urlsplit(host)
        return f"{parts.scheme}://{parts.netloc}{_path_of(real, keep_slash=True)}"
    return real


def authorize_url(defn: ProviderDefinition, actions: Iterable[str], *, client_id: str, redirect_uri: str,
                  state: str, verifier: str, root: str = "", host: str = "") -> str:
    """The provider's consent URL asking for the scopes of ``actions``, bound to ``state`` (and PKCE)."""
    flow = defn.oauth
    if flow is None:
        raise ValueError(f"{defn.id} has no authorization-code flow")
    query = {"response_type": "code", flow.client_id_param: client_id, "redirect_uri": redirect_uri,
             "scope": flow.scope_separator.join(flow.scopes_for(actions)), "state": state, **flow.extra_params}
    if flow.pkce == "S256":
        query |= {"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}
    return flow_url(defn, flow.authorize_url, root=root, host=host) + "?" + urlencode(query)
