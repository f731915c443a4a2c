"""Browser test helpers: a watch on what a page does, screenshots, and the axe-core check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "output" / "browser"
BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass
class PageWatch:
    """What a page did that a test may want to refuse: errors and requests to other hosts."""

    allowed_host: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    requests: int = 0

    def attach(self, page: Page) -> None:
        page.on("console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("request", self._on_request)
        page.on("response", lambda response: self.failed_responses.append(f"{response.status} {response.url}")
                if response.status >= 400 else None)

    def _on_request(self, request: Any) -> None:
        self.requests += 1
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.allowed_host:
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        assert self.console_errors == [], f"console errors: {self.console_errors} (failed: {self.failed_responses})"
        assert self.foreign_requests == [], f"requests to other hosts: {self.foreign_requests}"
        assert self.requests > 0, "the watch saw no request at all: it is not attached"


def screenshot(page: Page, name: str, **options: Any) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path


def axe_violations(page: Page, context: str | dict[str, Any] = "html") -> list[dict[str, Any]]:
    """The serious and critical accessibility violations axe-core finds in the page (open shadow roots included)."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: `make browser-deps` installs axe-core from npm")
    # Injected by content, so that the page's Content-Security-Policy decides nothing and no request is made.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async (context) => await window.axe.run(context, {resultTypes: ['violations']})", context
    )
    return [
        {"id": violation["id"], "impact": violation["impact"], "help": violation["help"],
         "targets": [node["target"] for node in violation["nodes"]][:5]}
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
