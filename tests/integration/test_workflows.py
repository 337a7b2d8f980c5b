"""Workflows: the SEO analysis (fan-out to three providers, fan-in to one report, partial on failure) and
the chained ones (Penn writes from a brief, Soshie or Emmie publishes what Penn wrote)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.helpers import GOOD_INSTAGRAM, GOOD_MAILCHIMP, configure, fault, wait_job


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


def _seo(stack: Stack, *, failing: str | None = None) -> dict[str, Any]:
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
    assert job["progress"] == {"step": "3/3 steps done, combined", "percent": 100.0}


def test_seo_analysis_with_a_failing_provider_yields_a_partial_report(stack: Stack) -> None:
    job = _seo(stack, failing="ahrefs")
    assert job["status"] == "succeeded", job
    report = job["result"]
    assert report["partial"] is True and set(report["sources"]) == {"search_console", "semrush"}
    assert [m["source"] for m in report["missing"]] == ["ahrefs"] and report["missing"][0]["error_type"] == "auth"
    assert "missing: ahrefs" in report["summary"]


# -- chained workflows: Penn writes, Soshie or Emmie publishes ------------------------------------------
BRIEF = "Our new Acme One desk lamp: warm light for late-night creators, on sale from Monday"
PHOTO = "https://cdn.acme.example/launch/hero.jpg"


def _post(stack: Stack, **params: object) -> dict[str, Any]:
    configure(stack, "penn", "jasper", {"api_key": "jsp_good_key_0001"})
    configure(stack, "soshie", "instagram", GOOD_INSTAGRAM)
    r = stack.api.post("/api/workflows/instagram_post_from_brief", headers=stack.headers(),
                       json={"params": {"brief": BRIEF, "image_url": PHOTO, "writer": "jasper", **params}})
    assert r.status_code == 202, r.text
    return wait_job(stack, r.json()["id"], timeout=30)


def _steps(stack: Stack, parent_id: str) -> dict[str, dict[str, Any]]:
    jobs = []
    for agent in ("penn", "soshie", "emmie"):
        jobs += stack.api.get("/api/jobs", params={"agent": agent, "limit": 50}, headers=stack.headers()).json()["jobs"]
    return {j["idempotency_key"].rsplit(":", 1)[1]: j for j in jobs if j["parent_id"] == parent_id}


def test_instagram_post_from_brief_publishes_the_caption_and_hashtags_penn_wrote(stack: Stack) -> None:
    job = _post(stack, hashtags=8)
    assert job["status"] == "succeeded", job
    report = job["result"]
    assert report["partial"] is False and report["missing"] == []
    written = report["written"]
    assert "written by Jasper" in written["caption"] and len(written["hashtags"]) == 8
    steps = _steps(stack, job["id"])
    # each step ran on its own agent's queue; the publish step's params came from the writer's result
    assert (steps["caption"]["agent"], steps["caption"]["integration"]) == ("penn", "jasper")
    assert (steps["publish"]["agent"], steps["publish"]["integration"]) == ("soshie", "instagram")
    assert steps["publish"]["params"]["caption"] == written["caption"]
    published = report["delivered"]["publish"]["result"]
    assert published["media_id"] and published["caption"].endswith(" ".join(f"#{t}" for t in written["hashtags"]))
    assert [e["kind"] for e in job["attempt_log"]] == ["stage", "succeeded"]


def test_instagram_post_whose_writer_fails_fails_the_workflow_and_publishes_nothing(stack: Stack) -> None:
    configure(stack, "penn", "jasper", {"api_key": "jsp_good_key_0001"})
    fault(stack, "jasper", 400, times=1, path="/command")
    job = _post(stack)
    assert job["status"] == "failed", job
    assert "Penn could not write the copy" in job["error"]["message"] and "caption" in job["error"]["message"]
    assert set(_steps(stack, job["id"])) == {"caption"}  # the publish step was never created


def test_instagram_post_whose_publish_fails_keeps_the_written_copy_in_a_partial_report(stack: Stack) -> None:
    configure(stack, "soshie", "instagram", GOOD_INSTAGRAM)
    fault(stack, "instagram", 400, times=1, path="/media")
    job = _post(stack, alt_text="The Acme One on a desk")
    assert job["status"] == "succeeded", job
    report = job["result"]
    assert report["partial"] is True and report["delivered"] == {}
    assert [(m["step"], m["agent"], m["integration"]) for m in report["missing"]] == [("publish", "soshie",
                                                                                        "instagram")]
    assert report["missing"][0]["reason"] and "instagram publish_photo failed" in report["summary"]
    assert report["written"]["caption"] and len(report["written"]["hashtags"]) == 10


def test_email_sequence_from_brief_schedules_the_five_emails_penn_wrote(stack: Stack,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.providers.copy_ai import CopyAiClient

    monkeypatch.setattr(CopyAiClient, "POLL_INTERVAL", 0.05)  # the simulator finishes a run on its second poll
    configure(stack, "penn", "copy_ai", {"api_key": "cai_good_key_0001"})
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    params = {"brief": BRIEF, "copy_ai_workflow_id": "WCFG-sintra-email", "audience": "new leads",
              "from_name": "Acme", "reply_to": "hello@acme.example", "start_at": start.isoformat()}
    r = stack.api.post("/api/workflows/email_sequence_from_brief", headers=stack.headers(), json={"params": params})
    assert r.status_code == 202, r.text
    job = wait_job(stack, r.json()["id"], timeout=40)
    assert job["status"] == "succeeded", job
    report = job["result"]
    emails, campaigns = report["written"]["emails"], report["delivered"]["sequence"]["result"]["campaigns"]
    assert report["partial"] is False and len(emails) == 5 and len(campaigns) == 5
    assert all("Acme One desk lamp" in e["html"] for e in emails)
    assert [c["subject_line"] for c in campaigns] == [e["subject_line"] for e in emails]
    steps = _steps(stack, job["id"])
    assert {steps[f"email_{n}"]["agent"] for n in range(1, 6)} == {"penn"} and steps["sequence"]["agent"] == "emmie"


def test_chained_workflow_params_are_checked_before_anything_runs(stack: Stack) -> None:
    r = stack.api.post("/api/workflows/instagram_post_from_brief", headers=stack.headers(),
                       json={"params": {"brief": BRIEF, "image_url": PHOTO}})
    assert r.status_code == 422 and "copy_ai_workflow_id" in r.json()["error"]["message"]
    r = stack.api.post("/api/workflows/email_sequence_from_brief", headers=stack.headers(),
                       json={"params": {"brief": BRIEF, "writer": "jasper", "from_name": "Acme",
                                        "reply_to": "hello@acme.example", "start_at": "2020-01-06T09:00:00Z"}})
    assert r.status_code == 422 and "start_at" in r.json()["error"]["message"]


def test_a_chained_workflow_whose_fan_in_was_lost_between_stages_is_resumed_by_the_sweeper(stack: Stack) -> None:
    from sqlalchemy import delete, update
    from sqlmodel import Session

    from workers.dispatch import complete_workflows
    from workers.store.models import Job, JobStep

    job = _post(stack)
    first = _steps(stack, job["id"])["publish"]
    with Session(stack.engine) as s:  # type: ignore[arg-type]
        # as if the writer's worker died right after recording its step, before the fan-in queued the workflow
        s.execute(delete(JobStep).where(JobStep.job_id == first["id"]))
        s.execute(delete(Job).where(Job.id == first["id"]))
        s.execute(update(Job).where(Job.id == job["id"])
                  .values(status="running", worker_id=None, result=None, finished_at=None))
        s.commit()
    assert complete_workflows(stack.engine) >= 1  # type: ignore[arg-type]  # what every sweeper does
    done = wait_job(stack, job["id"], timeout=30)
    assert done["status"] == "succeeded" and done["result"]["delivered"]["publish"]["job_id"] != first["id"]
    assert [e["kind"] for e in done["attempt_log"]] == ["stage", "succeeded", "stage", "succeeded"]


def test_a_workflow_job_is_committed_with_its_first_steps_or_not_at_all(stack: Stack,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between the workflow's row and its steps' rows must not leave a `running` job with no steps."""
    from producers.api.routes import workflows as route

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("API process died while creating the steps")

    monkeypatch.setattr(route, "create_steps", crash)
    key = f"wf-atomic-{datetime.now(UTC).timestamp()}"
    with pytest.raises(RuntimeError, match="died"):
        stack.api.post("/api/workflows/seo_analysis", headers=stack.headers(),
                       json={"params": {"domain": "example.com"}, "idempotency_key": key})
    monkeypatch.undo()
    r = stack.api.post("/api/workflows/seo_analysis", headers=stack.headers(),
                       json={"params": {"domain": "example.com"}, "idempotency_key": key})
    assert r.status_code == 202, r.text  # nothing was left behind under that key: this starts it for real
    steps = stack.api.get("/api/jobs", params={"agent": "seomi", "limit": 50}, headers=stack.headers()).json()["jobs"]
    assert len([j for j in steps if j["parent_id"] == r.json()["id"]]) == 3
