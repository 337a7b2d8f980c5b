"""The SEO analysis workflow: fan-out to three providers, fan-in to one report, partial on failure."""

from __future__ import annotations

from tests.integration.conftest import Stack
from tests.integration.helpers import configure, fault, wait_job


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


SEO_CREDS = {
    "google_search_console": {"client_id": "c.apps.googleusercontent.com", "client_secret": "s3cret-value",
                              "refresh_token": "1//refresh-value", "site_url": "sc-domain:example.com"},
    "semrush": {"api_key": "semrush-key-0123456789"},
    "ahrefs": {"api_key": "ahrefs-key-0123456789"},
}


def _seo(stack: Stack, *, failing: str | None = None) -> dict:  # type: ignore[type-arg]
    for integration, creds in SEO_CREDS.items():
        configure(stack, "seomi", integration, creds)
    if failing:
        fault(stack, failing, 401, times=1)
    r = stack.api.post("/api/workflows/seo_analysis", headers=stack.headers(),
                       json={"params": {"domain": "example.com", "limit": 50}})
    assert r.status_code == 202
    return wait_job(stack, r.json()["id"], timeout=60)


def test_seo_analysis_fans_out_to_three_providers_and_combines_one_report(stack: Stack) -> None:
    job = _seo(stack)
    assert job["status"] == "succeeded", job
    report = job["result"]
    assert report["partial"] is False and report["missing"] == []
    assert set(report["sources"]) == {"search_console", "semrush", "ahrefs"}
    assert all(s["keywords"] > 0 for s in report["sources"].values())
    assert report["keywords_total"] > 0 and any(report["recommendations"].values())
    assert job["progress"] == {"step": "3/3 sources done, combined", "percent": 100.0}


def test_seo_analysis_with_a_failing_provider_yields_a_partial_report(stack: Stack) -> None:
    job = _seo(stack, failing="ahrefs")
    assert job["status"] == "succeeded", job
    report = job["result"]
    assert report["partial"] is True and set(report["sources"]) == {"search_console", "semrush"}
    assert [m["source"] for m in report["missing"]] == ["ahrefs"] and report["missing"][0]["error_type"] == "auth"
    assert "missing: ahrefs" in report["summary"]
