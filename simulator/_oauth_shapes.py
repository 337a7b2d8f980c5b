"""Each simulated provider's own shapes for the authorization-code grant: token answers and error bodies.

OAuth 2.0's ``{"error", "error_description"}`` (400; 401 for ``invalid_client``) unless the provider differs:
Meta's Graph error object (``OAuthException``), TikTok's 200 envelope with a non-zero ``code``. Answers
follow the real ones: X's 2-hour bearer tokens, Google's refresh token only with ``access_type=offline``,
LinkedIn's 60-day tokens, HubSpot's 30-minute ones, Salesforce's ``instance_url`` without ``expires_in``,
TikTok's ``data`` envelope with the account's ``open_id``, Instagram's ``data[0]`` with ``user_id``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

#: Prefix of the access and refresh tokens each provider issues (shapes of the real ones).
PREFIXES: dict[str, tuple[str, str]] = {
    "x": ("sim-x-", "sim-xr-"), "linkedin": ("AQV", "AQX"), "google_analytics": ("ya29.", "1//"),
    "google_search_console": ("ya29.", "1//"), "hubspot": ("CKSim", "na1-"),
    "salesforce": ("00D5g000004SIM!", "5Aep861"),
    "tiktok": ("act.", "rft."), "facebook": ("EAAG", ""), "instagram": ("IGAA", ""),
}
#: Lifetime in seconds of an issued access token (None: the provider sends no expires_in).
LIFETIMES: dict[str, int | None] = {"x": 7200, "linkedin": 5_184_000, "hubspot": 1800, "salesforce": None,
                                    "tiktok": 86_400, "facebook": 5400, "instagram": 3600}
#: The Instagram account behind every simulated consent, and the Salesforce org's My Domain.
IG_USER, SF_INSTANCE = "17841400000000777", "https://simorg.my.salesforce.com"


def _token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(30)


def error(provider: str, code: str, description: str) -> Response:
    """The provider's refusal of a token request."""
    if provider in ("facebook", "instagram"):
        return JSONResponse({"error": {"message": description, "type": "OAuthException", "code": 100,
                                       "error_subcode": 36007 if code == "invalid_grant" else None,
                                       "fbtrace_id": secrets.token_urlsafe(8)}}, status_code=400)
    if provider == "tiktok":
        return JSONResponse({"code": 40001 if code == "invalid_client" else 40007, "message": description,
                             "request_id": secrets.token_hex(12), "data": {}})
    return JSONResponse({"error": code, "error_description": description},
                        status_code=401 if code == "invalid_client" else 400)


def answer(provider: str, record: dict[str, Any]) -> Response:
    """The successful token answer for a consent ``record``."""
    access_prefix, refresh_prefix = PREFIXES[provider]
    tokens: dict[str, Any] = {"access_token": _token(access_prefix), "token_type": "Bearer",
                              "scope": " ".join(record["scope"])}
    google = provider.startswith("google_")
    # Google issues a refresh token only for offline access; X only with the offline.access scope
    offline = record["offline"] if google else provider != "x" or "offline.access" in record["scope"]
    if refresh_prefix and offline:
        tokens["refresh_token"] = _token(refresh_prefix)
    lifetime = 3599 if google else LIFETIMES[provider]
    if lifetime:
        tokens["expires_in"] = lifetime
    if provider == "linkedin":
        tokens["refresh_token_expires_in"] = 31_536_000
    if provider == "salesforce":
        tokens |= {"instance_url": SF_INSTANCE, "id": "https://login.salesforce.com/id/00D5g000004SIMEAA/005SIM",
                   "issued_at": str(int(time.time() * 1000)), "signature": secrets.token_urlsafe(32)}
    if provider == "tiktok":
        tokens |= {"open_id": "-000" + secrets.token_urlsafe(24), "refresh_token_expires_in": 31_536_000,
                   "scope": ",".join(record["scope"])}
        return JSONResponse({"code": 0, "message": "OK", "request_id": secrets.token_hex(12), "data": tokens})
    if provider == "instagram":
        return JSONResponse({"data": [{"access_token": tokens["access_token"], "user_id": IG_USER,
                                       "permissions": ",".join(record["scope"])}]})
    return JSONResponse(tokens)


def access_of(provider: str, response: Response) -> str:
    """The access token inside an answer built by :func:`answer` (for Meta's long-lived exchange)."""
    body = json.loads(bytes(response.body))
    return str(body["data"][0]["access_token"] if provider == "instagram" else body["access_token"])


def long_lived(provider: str) -> Response:
    """Meta's answer to the long-lived exchange: a 60-day token."""
    return JSONResponse({"access_token": _token(PREFIXES[provider][0]), "token_type": "bearer",
                         "expires_in": 5_183_944})
