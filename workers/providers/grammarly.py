"""Grammarly enterprise APIs client (Writing Score, AI Detection, Plagiarism Detection).

Auth is the OAuth 2.0 client-credentials grant: there is no refresh token, so a new access token is
fetched with the client id and secret whenever the stored one expires or is refused. Every check is
create -> pre-signed upload -> poll; the request id is stored after the create and an ``uploaded`` flag
after the upload, so a restarted worker goes on polling the same request instead of starting over.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from workers.credentials.base import Credentials
from workers.errors import AuthError, MalformedResponse, ProviderRejected, ProviderUnavailable
from workers.providers._polling import poll
from workers.providers.base import CallRecord, ProviderClient, StepLog, require
from workers.providers.oauth import OAuth2Client

#: The scopes asked for when the credential does not list its own.
DEFAULT_SCOPES = ("scores-api:read", "scores-api:write", "ai-detection-api:read", "ai-detection-api:write",
                  "plagiarism-api:read", "plagiarism-api:write")
#: Action -> API path of its scorer.
SCORERS = {"writing_score": "/v2/scores", "plagiarism_check": "/v1/plagiarism",
           "ai_detection": "/v1/ai-detection"}


def scopes(creds: Mapping[str, str]) -> str:
    """The scope parameter: the credential's own list or the defaults, comma separated as Grammarly shows."""
    listed = [s for s in re.split(r"[\s,]+", creds.get("scopes") or "") if s]
    return ", ".join(listed or DEFAULT_SCOPES)


class GrammarlyClient(OAuth2Client):
    """Grammarly's ``/ecosystem/api`` with a client-credentials Bearer token."""

    provider: ClassVar[str] = "grammarly"
    #: Seconds between two status polls, and the longest wait before the job is retried (and resumes).
    POLL_INTERVAL: ClassVar[float] = 2.0
    POLL_TIMEOUT: ClassVar[float] = 120.0

    # -- auth -------------------------------------------------------------------------------------------
    def refresh_form(self, creds: Credentials) -> dict[str, str]:
        """A client-credentials token request (this grant has no refresh token)."""
        return {**super().refresh_form(creds), "scope": scopes(creds)}

    def fetch_token(self, creds: Credentials) -> Mapping[str, str]:
        """A new token; without ``expires_in`` any stale expiry is cleared (a 401 then fetches again)."""
        try:
            return {"expires_at": "", **super().fetch_token(creds)}
        except AuthError as exc:
            raise AuthError(f"grammarly refused the client credentials or scopes ({exc.status}); check the "
                            "client id, the secret and the 'scopes' field", status=exc.status) from None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Fetch a token when none is fresh; on a 401 fetch a new one once and replay (no refresh token)."""
        if not self.is_fresh(self.credentials):
            self.refresh_now()
        try:
            return ProviderClient.request(self, method, path, **kwargs)
        except AuthError as exc:
            if exc.status != 401 or self._refreshed_once:
                raise
            self._refreshed_once = True
            self.refresh_now()
            return ProviderClient.request(self, method, path, **kwargs)

    def test_connection(self) -> dict[str, Any]:
        """Kept: the test is the client-credentials token request itself, with the scopes asked for."""
        self.refresh_now()
        expires = self.credentials.get("expires_at")
        return {"client_id": self.credentials.get("client_id"),
                "scopes": scopes(self.credentials).split(", "),
                "token_expires_at": int(expires) if expires else None}

    # -- provider shapes ----------------------------------------------------------------------------------

    # -- the three-step check -----------------------------------------------------------------------------
    def _upload(self, url: str, content: bytes) -> None:
        """PUT the document to the pre-signed URL: no Bearer token, audited without its query string."""
        started, status, outcome = time.perf_counter(), None, "ok"
        try:
            try:
                response = self.http.put(url, content=content)
            except httpx.HTTPError as exc:
                outcome = "network_error"
                raise ProviderUnavailable(f"grammarly upload failed: {type(exc).__name__}") from None
            status = response.status_code
            if not response.is_success:
                outcome = "transient"
                raise ProviderUnavailable(f"grammarly upload URL answered {status}; the retry starts a new "
                                          "request", status=status)
        finally:
            self.record(CallRecord(provider=self.provider, action=self.action, method="PUT",
                                   path=httpx.URL(url).path, status=status,
                                   duration_ms=(time.perf_counter() - started) * 1000, outcome=outcome))

    def _start(self, path: str, params: Any, steps: StepLog) -> str:
        """Create a request and upload the document; the id is stored before the upload starts."""
        steps.progress("creating score request", 10.0)
        created = self.json("POST", path, json={"filename": params.filename})
        request_id = str(require(created, "score_request_id", self.provider, f"POST {path}"))
        upload_url = str(require(created, "file_upload_url", self.provider, f"POST {path}"))
        steps.put("score_request_id", request_id)
        steps.progress("uploading document", 30.0)
        self._upload(upload_url, params.text.encode())
        steps.put("uploaded", True)
        return request_id

    def _wait(self, path: str, request_id: str) -> dict[str, Any]:
        """Poll until COMPLETED; FAILED is permanent, a long PENDING is transient (the retry resumes)."""

        def done(data: Any) -> bool:
            status = data.get("status") if isinstance(data, dict) else None
            if status == "FAILED":
                raise ProviderRejected(f"grammarly could not score request {request_id} (FAILED); check the "
                                       "file format and length")
            if status not in ("COMPLETED", "PENDING"):
                raise MalformedResponse(f"grammarly request {request_id} has unknown status {status!r}")
            return status == "COMPLETED"

        return poll(lambda: self.json("GET", f"{path}/{request_id}"), done, interval=self.POLL_INTERVAL,
                    timeout=self.POLL_TIMEOUT, what=lambda _: f"grammarly request {request_id} still PENDING")

    def _check(self, action: str, params: Any, steps: StepLog) -> dict[str, Any]:
        """Create (or resume) the request of ``action`` and return its scores."""
        path = SCORERS[action]
        request_id = steps.get("score_request_id") if steps.get("uploaded") else None
        resumed = request_id is not None
        if request_id is None:  # a request created but never uploaded cannot be resumed: its URL is gone
            request_id = self._start(path, params, steps)
        steps.progress("waiting for the score", 60.0)
        data = self._wait(path, request_id)
        steps.progress("scored", 100.0)
        score = data.get("score")
        result: dict[str, Any] = {"score_request_id": request_id, "status": "COMPLETED",
                                  "score": dict(score) if isinstance(score, dict) else None,
                                  "updated_at": data.get("updated_at"), "resumed": resumed}
        if result["score"] is None:
            result["note"] = "Grammarly returned no score (the text is too short to score)"
        return result

    def action_writing_score(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._check("writing_score", params, steps)

    def action_plagiarism_check(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._check("plagiarism_check", params, steps)

    def action_ai_detection(self, params: Any, steps: StepLog) -> dict[str, Any]:
        return self._check("ai_detection", params, steps)


#: The client Sintra uses for this provider (discovered by workers.providers.client_class).
CLIENT = GrammarlyClient
