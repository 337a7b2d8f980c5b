"""Simulated HubSpot APIs under ``/hubspot`` (the host ``api.hubapi.com``): CRM v3 objects and search,
legacy e-mail events, sequences, marketing e-mails, lists, workflows and the OAuth v3 token endpoint.

Each portal is seeded with contacts, companies, deals, sales e-mails, marketing e-mails, e-mail events,
lists and workflows. Errors are ``{status, message, correlationId, category}``; answers carry
``X-HubSpot-RateLimit-*``; a throttled call answers 429 with ``Retry-After`` and a ``policyName``. A token
starting with ``bad`` is rejected (401). The token endpoint issues 30-minute access tokens and rotates
refresh tokens (a used one answers BAD_REFRESH_TOKEN).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator import oauth as sim_oauth
from simulator.control import params, state
from simulator.providers import _hubspot_crm, _hubspot_marketing
from simulator.providers._hubspot_common import SIM, error, oauth, portal_for

PROVIDER = "hubspot"
router = SIM.router()
fault_response = SIM.fault_response
router.include_router(_hubspot_crm.router)
router.include_router(_hubspot_marketing.router)
#: Lifetime of an access token, in seconds (HubSpot: 30 minutes).
TOKEN_LIFETIME = 1800


def _token_error(status: str, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message, "correlationId": str(uuid.uuid4()),
                         "category": "VALIDATION_ERROR"}, status_code=400)


@router.post("/oauth/v3/token")
@router.post("/oauth/v1/token")
async def token(request: Request) -> JSONResponse:
    """The refresh-token grant: a 30-minute access token and a rotated refresh token."""
    if (answer := await sim_oauth.grant(request, PROVIDER)) is not None:  # "Connect with": the code exchange
        return answer  # type: ignore[return-value]  # the provider's own JSONResponse
    form, book = await params(request), oauth(request)
    if form.get("grant_type") != "refresh_token":
        return _token_error("BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")
    secret = str(form.get("client_secret") or "")
    if not form.get("client_id") or not secret or secret.startswith("bad"):
        return _token_error("BAD_CLIENT_ID", "missing or unknown client id or secret")
    old = str(form.get("refresh_token") or "")
    with state(request).lock:
        if not old or old.startswith("bad") or old in book["used"]:
            return _token_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        book["used"].add(old)
        root = book["roots"].get(old, old)
        access, fresh = "CKSim" + secrets.token_urlsafe(48), "na1-" + str(uuid.uuid4())
        book["issued"][access], book["roots"][fresh] = root, root
    hub = portal_for(request, root)
    body: dict[str, Any] = {"token_type": "bearer", "token_use": "access_token", "access_token": access,
                            "refresh_token": fresh, "expires_in": TOKEN_LIFETIME, "hub_id": hub["portal_id"],
                            "user_id": 7001, "scopes": ["oauth", "crm.objects.contacts.read"]}
    return JSONResponse(body)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown(rest: str) -> Response:
    """Any other path: HubSpot's 404."""
    return error(404, f"Unable to route {rest}", "OBJECT_NOT_FOUND")
