"""Headers every response carries, and templates that keep to the Content-Security-Policy."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "booking" / "templates"


@pytest.mark.parametrize("url", ["/auth/login", "/healthz", "/no-such-page", "/static/css/app.css"])
def test_every_response_carries_the_security_headers(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    response.close()  # static files are streamed from an open file
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


#: Pages the browser shows under our CSP; e-mails are read by mail clients, which ignore <style> and keep only
#: inline style attributes, so they are held to the HTML checker (tests/test_html_check.py) instead.
SERVED_TEMPLATES = sorted(path for path in TEMPLATES.rglob("*.html") if path.relative_to(TEMPLATES).parts[0] != "email")


@pytest.mark.parametrize("template", SERVED_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    html = template.read_text()
    # A JSON-LD data block is never run, so the CSP's script-src does not apply to it (booking/seo.py).
    assert not re.search(r'<script(?![^>]*\bsrc=)(?![^>]*\btype="application/ld\+json")[^>]*>', html), \
        "inline <script> would be blocked by the CSP"
    assert not re.search(r"<style[\s>]", html), "inline <style> would be blocked by the CSP"
    assert not re.search(r"\sstyle=", html), "style attributes would be blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers would be blocked by the CSP"


def test_error_pages_vary_by_accept(client):  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page")
    assert "Accept" in response.headers["Vary"]


def test_pages_are_not_stored_and_static_files_may_be(client):  # type: ignore[no-untyped-def]
    assert client.get("/auth/login").headers["Cache-Control"] == "no-store"
    assert client.get("/no-such-page").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_permissions_policy_and_hsts_only_over_https(client):  # type: ignore[no-untyped-def]
    plain = client.get("/auth/login")
    assert "camera=()" in plain.headers["Permissions-Policy"] and "geolocation=()" in plain.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/auth/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cookies_are_httponly_lax_and_https_only_by_default(make_app):  # type: ignore[no-untyped-def]
    from booking.config import Defaults
    from booking.domain.roles import Role
    from tests.factories import DEFAULT_PASSWORD, make_user

    assert Defaults.SESSION_COOKIE_SECURE is True and Defaults.REMEMBER_COOKIE_SECURE is True
    app = make_app(SESSION_COOKIE_SECURE=Defaults.SESSION_COOKIE_SECURE,
                   REMEMBER_COOKIE_SECURE=Defaults.REMEMBER_COOKIE_SECURE)
    with app.app_context():
        user = make_user(Role.PATIENT)
        client = app.test_client()
        response = client.post("/auth/login", base_url="https://localhost",
                               data={"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        flags = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(make_app):  # type: ignore[no-untyped-def]
    app = make_app(TRUSTED_PROXIES=1)
    response = app.test_client().get("/auth/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in response.headers
    untrusted = make_app().test_client().get("/auth/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in untrusted.headers


def test_the_only_inline_scripts_are_json_ld_data_blocks_the_browser_does_not_run(live, browser):  # type: ignore[no-untyped-def]
    """Under our CSP a real browser reports no violation on the pages that carry schema.org data."""
    from tests.booking_helpers import everyday_provider

    with live.app.app_context():
        provider_id = everyday_provider().id
    page = live.page(browser)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    for path in ("/", f"/book/{provider_id}"):
        page.goto(path)
        page.wait_for_load_state("load")
        data = page.evaluate("[...document.querySelectorAll('script[type=\"application/ld+json\"]')].map(s => JSON.parse(s.textContent)['@type'])")
        assert data, path
    assert violations == []
    page.context.close()
