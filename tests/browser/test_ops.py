"""The ops dashboard: queues and workers, schedules (pause, resume, run now), and disconnecting an integration."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.integration.helpers import GOOD_MAILCHIMP, configure, submit, wait_job


def _schedule(stack: Any, name: str) -> dict[str, Any]:
    r = stack.api.post("/api/schedules", headers=stack.headers(), json={
        "name": name, "cron": "0 9 * * MON", "timezone": "Europe/Paris",
        "job": {"agent": "emmie", "integration": "mailchimp", "action": "list_campaigns", "params": {"limit": 3}}})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_dashboard_shows_each_agents_queue_and_updates_without_a_reload(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    page.goto(f"{base}/ops")
    emmie = page.locator("#queue-table tr[data-agent=emmie]")
    expect(page.locator("#queue-table tbody tr")).to_have_count(7)
    finished = int(emmie.locator("td[data-col=finished]").inner_text())
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    done = [wait_job(stack, submit(stack, "emmie", "mailchimp", "list_campaigns", {"limit": 2}).json()["id"])
            for _ in range(3)]
    assert all(j["status"] == "succeeded" for j in done)
    expect(emmie.locator("td[data-col=finished]")).to_have_text(str(finished + 3), timeout=10_000)
    expect(emmie.locator("td[data-col=per_minute]")).not_to_have_text("0.0")
    expect(emmie.locator("td[data-col=running]")).to_have_text("0")
    assert page.evaluate("window.__marker") == 1
    expect(page.locator("#queues")).to_contain_text("Pickup p50")
    worker = page.locator("#worker-table tbody tr").filter(has_text="agent.emmie")  # the in-process worker
    expect(worker.locator(".badge")).to_have_text("alive")
    screenshot(page, "console-dashboard.png")


def test_a_schedule_is_paused_resumed_and_run_now_from_the_schedules_page(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    sched = _schedule(stack, "Weekly campaign list")
    page.goto(f"{base}/ops/schedules")
    card = page.locator(f"#schedule-{sched['id']}")
    expect(card.locator("[data-role=status]")).to_have_text("active")
    expect(card).to_contain_text(sched["next_fire_times"][0][:10])
    local = sched["next_fire_times_local"][0]
    assert local.endswith(("+01:00", "+02:00")) and local[11:16] == "09:00"  # Monday 09:00 in Paris
    expect(card).to_contain_text(local[:16].replace("T", " "))

    card.get_by_role("button", name="Pause").click()
    expect(card.locator("[data-role=status]")).to_have_text("paused")
    expect(card).to_contain_text("None while paused")
    assert stack.api.get(f"/api/schedules/{sched['id']}", headers=stack.headers()).json()["status"] == "paused"
    card.get_by_role("button", name="Resume").click()
    expect(card.locator("[data-role=status]")).to_have_text("active")
    expect(card).to_contain_text(local[:16].replace("T", " "))

    card.get_by_role("button", name="Run now").click()
    expect(page.locator("#flash")).to_contain_text("submitted")
    expect(card.locator("ul.plain li")).to_have_count(1)
    expect(card.locator("ul.plain li .badge")).to_have_text("succeeded", timeout=15_000)


def test_disconnect_asks_first_then_deletes_credentials_and_pauses_schedules(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    sched = _schedule(stack, "Paused by the disconnect")
    page.goto(f"{base}/agents/emmie/mailchimp")
    page.get_by_role("button", name="Disconnect…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("credentials are deleted")
    expect(dialog).to_contain_text("jobs of this integration are failed")
    expect(dialog).to_contain_text("schedules are paused")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#connect-result")).to_have_text("Nothing was changed.")
    expect(page.locator("#integration-status")).to_have_text("connected")

    page.get_by_role("button", name="Disconnect…").click()
    page.get_by_role("dialog").get_by_role("button", name="Disconnect").click()
    expect(page.locator("#connect-result")).to_contain_text(re.compile(r"Disconnected: credentials deleted, "
                                                                       r"\d+ queued job\(s\) failed, [1-9]\d* "
                                                                       r"schedule\(s\) paused"))
    expect(page.locator("#integration-status")).to_have_text("disconnected")
    page.goto(f"{base}/ops/schedules")
    card = page.locator(f"#schedule-{sched['id']}")
    expect(card.locator("[data-role=status]")).to_have_text("paused")
    expect(card).to_contain_text("was disconnected")


def test_a_multi_step_jobs_page_shows_its_progress_steps_result_and_provider_calls(console: Any) -> None:
    from tests.integration.helpers import GOOD_INSTAGRAM

    page, stack, base = console
    configure(stack, "soshie", "instagram", GOOD_INSTAGRAM)
    job = submit(stack, "soshie", "instagram", "publish_photo",
                 {"image_url": "https://cdn.example.com/a.jpg", "caption": "New product!", "hashtags": ["launch"]})
    page.goto(f"{base}/ops/jobs/{job.json()['id']}")
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=20_000)  # the page follows it live
    timeline = page.locator("#job-timeline")
    expect(timeline).to_contain_text("creating media container (60.0 %)")
    expect(timeline).to_contain_text("publishing (90.0 %)")
    for step in ("queued", "running", "progress", "succeeded"):
        expect(timeline.locator(".badge", has_text=step).first).to_be_visible()
    expect(page.locator("#job-result")).to_contain_text('"media_id"')
    trail = page.locator("table.audit")
    expect(trail).to_contain_text(f"/{GOOD_INSTAGRAM['ig_user_id']}/media_publish")
    expect(trail).to_contain_text("POST")
