"""CopyAiClient against the simulator: runs, polling, resumption, marker lookup and error shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from config.catalog.integrations.copy_ai import SPEC
from simulator.urls import BASES
from workers.credentials.base import Credentials
from workers.errors import AuthError, ProviderRejected, ProviderUnavailable, RateLimited
from workers.providers.base import DEFAULT_RETRY_AFTER, MemorySteps
from workers.providers.copy_ai import MARKER_KEY, CopyAiClient, items

WF = "WCFG-0b1c2d3e-4f50-penn"
API = BASES["copy_ai"]


def make_client(url: str, key: str = "cai_key_0001") -> CopyAiClient:
    http = httpx.Client(base_url=url + API, timeout=10)
    creds = Credentials({"api_key": key}, secret_fields=SPEC.secret_fields)
    return CopyAiClient(http=http, credentials=creds)


@pytest.fixture
def client(simulator: Any) -> Iterator[CopyAiClient]:
    c = make_client(simulator.url)
    yield c
    c.http.close()


def run(client: CopyAiClient, action: str, steps: MemorySteps | None = None, **params: Any) -> Any:
    return client.run(action, SPEC.action(action).params(**params), steps or MemorySteps())


def runs(client: CopyAiClient, limit: int = 100) -> list[dict[str, Any]]:
    return run(client, "list_workflow_runs", workflow_id=WF, limit=limit)["runs"]


def test_connection_lists_webhooks_and_bad_key_is_auth_error(client: CopyAiClient, simulator: Any) -> None:
    assert client.test_connection() == {"webhooks": 0}
    with pytest.raises(AuthError) as err:
        make_client(simulator.url, key="bad_key").test_connection()
    assert err.value.status == 401 and err.value.provider_code == "UNAUTHORIZED"


def test_run_workflow_stamps_the_marker_and_keeps_caller_metadata(client: CopyAiClient, sim: Any) -> None:
    steps = MemorySteps()
    result = run(client, "run_workflow", steps, workflow_id=WF, inputs={"brief": "Spring sale"},
                 metadata={"campaign": "spring"})
    assert result["status"] == "COMPLETE" and "Spring sale" in result["output"]["generated_text"]
    assert result["metadata"] == {"campaign": "spring", MARKER_KEY: steps.marker}
    assert steps.get("run_id") == result["run_id"] and result["credits"] == 2
    assert ("workflow run PROCESSING", 50.0) in steps.seen
    assert len(sim.calls("copy_ai", "POST")) == 1


def test_restarted_worker_polls_the_stored_run(simulator: Any, sim: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    monkeypatch.setattr(CopyAiClient, "POLL_TIMEOUT", 0.0)
    with pytest.raises(ProviderUnavailable, match="still PROCESSING"):
        run(make_client(simulator.url), "generate_content", steps, workflow_id=WF, brief="Resume me")
    monkeypatch.setattr(CopyAiClient, "POLL_TIMEOUT", 5.0)
    result = run(make_client(simulator.url), "generate_content", steps, workflow_id=WF, brief="Resume me")
    assert result["run_id"] == steps.get("run_id") and result["text"]
    assert len(sim.calls("copy_ai", "POST")) == 1


def test_retry_after_lost_run_id_finds_the_run_by_marker_across_pages(
        client: CopyAiClient, sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = MemorySteps()
    run(client, "brainstorm", steps, workflow_id=WF, topic="Podcast names", count=3)
    for n in range(3):  # newer runs push ours to a later page
        run(client, "generate_content", workflow_id=WF, brief=f"Other {n}")
    monkeypatch.setattr(CopyAiClient, "PAGE_SIZE", 2)
    retry = MemorySteps(values={"intent:run": True}, marker=steps.marker)  # the run id was never recorded
    result = run(client, "brainstorm", retry, workflow_id=WF, topic="Podcast names", count=3)
    assert result["run_id"] == steps.get("run_id") and len(result["ideas"]) == 3
    assert len(sim.calls("copy_ai", "POST")) == 4


def test_list_runs_pages_and_honours_limit(client: CopyAiClient, sim: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        run(client, "generate_content", workflow_id=WF, brief=f"Brief {n}")
    monkeypatch.setattr(CopyAiClient, "PAGE_SIZE", 2)
    listed = runs(client, limit=3)
    assert [r["input"]["brief"] for r in listed] == ["Brief 4", "Brief 3", "Brief 2"]
    assert len(sim.calls("copy_ai", "GET", path=f"{API}/workflow/{WF}/run")) == 2


def test_brainstorm_and_variations_split_the_output_into_items(client: CopyAiClient) -> None:
    ideas = run(client, "brainstorm", workflow_id=WF, topic="Webinar titles", count=4)["ideas"]
    assert ideas == [f"Webinar titles: idea {n}" for n in range(1, 5)]
    variations = run(client, "variations", workflow_id=WF, text="Ship faster", count=2)["variations"]
    assert variations == ["Ship faster (take 1)", "Ship faster (take 2)"]
    assert items({"ideas": ["a", "b", "c"]}, 2) == ["a", "b"]
    assert items({"text": "- one\n* two\n3) three\n"}, 5) == ["one", "two", "three"]


def test_failed_run_is_a_permanent_error(client: CopyAiClient) -> None:
    with pytest.raises(ProviderRejected, match="FAILED"):
        run(client, "run_workflow", workflow_id=WF, inputs={"brief": "FAIL_THIS_RUN"})


def test_unknown_workflow_is_rejected(client: CopyAiClient) -> None:
    with pytest.raises(ProviderRejected) as err:
        run(client, "run_workflow", workflow_id="WCFG-missing-1", inputs={"brief": "x"})
    assert err.value.status == 404 and err.value.provider_code == "NOT_FOUND"


def test_workflow_ids_take_both_prefixes() -> None:
    params = SPEC.action("get_workflow_run").params
    assert params(workflow_id="PKGW-51585ccc-7c38", run_id="WRUN-1").workflow_id.startswith("PKGW-")
    with pytest.raises(ValidationError):
        params(workflow_id="workflow-1", run_id="WRUN-1")


def test_out_of_credits_is_permanent_with_its_code(client: CopyAiClient, sim: Any) -> None:
    body = json.dumps({"status": "error", "errorCode": "WORKFLOW_CREDIT_LIMIT_REACHED"})
    sim.fault("copy_ai", 400, path="/run", method="POST", body=body, content_type="application/json")
    with pytest.raises(ProviderRejected, match="out of workflow credits") as err:
        run(client, "generate_content", workflow_id=WF, brief="No credits")
    assert err.value.provider_code == "WORKFLOW_CREDIT_LIMIT_REACHED"


def test_error_inside_a_200_is_not_a_success(client: CopyAiClient, sim: Any) -> None:
    body = json.dumps({"status": "error", "errorCode": "INVALID_WORKFLOW_CONFIG"})
    sim.fault("copy_ai", 200, path="/run", method="POST", body=body, content_type="application/json")
    with pytest.raises(ProviderRejected) as err:
        run(client, "generate_content", workflow_id=WF, brief="Broken")
    assert err.value.provider_code == "INVALID_WORKFLOW_CONFIG"


def test_throttle_honours_retry_after_or_waits_the_default(client: CopyAiClient, sim: Any) -> None:
    sim.fault("copy_ai", 429, path=API, retry_after=5)
    with pytest.raises(RateLimited) as err:
        runs(client)
    assert err.value.retry_after == 5 and err.value.provider_code == "TOO_MANY_REQUESTS"
    sim.fault("copy_ai", 429, path=API)
    with pytest.raises(RateLimited) as err:
        runs(client)
    assert err.value.retry_after == DEFAULT_RETRY_AFTER
