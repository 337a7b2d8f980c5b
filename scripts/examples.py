"""The product's example tasks, run through the Python client against a running Sintra."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from producers.client import SintraClient

NURTURE = [
    ("Welcome to Acme: here is what happens next", "Your first week with Acme, step by step."),
    ("The one feature our best customers use first", "Set it up in five minutes."),
    ("How Northwind cut reporting time by 60%", "A short customer story."),
    ("Your questions, answered", "The five things new users ask most."),
    ("Ready when you are: book a 15-minute call", "Talk to a specialist, no pressure."),
]
MAILCHIMP = {"api_key": "sandbox0123456789abcdef-us21", "list_id": "newleads"}
BRIEF = "The Acme One, our new desk lamp: warm, glare-free light for late-night creators; launch price 20% off"


def _follow(client: SintraClient, job_id: str, title: str, timeout: float = 90.0) -> Any:
    """Print a job's status and progress as they change; return the finished job."""
    seen: tuple[Any, ...] = ()
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_job(job_id)
        now = (job.status, job.attempts, json.dumps(job.progress))
        if now != seen:
            step = f"  {job.progress['step']}" if job.progress else ""
            print(f"  [{title}] {job.status} (attempt {job.attempts}){step}")
            seen = now
        if job.status in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _connect(client: SintraClient, agent: str, integration: str, creds: dict[str, str]) -> None:
    client.configure(agent, integration, creds)
    outcome = client.connect(agent, integration)
    print(f"  {agent}/{integration}: configure -> connect: {outcome.status} ({outcome.message})")


def email_sequence(client: SintraClient) -> None:
    """Emmie + Mailchimp: 'create a 5-email nurturing sequence for new leads'."""
    print("\nExample 1 - Emmie + Mailchimp: create a 5-email nurturing sequence for new leads")
    _connect(client, "emmie", "mailchimp", MAILCHIMP)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    emails = [{"subject_line": s, "preview_text": p,
               "html": f"<h1>{s}</h1><p>{p}</p><p>Email {i} of 5 in your welcome series.</p>"}
              for i, (s, p) in enumerate(NURTURE, 1)]
    job = client.create_job("emmie", "mailchimp", "create_email_sequence",
                            {"title": "New-lead nurture", "from_name": "Acme", "reply_to": "hello@acme.example",
                             "start_at": start.isoformat(), "interval_days": 1, "emails": emails})
    done = _follow(client, job.id, "emmie")
    if done.status != "succeeded":
        print(f"  FAILED: {done.error}")
        return
    for c in done.result["campaigns"]:
        print(f"    campaign {c['campaign_id']}  scheduled {c['schedule_time']}  {NURTURE[c['position'] - 1][0]}")


def _chained(client: SintraClient, workflow_id: str, title: str, params: dict[str, Any]) -> Any:
    """Run a chained workflow and print its outcome; its report, or None when it failed."""
    done = _follow(client, client.run_workflow(workflow_id, params).id, title)
    if done.status != "succeeded":
        print(f"  FAILED: {done.error}")
        return None
    report = done.result
    print(f"  report: {report['summary']}" + ("  [PARTIAL]" if report["partial"] else ""))
    for m in report["missing"]:
        print(f"    not done {m['agent']}/{m['integration']}: {m['reason']}")
    return report


def instagram_post(client: SintraClient) -> None:
    """Penn + Soshie: 'create an Instagram post about our new product with 10 relevant hashtags'."""
    print("\nExample 2 - Penn writes with Copy.ai, Soshie publishes to Instagram: a post about our new product "
          "with 10 relevant hashtags")
    _connect(client, "penn", "copy_ai", {"api_key": "sandbox-copy-ai-key-0123456789"})
    _connect(client, "soshie", "instagram", {"access_token": "sandbox-instagram-token-0123456789",
                                             "ig_user_id": "17841400000000001"})
    report = _chained(client, "instagram_post_from_brief", "penn -> soshie", {
        "brief": BRIEF, "writer": "copy_ai", "copy_ai_workflow_id": "WCFG-sintra-instagram-caption",
        "image_url": "https://cdn.acme.example/launch/hero.jpg", "alt_text": "The Acme One on a desk",
        "hashtags": 10})
    if report is None:
        return
    print(f"    caption: {report['written']['caption']}")
    print(f"    hashtags ({report['written']['hashtags_from_writer']} from the writer): "
          + " ".join(f"#{t}" for t in report["written"]["hashtags"]))
    if published := report["delivered"].get("publish"):
        print(f"    published media {published['result']['media_id']}: {published['result']['permalink']}")


def email_sequence_from_brief(client: SintraClient) -> None:
    """Penn + Emmie: 'write a 5-email nurturing sequence for new leads and schedule it'."""
    print("\nExample 3 - Penn writes five emails with Jasper, Emmie schedules them in Mailchimp")
    _connect(client, "penn", "jasper", {"api_key": "sandbox-jasper-key-0123456789"})
    _connect(client, "emmie", "mailchimp", MAILCHIMP)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    report = _chained(client, "email_sequence_from_brief", "penn -> emmie", {
        "brief": BRIEF, "writer": "jasper", "audience": "new leads who signed up for the launch list",
        "from_name": "Acme", "reply_to": "hello@acme.example", "start_at": start.isoformat(), "interval_days": 2})
    if report is None:
        return
    scheduled = {c["position"]: c for c in (report["delivered"].get("sequence") or {"result": {"campaigns": []}})
                 ["result"]["campaigns"]}
    for n, written in enumerate(report["written"]["emails"], 1):
        when = scheduled[n]["schedule_time"] if n in scheduled else "not scheduled"
        print(f"    email {n}: {written['subject_line']!r}  ({when})")


def seo_analysis(client: SintraClient, api: str, key: str) -> None:
    """Seomi: 'complete SEO analysis of my site with keyword recommendations' (three sources, one report)."""
    print("\nExample 4 - Seomi: complete SEO analysis of my site with keyword recommendations")
    for integration, creds in (
            ("google_search_console", {"client_id": "sandbox.apps.googleusercontent.com",
                                       "client_secret": "sandbox-secret", "refresh_token": "1//sandbox-refresh",
                                       "site_url": "sc-domain:example.com"}),
            ("semrush", {"api_key": "sandbox-semrush-key-0123456789"}),
            ("ahrefs", {"api_key": "sandbox-ahrefs-key-0123456789"})):
        try:
            _connect(client, "seomi", integration, creds)
        except Exception as exc:  # noqa: BLE001 - the report will say this source is missing
            print(f"  seomi/{integration}: not connected ({exc})")
    workflow = client.run_workflow("seo_analysis", {"domain": "example.com", "limit": 50})
    done = _follow(client, workflow.id, "seomi")
    report = done.result or {}
    if done.status != "succeeded":
        print(f"  FAILED: {done.error}")
        return
    print(f"  report: {report['summary']}" + ("  [PARTIAL]" if report["partial"] else ""))
    for m in report["missing"]:
        print(f"    missing {m['source']}: {m['reason']}")
    for title, rows in report["recommendations"].items():
        shown = ", ".join(f"{e['keyword']} (pos {e.get('position', '?'):.0f})" if "position" in e else e["keyword"]
                          for e in rows[:5])
        print(f"    {title.replace('_', ' ')}: {shown or '-'}")


def run_examples(api: str, key: str) -> None:
    """Run every example against the API at ``api`` with ``key``."""
    with SintraClient(api, key) as client:
        email_sequence(client)
        instagram_post(client)
        email_sequence_from_brief(client)
        seo_analysis(client, api, key)
