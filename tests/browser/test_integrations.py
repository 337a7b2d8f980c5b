"""The product's flow in the browser: configure Mailchimp, test it, run an action, read its activity."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import expect

from config.catalog import integration
from tests.browser.conftest import screenshot

BAD_KEY = "bad-key-0123456789-us21"
GOOD_KEY = "sandboxkey0123456789-us21"


def _open_mailchimp(page: Any, base: str) -> None:
    page.goto(f"{base}/agents/emmie")
    page.get_by_role("link", name="Mailchimp").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mailchimp")


def _save(page: Any, api_key: str) -> None:
    page.get_by_label(re.compile(r"^api_key")).fill(api_key)
    page.get_by_label(re.compile(r"^list_id")).fill("leads")
    page.get_by_role("button", name="Save credentials").click()
    expect(page.locator("#configure-result")).to_have_text("Saved to Vault. Now test the connection.")


def test_every_agent_has_a_page_listing_its_integrations_with_state_and_restrictions(console: Any) -> None:
    page, _stack, base = console
    page.goto(f"{base}/agents")
    sidebar = page.get_by_role("navigation", name="Agents")
    names = ["Soshie", "Cassie", "Seomi", "Dexter", "Buddy", "Emmie", "Penn"]
    for name in names:
        expect(sidebar.get_by_role("link", name=re.compile(name))).to_be_visible()
    sidebar.get_by_role("link", name=re.compile("Soshie")).click()
    linkedin = page.locator("tr[data-integration=linkedin]")
    expect(linkedin).to_contain_text("not configured")
    expect(page.locator("tr[data-integration=tiktok]")).to_contain_text("trending_hashtags is restricted: ")
    page.goto(f"{base}/agents/seomi")
    expect(page.locator("tr[data-integration=ahrefs]")).to_contain_text("API")  # the plan it needs, from the catalog


def test_bad_key_fails_the_test_with_the_providers_message_then_the_fixed_key_connects(console: Any) -> None:
    page, _stack, base = console
    _open_mailchimp(page, base)
    secret_input = page.get_by_label(re.compile(r"^api_key"))
    expect(secret_input).to_have_attribute("type", "password")
    expect(page.locator("label[for=cred-api_key]")).to_contain_text("required")
    expect(page.locator("label[for=cred-list_id]")).to_contain_text("optional")
    expect(page.get_by_role("link", name="Mailchimp API documentation")).to_have_attribute(
        "href", "https://mailchimp.com/developer/marketing/api/")

    _save(page, BAD_KEY)
    expect(secret_input).to_have_value("")  # never kept in the page after saving
    expect(page.locator("#integration-status")).to_have_text("configured")
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connect-result")
    expect(result).to_contain_text("Authentication failed: ")
    expect(result).to_contain_text("Your API key may be invalid")
    expect(page.locator("#integration-status")).to_have_text("error")
    expect(page.locator("#integration-message")).to_contain_text("Your API key may be invalid")

    _save(page, GOOD_KEY)
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_have_text("Connected: connection test succeeded")
    expect(page.locator("#integration-status")).to_have_text("connected")
    page.goto(f"{base}/agents/emmie")
    expect(page.locator("tr[data-integration=mailchimp]")).to_contain_text("connected")
    screenshot(page, "console-agent.png")


def test_an_action_runs_from_its_form_and_shows_in_the_jobs_table_with_its_audit_trail(console: Any) -> None:
    page, stack, base = console
    _open_mailchimp(page, base)
    page.locator("#action-list_campaigns summary").click()
    form = page.locator("#action-list_campaigns form")
    # prefilled with the catalog's own example, which works as written against the simulator's sandbox
    action = integration("emmie", "mailchimp").action("list_campaigns")  # type: ignore[union-attr]
    example = action.schema_json()["examples"][0]  # type: ignore[union-attr]
    expect(form.get_by_label(re.compile("Parameters"))).to_have_value(json.dumps(example, indent=2, sort_keys=True))
    form.get_by_label(re.compile("Parameters")).fill('{"limit": 5}')
    form.get_by_role("button", name="Run list_campaigns").click()
    outcome = page.locator("#run-list_campaigns-result")
    expect(outcome.locator(".badge")).to_have_text("succeeded", timeout=20_000)
    expect(outcome.locator("pre")).to_contain_text('"campaigns"')
    job_id = outcome.get_by_role("link").get_attribute("href").rsplit("/", 1)[-1]

    activity = page.locator("#activity")
    expect(activity.locator("#integration-jobs")).to_contain_text("list_campaigns")
    expect(activity.locator("table.audit")).to_contain_text("/campaigns")
    page.locator("#action-list_campaigns summary").click()
    page.locator("#state").scroll_into_view_if_needed()
    screenshot(page, "console-integrations.png")

    page.goto(f"{base}/ops/jobs")
    page.get_by_label("Integration").select_option("mailchimp")
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_label("Job id or idempotency key").fill(job_id[:10])
    page.get_by_role("button", name="Filter", exact=True).click()
    rows = page.locator("#jobs-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("list_campaigns")
    rows.first.get_by_role("link", name=job_id[:12]).click()

    expect(page.locator("#job-status")).to_have_text("succeeded")
    trail = page.locator("table.audit")
    expect(trail).to_contain_text("GET")
    expect(trail).to_contain_text("/campaigns")
    expect(trail).to_contain_text("200")
    expect(page.locator("#job-result")).to_contain_text('"campaigns"')
    expect(page.locator("pre.json").first).to_contain_text('"limit": 5')
    assert stack.workspace in page.locator(".who").inner_text()


def test_a_slow_connection_test_is_followed_to_its_outcome(console: Any) -> None:
    page, stack, base = console
    app = stack.api.app
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"connect_wait_seconds": 0.0})  # the API answers 202 at once
    try:
        _open_mailchimp(page, base)
        _save(page, BAD_KEY)
        with page.expect_response(lambda r: r.url.endswith("/connect")) as answer:
            page.get_by_role("button", name="Test connection").click()
        assert answer.value.status == 202
        result = page.locator("#connect-result")
        expect(result).to_contain_text("Authentication failed: ")
        expect(result).to_contain_text("Your API key may be invalid")
        _save(page, GOOD_KEY)
        page.get_by_role("button", name="Test connection").click()
        expect(result).to_have_text("Connected: connection test succeeded")
    finally:
        app.state.settings = settings
