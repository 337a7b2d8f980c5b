"""Signing in and out: a wrong key is refused, the cookie is HttpOnly and SameSite, /api needs its CSRF token."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import sign_in
from workers.store.db import session_scope
from workers.store.models import AuditEvent


def test_a_wrong_key_is_refused_with_a_message(browser: Any, live: Any) -> None:
    _stack, base = live
    page = browser.new_page()
    page.goto(f"{base}/ops")
    assert page.url.startswith(f"{base}/signin")  # every page needs a session
    page.get_by_label("API key").fill("sk_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That API key is not valid")
    assert page.context.cookies() == [] or all(c["name"] != "sintra_session" for c in page.context.cookies())
    page.close()


def test_signing_in_scopes_the_session_to_the_keys_workspace_and_signing_out_ends_it(browser: Any,
                                                                                     live: Any) -> None:
    stack, base = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, stack.key)
    expect(page.locator(".who")).to_contain_text(stack.workspace)
    cookie = next(c for c in context.cookies() if c["name"] == "sintra_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert stack.key not in cookie["value"]  # the cookie names the key; it does not carry it
    assert page.evaluate("document.cookie") == ""  # not readable from scripts

    status = page.evaluate("fetch('/api/ops/queues').then(r => r.status)")
    assert status == 200  # the console's own /api calls ride on the session
    refused = page.evaluate("""fetch('/api/integrations/emmie/mailchimp/disconnect', {method: 'POST'})
                               .then(r => r.json())""")
    assert refused["error"]["code"] == "csrf_failed"  # a state change without the page's CSRF token

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/signin")
    with session_scope(stack.engine) as s:  # both ends of the session are in the audit trail
        outcomes = [e.outcome for e in s.exec(select(AuditEvent).where(AuditEvent.workspace_id == stack.workspace,
                                                                        AuditEvent.actor.startswith("console:")))]
    assert {"signed_in", "signed_out"} <= set(outcomes)
    page.goto(f"{base}/agents")
    assert page.url.startswith(f"{base}/signin")

    replay = browser.new_context()  # the old cookie, replayed after sign-out, is refused by the server
    replay.add_cookies([cookie])
    again = replay.new_page()
    again.goto(f"{base}/agents")
    assert again.url.startswith(f"{base}/signin")
    assert again.evaluate("fetch('/api/ops/queues').then(r => r.status)") == 401
    replay.close()
    context.close()


UNLABELLED = """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')).map(el => el.outerHTML)"""


def test_every_control_is_labelled_and_signing_in_works_from_the_keyboard(browser: Any, live: Any) -> None:
    stack, base = live
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/signin")
    expect(page.get_by_label("API key")).to_be_focused()  # autofocus: type at once
    page.keyboard.type(stack.key)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/agents")
    for path in ("/agents/emmie/mailchimp", "/ops", "/ops/jobs", "/ops/schedules"):
        page.goto(base + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
    page.goto(f"{base}/ops/jobs")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()
