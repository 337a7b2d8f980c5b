"""The console's "Connect with X": save the app's fields, press the button, Allow on X's (simulated) consent
page, and land back on the integration page while the worker exchanges the code: ``connected``."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_connect_with_x_goes_through_the_consent_page_to_connected(console: Any) -> None:
    page, stack, base = console
    page.goto(f"{base}/agents/soshie/x")
    button = page.get_by_role("button", name="Connect with X")
    page.locator("#cred-client_id").fill("M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ")
    page.locator("#cred-client_secret").fill("browser-client-secret-0123456789abcdef")
    page.get_by_role("button", name="Save credentials").click()
    expect(page.locator("#configure-result")).to_contain_text("Now Connect with X")
    expect(button).to_be_enabled()
    expect(page.locator("#oauth-redirect-uri")).to_have_text(f"{base}/api/oauth/callback")

    button.click()
    page.wait_for_url(f"{stack.settings.provider_root}/x/i/oauth2/authorize?*")
    expect(page.locator("#scopes")).to_contain_text("tweet.write")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{base}/agents/soshie/x")
    expect(page.locator("#integration-status")).to_have_text("connected", timeout=10_000)
