"""Browser fixtures: Debian's headless Chromium driven by Playwright, on the shared test stack.

Every page records its console errors, uncaught exceptions and the hosts it
requested (tests.browser.support.PageWatch), so each test can assert that
nothing failed and nothing left the project's server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bot.runtime.stack import Stack
from tests.browser.support import PageWatch

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test: empty localStorage, desktop size, French."""
    created = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    created.set_default_timeout(30_000)
    yield created
    created.close()


@pytest.fixture()
def web_url(stack: Stack) -> str:
    return stack.web_url


@pytest.fixture()
def watch(web_url: str) -> PageWatch:
    return PageWatch(allowed_host=urlsplit(web_url).netloc)


@pytest.fixture()
def page(context: BrowserContext, watch: PageWatch) -> Page:
    opened = context.new_page()
    watch.attach(opened)
    return opened


@pytest.fixture()
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    # axe-core injects inline styles while it measures: let the CSP allow it here (the other tests keep it).
    created = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 720}, bypass_csp=True)
    yield created
    created.close()
