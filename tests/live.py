"""A real browser against a real server: Debian's Chromium driven by Playwright, and the app served
over HTTP on localhost by waitress (a production WSGI server, run in a thread), with CSRF on, as
people meet it.

Browser tests run whenever Chromium is installed; in CI a missing Chromium is a failure, not a skip.
Never a downloaded browser: Playwright launches /usr/bin/chromium.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from waitress.server import create_server

from tests.factories import DEFAULT_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run once, on SQLite: their PostgreSQL copies are left out rather than skipped, so a
    skip in the browser suite always means a missing browser (which CI refuses)."""
    copies = [item for item in items if "live" in getattr(item, "fixturenames", ()) and "[postgresql" in item.nodeid]
    if copies:
        config.hook.pytest_deselected(items=copies)
        items[:] = [item for item in items if item not in copies]


def _chromium_or_skip() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser suite, but there is no Chromium at {CHROMIUM}")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium_or_skip()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@dataclass
class Live:
    """The served app: its base URL, the Flask app (for factories and queries), and the mailbox."""

    url: str
    app: Flask
    box: Any

    def page(self, browser: Any, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport, base_url=self.url, **options)
        context.set_default_timeout(15_000)
        return context.new_page()

    def log_in(self, browser: Any, user: Any, landing: str, **options: Any) -> Any:
        """A new page of its own (`options` as for `page`), logged in through the form as `user`, at `landing`."""
        page = self.page(browser, **options)
        page.goto("/auth/login")
        page.fill("#email", user.email)
        page.fill("#password", DEFAULT_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"**{landing}")
        return page


@pytest.fixture
def live_config() -> dict[str, Any]:
    """Settings a test module gives its served app (override this fixture there)."""
    return {}


@pytest.fixture
def live(make_app, smtp, backend, live_config) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    """The app on a free port of 127.0.0.1, with real CSRF, sending mail to the test SMTP server."""
    assert backend.name == "sqlite", "browser tests run on SQLite (see pytest_collection_modifyitems)"
    box, port = smtp
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound first: the app's address needs its port
    listening.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False, DEBUG=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                   MAIL_SUPPRESS_SEND=False, LIVE_REFRESH_SECONDS=2, LOG_JSON=False, BASE_URL=url, **live_config)
    server = create_server(app, sockets=[listening], threads=8, clear_untrusted_proxy_headers=True)
    stopping = threading.Event()

    def serve() -> None:
        """waitress has no stop call: closing its sockets from this side can land in the middle of the
        loop's select(), which then fails on a closed descriptor. That error, once asked to stop, is the stop."""
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with app.app_context():
            yield Live(url, app, box)
    finally:
        stopping.set()
        server.close()
        thread.join(timeout=10)


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot under test-output/screenshots/ (CI keeps it as test output)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="initial")
    return path


def axe_violations(page: Any, context: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core (vendored from npm, tests only) on the page as it is now: WCAG 2.0/2.1 A and AA."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through DevTools, so the page's CSP (rightly) does not apply
    result = page.evaluate(
        """async (context) => {
            const options = {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}};
            const found = await axe.run(context || document, options);
            return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        context,
    )
    return list(result)
