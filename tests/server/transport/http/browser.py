"""Playwright for the playground tests: Debian's Chromium (never ``playwright install``), a page
that records console errors, and screenshots saved as test artifacts."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
# What Chromium logs for an HTTP error answer that the page then shows as intended.
HTTP_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")


def artifacts() -> Path:
    """Where screenshots go: ``$ONEIROS_TEST_ARTIFACTS/playground`` or ``build/test-artifacts/playground``."""
    root = os.environ.get("ONEIROS_TEST_ARTIFACTS") or REPO_ROOT / "build" / "test-artifacts"
    folder = Path(root) / "playground"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (``make test`` installs the package when it is missing)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    expect.set_options(timeout=30_000)  # a CI machine under load is slow; a real failure still fails
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Session:
    """One page of a fresh browser context, with every console error and page error it logged."""

    def __init__(self, browser: Browser, url: str, viewport: dict = LAPTOP):
        self.context = browser.new_context(viewport=viewport)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.goto(url)

    def unexpected_errors(self, *allowed_statuses: int) -> list[str]:
        """Console errors other than the HTTP answers with ``allowed_statuses`` that a test provoked."""
        unexpected = []
        for text in self.errors:
            match = HTTP_ERROR.match(text)
            if not (match and int(match.group(1)) in allowed_statuses):
                unexpected.append(text)
        return unexpected

    def screenshot(self, name: str) -> Path:
        path = artifacts() / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
