"""Browser tests: the console served by uvicorn on a free port, driven by Debian's Chromium through Playwright.

One browser for the whole package, one signed-in browser context per module; the stack (OpenBao,
simulator, PostgreSQL, in-process worker) is the integration tests' own, started for this package.
A missing Chromium fails the run with how to install it: these tests never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack, running_stack, serve_http  # the fixtures come from the tests.stack plugin

#: Debian's chromium package (Playwright cannot download its own browser here).
CHROMIUM = os.environ.get("SINTRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: Where the README's screenshots go: ``SINTRA_SCREENSHOTS=docs make test`` refreshes them; other runs
#: still take them, into a scratch folder, so a test run leaves the work tree clean.
DOCS = Path(__file__).resolve().parents[2] / "docs"


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the page's viewport as ``name`` (docs/ when asked for, else a scratch folder)."""
    folder = DOCS if os.environ.get("SINTRA_SCREENSHOTS") == "docs" else Path(os.environ.get(
        "SINTRA_SCREENSHOT_DIR", "/tmp/sintra-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000, f"the screenshot {path} is empty"
    return path


@pytest.fixture(scope="package")
def live(pg_url: str, state_dir: Path, vault_server: object, simulator: object) -> Iterator[tuple[Stack, str]]:
    """The stack, and the base URL of a real HTTP server (uvicorn) serving its API and console."""
    from workers.store.db import migrate

    migrate(pg_url)
    with running_stack(pg_url, state_dir, vault_server, simulator) as stack, serve_http(stack.api.app) as url:
        yield stack, url


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the package."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium package "
                    "(`make test` installs it; or run `apt-get install -y chromium` as root)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(page: Any, base: str, key: str) -> None:
    """Sign in through the form, as a user would."""
    page.goto(f"{base}/signin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/agents")


@pytest.fixture(scope="module")
def console(browser: Any, live: tuple[Stack, str]) -> Iterator[tuple[Any, Stack, str]]:
    """A signed-in page (a browser context of its own per module), the stack and the base URL."""
    stack, base = live
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, stack.key)
    yield page, stack, base
    context.close()
    assert not errors, f"JavaScript errors on the console's pages: {errors}"
