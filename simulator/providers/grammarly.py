"""Simulated Grammarly enterprise APIs under ``/grammarly``: token endpoint, three scorers, S3-style uploads.

``POST /grammarly<token path>`` runs the client-credentials grant (a secret starting with ``bad``
is ``invalid_client``) and issues one-hour tokens carrying the scopes asked for. The scorers live under
``/grammarly<base path>`` (``/v2/scores``, ``/v1/ai-detection``, ``/v1/plagiarism``): a create answers
``score_request_id`` and a pre-signed ``file_upload_url`` (``/grammarly/upload/{id}?X-Amz-...``, valid
120 s, refusing any ``Authorization`` header like S3). A request stays PENDING until its document arrives,
then for one more poll, then is COMPLETED with scores derived from the text (null under 30 words).
Tokens the simulator did not issue are accepted unless they start with ``bad``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from simulator.control import params, state
from simulator.generic import Sim

PROVIDER = "grammarly"
TOKEN_TTL = 3600
UPLOAD_TTL = 120
#: Scorer path -> (scope prefix, score fields).
SCORERS = {"v2/scores": ("scores-api", ("general_score", "engagement", "correctness", "delivery", "clarity")),
           "v1/ai-detection": ("ai-detection-api", ("average_confidence", "ai_generated_percentage")),
           "v1/plagiarism": ("plagiarism-api", ("originality",))}
EXTENSIONS = (".doc", ".docx", ".odt", ".txt", ".rtf")


SIM = Sim(PROVIDER, faults={401: ("Invalid or expired access token", "unauthorized"),
                            403: ("The access token lacks the scope this API needs", "forbidden"),
                            429: ("Rate limit exceeded; retry with exponential backoff", "too_many_requests"),
                            400: ("Bad request", "bad_request"), 500: ("Something went wrong", "server_error")})
router = SIM.root_router()  # the token endpoint is outside the base path
fault_response = SIM.fault_response
BASE = SIM.base
#: An auth-checked read for tests (the definition's test call is the token request).
AUTH_PROBE = f"/{PROVIDER}{BASE}/v2/scores/none"


def org(request: Request) -> dict[str, Any]:
    """The simulated organisation: issued tokens and score requests."""
    return state(request).account(PROVIDER, "org", lambda: {"tokens": {}, "requests": {}})


@router.post(SIM.definition.token_path or "")
async def token(request: Request) -> Response:
    """Client-credentials grant (form body; the client may also authenticate with HTTP Basic)."""
    p = await params(request)
    if p.get("grant_type") != "client_credentials":
        return SIM.error(400, "Only grant_type=client_credentials is supported", "unsupported_grant_type")
    client_id, secret = str(p.get("client_id") or ""), str(p.get("client_secret") or "")
    if not client_id or not secret or secret.startswith("bad"):
        return SIM.error(401, "Client authentication failed", "invalid_client")
    scopes = [s.strip() for s in str(p.get("scope") or "").split(",") if s.strip()]
    unknown = [s for s in scopes if s.rsplit(":", 1)[0] not in {v[0] for v in SCORERS.values()}
               | {"analytics-api", "users-api"}]
    if unknown:
        return SIM.error(400, f"Unknown scope: {unknown[0]}", "invalid_scope")
    access = "gat_" + secrets.token_hex(16)
    with state(request).lock:
        org(request)["tokens"][access] = {"client_id": client_id, "scopes": scopes,
                                          "expires_at": time.time() + TOKEN_TTL}
    return JSONResponse({"access_token": access, "token_type": "bearer", "expires_in": TOKEN_TTL,
                         "scope": ", ".join(scopes)})


def authorize(request: Request, scope: str) -> None:
    """Check the Bearer token: unknown tokens pass unless ``bad...``; issued ones need time and scope."""
    value = SIM.credential(request)
    issued = org(request)["tokens"].get(value)
    if issued and issued["expires_at"] < time.time():
        SIM.fail(401, "Invalid or expired access token", "unauthorized")
    if issued and scope not in issued["scopes"]:
        SIM.fail(403, f"The access token lacks the scope {scope}", "forbidden")


def _scores(text: str, fields: tuple[str, ...]) -> dict[str, float] | None:
    """Stable 0-1 scores for ``text``; None below 30 words, as Grammarly answers."""
    if len(text.split()) < 30:
        return None
    digest = hashlib.sha256(text.encode()).digest()
    return {f: round(0.55 + digest[i] / 255 * 0.44, 2) for i, f in enumerate(fields)}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@router.post(BASE + "/{version}/{kind}")
async def create(version: str, kind: str, request: Request) -> dict[str, Any]:
    """Create a score request: an id and a pre-signed upload URL."""
    scorer = SCORERS.get(f"{version}/{kind}") or SIM.fail(404, "Unknown endpoint", "not_found")
    authorize(request, f"{scorer[0]}:write")
    filename = str((await params(request)).get("filename") or "")
    if not filename or "/" in filename:
        SIM.fail(400, "filename is required", "bad_request")
    if not filename.lower().endswith(EXTENSIONS):
        SIM.fail(400, "Unsupported file type; use doc, docx, odt, txt or rtf", "bad_request")
    request_id, signature = str(uuid.uuid4()), secrets.token_hex(16)
    with state(request).lock:
        org(request)["requests"][request_id] = {
            "kind": f"{version}/{kind}", "filename": filename, "status": "PENDING", "document": None,
            "signature": signature, "upload_until": time.time() + UPLOAD_TTL, "polls": 0,
            "updated_at": _stamp()}
    url = str(request.base_url).rstrip("/") + f"/grammarly/upload/{request_id}" \
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={UPLOAD_TTL}&X-Amz-Signature={signature}"
    return {"score_request_id": request_id, "file_upload_url": url}


@router.get(BASE + "/{version}/{kind}/{request_id}")
def status(version: str, kind: str, request_id: str, request: Request) -> dict[str, Any]:
    """Status of a request; PENDING until the document arrives and for one poll after."""
    scorer = SCORERS.get(f"{version}/{kind}") or SIM.fail(404, "Unknown endpoint", "not_found")
    authorize(request, f"{scorer[0]}:read")
    with state(request).lock:
        item = org(request)["requests"].get(request_id)
        if item is None or item["kind"] != f"{version}/{kind}":
            SIM.fail(404, f"Score request {request_id} not found", "not_found")
        if item["document"] is not None and item["status"] == "PENDING":
            item["polls"] += 1
            if item["polls"] >= 2:
                item["status"] = "FAILED" if not item["document"].strip() else "COMPLETED"
                item["updated_at"] = _stamp()
        body: dict[str, Any] = {"score_request_id": request_id, "status": item["status"],
                                "updated_at": item["updated_at"]}
        if item["status"] == "COMPLETED":
            body["score"] = _scores(item["document"], scorer[1])
        return body


def s3_error(status: int, code: str, message: str) -> Response:
    """An S3 XML error."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>' \
          f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    return Response(xml, status_code=status, media_type="application/xml")


@router.put("/upload/{request_id}")
async def upload(request_id: str, request: Request) -> Response:
    """The pre-signed S3 PUT: checks the signature and expiry, refuses a second auth mechanism."""
    if "authorization" in request.headers:
        return s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
    body = await request.body()
    with state(request).lock:
        item = org(request)["requests"].get(request_id)
        if item is None or request.query_params.get("X-Amz-Signature") != item["signature"]:
            return s3_error(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided")
        if time.time() > item["upload_until"]:
            return s3_error(403, "AccessDenied", "Request has expired")
        item["document"] = body.decode(errors="replace")
    etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})
