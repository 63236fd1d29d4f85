"""Fixtures for browser tests: a real Chromium (Debian's, not a Playwright download).

Every test in this folder is marked ``browser``. Without Chromium the tests skip, unless
``CCDG_REQUIRE_SERVICES=1`` (CI), where a missing browser is a failure.

Screenshots go to ``artifacts/screenshots/<test name>/NN-step.png`` under the repository root.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the test's thread; Django would then
# refuse ORM calls made by the test itself (arranging rows, checking the database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SCREENSHOT_ROOT = REPO_ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
MISSING_CHROMIUM = "Chromium not found (install Debian's chromium package)"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def find_chromium() -> str | None:
    configured = os.environ.get("CCDG_CHROMIUM")
    if configured:
        return shutil.which(configured)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def services_required() -> bool:
    return os.environ.get("CCDG_REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        if services_required():
            pytest.fail(
                f"{MISSING_CHROMIUM}; CCDG_REQUIRE_SERVICES=1 makes this a failure. "
                "Set CCDG_CHROMIUM to a Chromium binary or install one on PATH.",
                pytrace=False,
            )
        pytest.skip(MISSING_CHROMIUM)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """Open a page in a fresh browser context (own cookies) on the live server.

    Every console message of every page is kept in ``page.console_messages``.
    """
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda message: page.console_messages.append(message.text))
        page.on("pageerror", lambda error: page.console_messages.append(f"pageerror: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot(request) -> Callable:
    """``screenshot(page, "step")`` saves ``artifacts/screenshots/<test>/NN-step.png``."""
    folder = SCREENSHOT_ROOT / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        slug = re.sub(r"[^\w.-]+", "-", step)
        path = folder / f"{next(counter):02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def program_page(page, section: str, label: str) -> None:
    """Open a program page from the program's navigation: its section's menu, then the page
    (``program_page(page, "Plan", "Roster")``)."""
    nav = page.locator("nav.mb-3").filter(has=page.locator("ul.program-nav"))
    nav.get_by_role("button", name=section, exact=True).click()
    nav.get_by_role("link", name=label, exact=True).click()
