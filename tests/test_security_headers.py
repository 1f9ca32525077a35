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


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would be blocked by the CSP"
    assert not re.search(r"<style[\s>]", html), "inline <style> would be blocked by the CSP"
    assert not re.search(r"\sstyle=", html), "style attributes would be blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers would be blocked by the CSP"


def test_error_pages_vary_by_accept(client):  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page")
    assert "Accept" in response.headers["Vary"]
