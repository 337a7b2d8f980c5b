"""The product's example tasks, run through the Python client against a running Sintra."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, UTC
from typing import Any

from producers.client import SintraClient

NURTURE = [
    ("Welcome to Acme: here is what happens next", "Your first week with Acme, step by step."),
    ("The one feature our best customers use first", "Set it up in five minutes."),
    ("How Northwind cut reporting time by 60%", "A short customer story."),
    ("Your questions, answered", "The five things new users ask most."),
    ("Ready when you are: book a 15-minute call", "Talk to a specialist, no pressure."),
]
HASHTAGS = ["newproduct", "launch", "acme", "innovation", "design", "productivity", "smallbusiness",
            "tech", "startup", "madewithcare"]


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
    _connect(client, "emmie", "mailchimp", {"api_key": "sandbox0123456789abcdef-us21", "list_id": "newleads"})
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


def instagram_post(client: SintraClient) -> None:
    """Soshie + Instagram: 'create an Instagram post about our new product with 10 relevant hashtags'."""
    print("\nExample 2 - Soshie + Instagram: a post about our new product with 10 relevant hashtags")
    _connect(client, "soshie", "instagram", {"access_token": "sandbox-instagram-token-0123456789",
                                             "ig_user_id": "17841400000000001"})
    job = client.create_job("soshie", "instagram", "publish_photo",
                            {"image_url": "https://cdn.acme.example/launch/hero.jpg",
                             "caption": "Meet the Acme One: everything you need, nothing you don't.",
                             "alt_text": "The Acme One on a desk", "hashtags": HASHTAGS})
    done = _follow(client, job.id, "soshie")
    if done.status != "succeeded":
        print(f"  FAILED: {done.error}")
        return
    print("    " + json.dumps(done.result, indent=2, default=str).replace("\n", "\n    "))
    tags = [w for w in (done.result.get("caption") or "").split() if w.startswith("#")]
    print(f"    published caption carries {len(tags)} hashtags: {' '.join(tags)}")


def seo_analysis(client: SintraClient, api: str, key: str) -> None:
    """Seomi: 'complete SEO analysis of my site with keyword recommendations' (three sources, one report)."""
    print("\nExample 3 - Seomi: complete SEO analysis of my site with keyword recommendations")
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
        seo_analysis(client, api, key)
