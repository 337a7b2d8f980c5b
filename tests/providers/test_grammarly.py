"""GrammarlyClient against the simulator: client-credentials tokens, the three-step check, resumption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.grammarly import SPEC
from simulator.urls import BASES, TOKENS
from tests.providers.cases.grammarly import TEXT
from workers.credentials.base import Credentials
from workers.errors import AuthError, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers.base import CallRecord, MemorySteps
from workers.providers.grammarly import DEFAULT_SCOPES, GrammarlyClient, scopes

TOKEN_PATH = TOKENS["grammarly"]
API = BASES["grammarly"]


def make_client(url: str, record: Any = None, **creds: str) -> GrammarlyClient:
    values = {"client_id": "gc_penn", "client_secret": "gs_secret", **creds}
    http = httpx.Client(base_url=url + API, timeout=10)
    return GrammarlyClient(http=http, credentials=Credentials(values, secret_fields=SPEC.secret_fields),
                           token_url=url + TOKEN_PATH, record=record)


@pytest.fixture
def client(simulator: Any) -> Iterator[GrammarlyClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: GrammarlyClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(text=TEXT, **params), steps or MemorySteps())


# -- tokens ------------------------------------------------------------------------------------------------
def test_connection_fetches_a_client_credentials_token(client: GrammarlyClient, sim: Any) -> None:
    facts = client.test_connection()
    assert facts["scopes"] == list(DEFAULT_SCOPES) and facts["token_expires_at"]
    assert client.credentials["access_token"].startswith("gat_")
    assert "gs_secret" not in repr(facts)
    assert len(sim.calls("grammarly", "POST", path=TOKEN_PATH)) == 1


def test_bad_secret_is_one_refused_token_request(simulator: Any, sim: Any) -> None:
    with pytest.raises(AuthError, match="client credentials or scopes"):
        make_client(simulator.url, client_secret="bad_secret").test_connection()
    with pytest.raises(AuthError):
        run(make_client(simulator.url, client_secret="bad_secret"), "writing_score")
    assert len(sim.calls("grammarly", "POST", path=TOKEN_PATH)) == 2  # one per attempt, never a second
    assert sim.calls("grammarly", contains=API) == []


def test_first_call_without_a_token_fetches_one(client: GrammarlyClient, sim: Any) -> None:
    result = run(client, "writing_score")
    assert result["status"] == "COMPLETED"
    assert len(sim.calls("grammarly", "POST", path=TOKEN_PATH)) == 1


def test_scopes_come_from_the_credential_when_listed() -> None:
    creds = {"scopes": "scores-api:read scores-api:write"}
    assert scopes(creds) == "scores-api:read, scores-api:write"
    assert scopes({}) == ", ".join(DEFAULT_SCOPES)


def test_a_token_without_the_api_scope_is_refused(simulator: Any) -> None:
    c = make_client(simulator.url, scopes="scores-api:read,scores-api:write")
    assert run(c, "writing_score")["score"]
    with pytest.raises(AuthError) as err:
        run(c, "ai_detection")
    assert err.value.status == 403 and "ai-detection-api:write" in err.value.message


def test_unknown_scope_is_refused_at_the_token_endpoint(simulator: Any) -> None:
    with pytest.raises(AuthError):
        make_client(simulator.url, scopes="everything:write").test_connection()


# -- the three steps -----------------------------------------------------------------------------------------
def test_check_creates_uploads_and_polls_with_progress(client: GrammarlyClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "plagiarism_check", steps)
    assert set(result["score"]) == {"originality"} and result["resumed"] is False
    assert steps.get("score_request_id") == result["score_request_id"] and steps.get("uploaded") is True
    assert [s for s, _ in steps.seen][:3] == ["creating score request", "uploading document",
                                              "waiting for the score"]
    assert len(sim.calls("grammarly", "POST", path=f"{API}/v1/plagiarism")) == 1
    assert len(sim.calls("grammarly", "PUT", contains="/grammarly/upload/")) == 1
    assert len(sim.calls("grammarly", "GET", contains="/v1/plagiarism/")) == 2  # PENDING, then COMPLETED


def test_ai_detection_returns_confidence_and_share(client: GrammarlyClient) -> None:
    score = run(client, "ai_detection")["score"]
    assert set(score) == {"average_confidence", "ai_generated_percentage"}


def test_restarted_worker_resumes_polling_the_stored_request(simulator: Any, sim: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    monkeypatch.setattr(GrammarlyClient, "POLL_TIMEOUT", 0.0)
    with pytest.raises(ProviderUnavailable, match="still PENDING"):
        run(make_client(simulator.url), "writing_score", steps)
    request_id = steps.get("score_request_id")
    monkeypatch.setattr(GrammarlyClient, "POLL_TIMEOUT", 5.0)
    result = run(make_client(simulator.url), "writing_score", steps)  # a new worker process
    assert result["score_request_id"] == request_id and result["resumed"] is True
    assert len(sim.calls("grammarly", "POST", path=f"{API}/v2/scores")) == 1
    assert len(sim.calls("grammarly", "PUT")) == 1


def test_request_never_uploaded_is_started_again(client: GrammarlyClient, sim: Any) -> None:
    sim.fault("grammarly", 500, path="/grammarly/upload/")
    steps = MemorySteps()
    with pytest.raises(ProviderUnavailable, match="upload"):
        run(client, "writing_score", steps)
    first = steps.get("score_request_id")
    assert first and not steps.get("uploaded")
    result = run(client, "writing_score", steps)
    assert result["score_request_id"] != first and result["score"]
    assert len(sim.calls("grammarly", "POST", path=f"{API}/v2/scores")) == 2


def test_upload_sends_no_bearer_token_and_audit_drops_the_signature(simulator: Any) -> None:
    records: list[CallRecord] = []
    run(make_client(simulator.url, record=records.append), "writing_score")
    [put] = [r for r in records if r.method == "PUT"]
    assert put.status == 200 and put.path.startswith("/grammarly/upload/") and "Amz" not in put.path
    assert all("?" not in r.path for r in records)


def test_failed_request_is_a_permanent_error(client: GrammarlyClient) -> None:
    params = SPEC.action("writing_score").params.model_construct(text="   ", filename="blank.txt")
    with pytest.raises(ProviderRejected, match="FAILED"):
        client.run("writing_score", params, MemorySteps())


def test_documents_need_thirty_words_and_a_text_format() -> None:
    params = SPEC.action("writing_score").params
    with pytest.raises(ValidationError, match="30 words"):
        params(text="Too short to score, even though it has more than thirty characters.")
    with pytest.raises(ValidationError):
        params(text=TEXT, filename="report.docx")
    assert params(text=TEXT, filename="report.rtf").filename == "report.rtf"


# -- errors ------------------------------------------------------------------------------------------------
def test_throttle_without_retry_after_waits_two_seconds(client: GrammarlyClient, sim: Any) -> None:
    sim.fault("grammarly", 429, path=API)
    with pytest.raises(RateLimited) as err:
        run(client, "writing_score")
    assert err.value.retry_after == 2.0 and err.value.provider_code == "too_many_requests"


def test_throttle_honours_retry_after(client: GrammarlyClient, sim: Any) -> None:
    sim.fault("grammarly", 429, path=API, retry_after=7)
    with pytest.raises(RateLimited) as err:
        run(client, "writing_score")
    assert err.value.retry_after == 7


def test_refused_token_is_fetched_again_once_then_auth_error(client: GrammarlyClient, sim: Any) -> None:
    sim.fault("grammarly", 401, path=API, times=2)
    with pytest.raises(AuthError):
        run(client, "writing_score")
    assert len(sim.calls("grammarly", "POST", path=TOKEN_PATH)) == 2  # the first token, then one retry
