"""Configuration: defaults here, then instance/config.py, then `BOOKING_*` environment variables.

A test (or any embedder) passes a mapping to `create_app(config)` instead, so it never picks up the
developer's instance file or environment by accident.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

#: Used only when running with the debugger or under tests; never valid in production.
DEVELOPMENT_SECRET_KEY = "development-only-not-secret"


class Defaults:
    """Defaults that are safe everywhere; production overrides secrets and the database."""

    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: SQLite in the instance folder
    TIMEZONE = "Europe/London"  # the clinic's zone; providers may have their own
    CLINIC_NAME = "Riverside Clinic"
    CLINIC_ADDRESS = "1 River Street, London"  # the location in calendar files
    CURRENCY = "GBP"  # ISO 4217 code; prices are stored in its minor unit

    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SQLITE_BUSY_TIMEOUT_MS = 15_000

    WTF_CSRF_TIME_LIMIT = None  # a token lives as long as the session
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Cookies only over HTTPS; a plain-http local run (make run) turns these off explicitly.
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # Rate limits (Flask-Limiter): "memory://" suits one process; several workers share "redis://host:6379/0".
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on a 429
    RATELIMIT_SWALLOW_ERRORS = True  # if the storage is down, let requests through rather than fail them
    RATELIMIT_KEY_PREFIX = "booking"
    LOGIN_FAILURES_PER_ACCOUNT = "100 per hour"  # then that account is locked for the rest of the hour
    LOGIN_FAILURES_PER_ADDRESS = "10 per minute; 50 per hour"
    REGISTRATIONS_PER_ADDRESS = "10 per hour"
    PASSWORD_RESETS_PER_ADDRESS = "10 per hour"
    PASSWORD_RESETS_PER_ACCOUNT = "3 per hour"  # reset e-mails to one address
    BOOKINGS_PER_ACCOUNT = "30 per hour"  # booking attempts, won or lost
    BOOKINGS_PER_ADDRESS = "120 per hour"
    TRUSTED_PROXIES = 0  # how many proxies in front set X-Forwarded-For/-Proto (1 behind nginx)
    # Request bodies (Flask's own settings): larger ones answer 413 before any of it is parsed or written.
    MAX_CONTENT_LENGTH = 1024 * 1024  # a whole body; no form here takes more than a few KB, and none uploads
    MAX_FORM_MEMORY_SIZE = 64 * 1024  # one form field (the longest, notes, is 2,000 characters)
    MAX_FORM_PARTS = 1000  # fields in one form (the longest form has a few dozen)

    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_DEFAULT_SENDER = "Booking <no-reply@booking.invalid>"
    REQUIRE_VERIFIED_EMAIL = True  # patients confirm their address before they can book
    EMAIL_VERIFY_HOURS = 48  # how long a confirmation link works
    PASSWORD_RESET_MINUTES = 30  # how long a password reset link works (it works once)
    REMINDER_HOURS = 24  # how long before an approved appointment its reminder goes out
    MAIL_MAX_ATTEMPTS = 6  # then a message is marked failed and shown to admins
    MAIL_DELIVER_AFTER_COMMIT = True  # send right after the request; deliver-mail retries what is left

    PER_PAGE = 20
    CANCEL_CUTOFF_HOURS = 24  # patients cancel or move online until this long before the start
    LIVE_REFRESH_SECONDS = 10  # how often an open calendar asks whether anything changed


def load(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Fill `app.config` in order of precedence and derive the SQLAlchemy settings."""
    app.config.from_object(Defaults)
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("BOOKING")
    else:
        app.config.from_mapping(config)
    _require_secret_key(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["DATABASE_URL"], app.instance_path)
    app.config.setdefault("SQLALCHEMY_RECORD_QUERIES", False)


def _require_secret_key(app: Flask) -> None:
    """Sessions and CSRF tokens are signed with the key: refuse to start a real site without one."""
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
        return
    raise RuntimeError(
        "BOOKING_SECRET_KEY is not set. Set the environment variable BOOKING_SECRET_KEY "
        "(or SECRET_KEY in instance/config.py) to a long random string, for example the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
    )


def database_uri(url: str | None, instance_path: str) -> str:
    """Turn the configured URL into one SQLAlchemy can use.

    A plain `postgresql://` (or Heroku-style `postgres://`) URL gets the psycopg 3 driver, which is the
    one we install; without a URL the database is a SQLite file in the instance folder.
    """
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "booking.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
