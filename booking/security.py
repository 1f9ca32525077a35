"""Security headers sent with every response, secure cookies, and trusting a proxy in front.

The Host header is checked by Flask against TRUSTED_HOSTS (BASE_URL's host and any others configured,
see config.py); a forwarded host is believed only when TRUST_FORWARDED_HOST says the proxy sets it.

The policy allows scripts and styles from this site only: no inline script, no inline style, no
eval (htmx runs with allowEval and its injected indicator styles off, see base.html). Pages are not
stored by browsers or shared caches (they carry personal data or a form's CSRF token); only the
static files are cacheable.
"""
from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
#: Powerful browser features the app never uses, switched off for it and anything it could embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()" for feature in (
        "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def init_security(app: Flask) -> None:
    app.after_request(_security_headers)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address and scheme come from X-Forwarded-* set by that many proxies
        # The Host only when the proxy is said to set X-Forwarded-Host itself: a proxy that passes on a
        # client's header would let anyone choose it. Either way it must be one of TRUSTED_HOSTS.
        host = proxies if app.config.get("TRUST_FORWARDED_HOST") else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=host)  # type: ignore[method-assign]


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
