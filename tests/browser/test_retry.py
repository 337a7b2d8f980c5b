"""Failed jobs in the dashboard: retry one, and retry every failed job matching a filter after seeing the count."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.integration.helpers import GOOD_MAILCHIMP, configure, fault, submit, wait_job


def _failed_job(stack: Any, action: str, path: str, key: str) -> str:
    job = submit(stack, "emmie", "mailchimp", action, {"limit": 2}, idempotency_key=key).json()
    done = wait_job(stack, job["id"])
    assert done["status"] == "failed", done
    return str(job["id"])


def test_a_failed_job_is_retried_from_the_jobs_table_and_the_row_follows_it(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 400, path="/campaigns", times=1)
    job_id = _failed_job(stack, "list_campaigns", "/campaigns", f"retry-row-{uuid.uuid4().hex[:8]}")
    page.goto(f"{base}/ops/jobs?q={job_id}")
    row = page.locator(f"#jobs-table tr[data-job='{job_id}']")
    expect(row.locator(".badge")).to_have_text("failed")
    row.get_by_role("button", name="Retry").click()
    expect(page.locator("#flash")).to_contain_text(f"Retried: job {job_id[:12]}")
    expect(row.locator(".badge")).to_have_text("succeeded", timeout=20_000)  # the table refreshes in place
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)


def test_a_failed_job_is_retried_from_its_page_and_succeeds(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    fault(stack, "mailchimp", 400, path="/campaigns", times=1)  # a permanent error: no automatic retry
    job_id = _failed_job(stack, "list_campaigns", "/campaigns", f"retry-one-{uuid.uuid4().hex[:8]}")

    page.goto(f"{base}/ops/jobs?status=failed&q={job_id}")
    row = page.locator(f"#jobs-table tr[data-job='{job_id}']")
    expect(row.locator(".badge")).to_have_text("failed")
    expect(row.locator(".message")).not_to_be_empty()
    row.get_by_role("link", name=job_id[:12]).click()
    expect(page.locator("#job-status")).to_have_text("failed")
    expect(page.locator("#job-error")).to_contain_text("400")
    page.get_by_role("button", name="Retry").click()  # from the failed job's own page, which then follows it
    expect(page.locator("#flash")).to_contain_text("Retried")
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=20_000)
    expect(page.locator(".facts")).to_contain_text("2")  # attempts
    expect(page.locator("table.audit")).to_contain_text("400")  # the failed attempt's call stays in the trail
    expect(page.locator("table.audit")).to_contain_text("200")
    attempts = page.locator("#job-attempts tbody tr")
    expect(attempts.filter(has_text="permanent")).to_have_count(1)  # the first attempt and its error
    expect(attempts.filter(has_text="succeeded")).to_have_count(1)
    expect(page.locator("#job-timeline")).to_contain_text("retried by")
    screenshot(page, "console-job.png")


def test_bulk_retry_shows_the_exact_count_before_it_retries(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    batch = f"bulk-{uuid.uuid4().hex[:8]}"
    fault(stack, "mailchimp", 400, path="/reports", times=3)
    ids = [_failed_job(stack, "list_reports", "/reports", f"{batch}-{i}") for i in range(3)]

    page.goto(f"{base}/ops/jobs?agent=emmie&integration=mailchimp&action=list_reports")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(3)
    page.get_by_role("button", name="Retry all failed jobs matching this filter…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Retry 3 failed jobs?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#bulk-result")).to_have_text("Nothing was retried.")
    assert all(wait_job(stack, i)["status"] == "failed" for i in ids)

    page.get_by_role("button", name="Retry all failed jobs matching this filter…").click()
    page.get_by_role("dialog").get_by_role("button", name="Retry 3").click()
    expect(page.locator("#bulk-result")).to_have_text("Retried 3 jobs.")
    for job_id in ids:
        expect(page.locator(f"#jobs-table tr[data-job='{job_id}'] .badge")).to_have_text("succeeded",
                                                                                          timeout=20_000)


def test_a_scheduled_job_is_cancelled_from_the_jobs_table_after_a_confirmation(console: Any) -> None:
    page, stack, base = console
    configure(stack, "emmie", "mailchimp", GOOD_MAILCHIMP)
    job = submit(stack, "emmie", "mailchimp", "list_campaigns", {}, run_at="2031-01-06T09:00:00+00:00").json()
    assert job["status"] == "scheduled"
    page.goto(f"{base}/ops/jobs?q={job['id']}")
    row = page.locator(f"#jobs-table tr[data-job='{job['id']}']")
    row.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("It will not run.")
    dialog.get_by_role("button", name="Cancel job").click()
    expect(page.locator("#flash")).to_contain_text("cancelled")
    expect(row.locator(".badge")).to_have_text("cancelled")
    assert wait_job(stack, job["id"])["status"] == "cancelled"
