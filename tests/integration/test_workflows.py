"""The SEO analysis workflow: fan-out to three providers, fan-in to one report, partial on failure."""

from __future__ import annotations

from tests.integration.conftest import Stack
from tests.integration.helpers import wait_job


def test_unknown_workflow_and_bad_params_are_rejected(stack: Stack) -> None:
    r = stack.api.post("/api/workflows/nope", json={"params": {}}, headers=stack.headers())
    assert r.status_code == 404 and "seo_analysis" in r.json()["error"]["message"]
    r = stack.api.post("/api/workflows/seo_analysis", json={"params": {"domain": "x"}}, headers=stack.headers())
    assert r.status_code == 422 and "domain" in r.json()["error"]["message"]
    listed = stack.api.get("/api/workflows", headers=stack.headers()).json()["workflows"]
    assert [s["integration"] for s in listed[0]["steps"]] == ["google_search_console", "semrush", "ahrefs"]


def test_workflow_whose_sources_all_fail_is_a_failed_job_that_says_why(stack: Stack) -> None:
    r = stack.api.post("/api/workflows/seo_analysis", headers=stack.headers(),
                       json={"params": {"domain": "https://www.acme.example/"}})
    assert r.status_code == 202
    parent = wait_job(stack, r.json()["id"])
    assert parent["status"] == "failed"
    for source in ("search_console", "semrush", "ahrefs"):
        assert source in parent["error"]["message"]
    steps = stack.api.get("/api/jobs", params={"agent": "seomi", "limit": 50}, headers=stack.headers()).json()["jobs"]
    mine = [j for j in steps if j["parent_id"] == parent["id"]]
    assert len(mine) == 3 and {j["status"] for j in mine} == {"failed"}
