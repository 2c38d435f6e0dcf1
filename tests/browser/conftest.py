"""Headless Chromium (Debian's package) driven by Playwright against a live server.

Where no Chromium can be had, these tests are skipped with a visible notice; CI sets
RELATIEBEHEER_REQUIRE_BROWSER=1 (through ``make test`` on a machine that has apt) so a
missing browser fails there instead.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
OUTPUT = Path(os.environ.get("TEST_OUTPUT", "test-output")) / "screenshots"

# Playwright's sync API runs an event loop in this thread; the Django calls the tests
# make between browser steps are ordinary blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if os.environ.get("RELATIEBEHEER_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            "Chromium is required (RELATIEBEHEER_REQUIRE_BROWSER=1) but was not found."
        )
    skip = pytest.mark.skip(reason="NOTICE: no Chromium on this machine; browser tests skipped")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="nl-NL", base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = OUTPUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, username, password):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
