"""No secret value ever reaches a console page, fragment or /api answer, through a whole session of use."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect


def test_a_canary_secret_never_reaches_a_page_or_its_html_source(console: Any) -> None:
    page, _stack, base = console
    canary = f"canary{uuid.uuid4().hex}-us21"
    bodies: list[tuple[str, str]] = []

    def keep(response: Any) -> None:
        if response.request.resource_type in ("document", "fetch", "xhr") and response.status != 303:
            try:
                bodies.append((response.url, response.text()))
            except Exception:  # noqa: BLE001 - a body the browser did not keep (a redirect)
                pass

    page.on("response", keep)
    page.goto(f"{base}/agents/emmie/mailchimp")
    page.get_by_label(re.compile(r"^api_key")).fill(canary)
    page.get_by_role("button", name="Save credentials").click()
    expect(page.locator("#configure-result")).to_contain_text("Saved to Vault")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connect-result")).to_contain_text("Connected")
    page.locator("#action-list_campaigns summary").click()
    page.get_by_role("button", name="Run list_campaigns").click()
    expect(page.locator("#run-list_campaigns-result .badge")).to_have_text("succeeded", timeout=20_000)
    page.wait_for_timeout(3500)  # let the live regions refresh at least once
    sources = [page.content()]
    job_link = page.locator("#run-list_campaigns-result a").get_attribute("href")
    for path in ("/agents", "/agents/emmie", "/agents/emmie/mailchimp", "/ops", "/ops/jobs", job_link,
                 "/ops/schedules", "/api/integrations/emmie/mailchimp", "/api/ops/jobs",
                 "/api/integrations/emmie/mailchimp/audit", f"/api/jobs/{job_link.rsplit('/', 1)[-1]}/audit"):
        page.goto(base + path)
        sources.append(page.content())
    assert len(bodies) > 15
    leaks = [url for url, text in bodies if canary in text] + [i for i, s in enumerate(sources) if canary in s]
    assert not leaks, f"the canary secret reached: {leaks}"
    page.remove_listener("response", keep)
