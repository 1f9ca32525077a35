"""Configuration: defaults here, then instance/config.py, then `BOOKING_*` environment variables.

A test (or any embedder) passes a mapping to `create_app(config)` instead, so it never picks up the
developer's instance file or environment by accident.
"""
from __future__ import annotations

import logging
import os
import re
from email.utils import formataddr, parseaddr
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask

#: Used only when running with the debugger or under tests; never valid in production.
DEVELOPMENT_SECRET_KEY = "development-only-not-secret"
#: The clinic's address when none is configured (development and tests): a domain that cannot exist.
PLACEHOLDER_CLINIC_EMAIL = "appointments@booking.invalid"
log = logging.getLogger(__name__)
#: The public address when none is configured: `flask run`'s own under the debugger, the test client's under tests.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
TESTING_BASE_URL = "http://localhost"


class Defaults:
    """Defaults that are safe everywhere; production overrides secrets and the database."""

    SECRET_KEY: str | None = None
    # The address people reach the site at (https://booking.clinic.example): every link in e-mails, feeds
    # and calendar files is built from it, never from the request. Required outside development and tests.
    BASE_URL: str | None = None
    # Host names requests may carry besides BASE_URL's (Flask answers 400 to any other Host header).
    TRUSTED_HOSTS: list[str] = []
    DATABASE_URL: str | None = None  # default: SQLite in the instance folder
    TIMEZONE = "Europe/London"  # the clinic's zone; providers may have their own
    CLINIC_NAME = "Riverside Clinic"
    CLINIC_ADDRESS = "1 River Street, London"  # the location in calendar files
    CLINIC_PHONE: str | None = "+44 20 7946 0000"  # shown on the home page; None hides it
    # When the clinic is open, in schema.org's short form: the home page says it in words.
    CLINIC_OPENING_HOURS: list[str] = ["Mo-Fr 08:00-18:00", "Sa 09:00-13:00"]
    # One or two sentences for the home page and search engines' result snippets (meta description).
    CLINIC_DESCRIPTION = "Book an appointment online with our doctors and therapists: see every free time, choose one, done."
    CURRENCY = "GBP"  # ISO 4217 code; prices are stored in its minor unit
    LOCALE = "en-GB"  # BCP 47 tag: the pages' lang, and how forms take dates and times (booking/domain/locale.py)

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
    TRUST_FORWARDED_HOST = False  # believe those proxies' X-Forwarded-Host (still one of TRUSTED_HOSTS)

    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    # The clinic's own address: ORGANIZER of every invitation and, with CLINIC_NAME, the From of every
    # e-mail, so a reply reaches the clinic. Unset: taken from MAIL_DEFAULT_SENDER, else appointments@
    # the host of BASE_URL (see clinic_addresses).
    CLINIC_EMAIL: str | None = None
    MAIL_DEFAULT_SENDER: str | None = None  # default: "CLINIC_NAME <CLINIC_EMAIL>"
    REQUIRE_VERIFIED_EMAIL = True  # patients confirm their address before they can book
    EMAIL_VERIFY_HOURS = 48  # how long a confirmation link works
    PASSWORD_RESET_MINUTES = 30  # how long a password reset link works (it works once)
    REMINDER_HOURS = 24  # how long before an approved appointment its reminder goes out
    MAIL_MAX_ATTEMPTS = 6  # then a message is marked failed and shown to admins
    MAIL_DELIVER_AFTER_COMMIT = True  # send right after the request; deliver-mail retries what is left

    PER_PAGE = 20
    CANCEL_CUTOFF_HOURS = 24  # patients cancel or move online until this long before the start
    CLINIC_ANSWER_HOURS = 24  # what a pending request's page promises: "the clinic answers within N hours"
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
    _require_base_url(app)
    _check_locale(app)
    _check_opening_hours(app)
    clinic_addresses(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["DATABASE_URL"], app.instance_path)
    app.config.setdefault("SQLALCHEMY_RECORD_QUERIES", False)


def _check_locale(app: Flask) -> None:
    """Refuse to start with a LOCALE that is not a language tag we know; store it as written in lang=."""
    from booking.domain.locale import LocaleError, clinic_locale

    tag = app.config["LOCALE"]
    try:
        if not isinstance(tag, str):
            raise LocaleError(f"{tag!r} is not a language tag such as en-GB.")
        app.config["LOCALE"] = clinic_locale(tag).tag
    except LocaleError as error:
        raise RuntimeError(f"BOOKING_LOCALE: {error}") from error


def _check_opening_hours(app: Flask) -> None:
    """Refuse to start with opening hours the home page could not show (and search engines not read)."""
    from booking.domain.opening_hours import OpeningHoursError, read

    try:
        read(app.config["CLINIC_OPENING_HOURS"])
    except OpeningHoursError as error:
        raise RuntimeError(f"BOOKING_CLINIC_OPENING_HOURS: {error}") from error


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


def _require_base_url(app: Flask) -> None:
    """Links we send must lead to our own site whoever asked for them: refuse to start a real site
    without its public address, and trust no Host header but that address's (and TRUSTED_HOSTS)."""
    url = app.config.get("BASE_URL")
    debugging = not url and app.debug and not app.testing
    if not url:
        if not (app.debug or app.testing):
            raise RuntimeError(
                "BOOKING_BASE_URL is not set. Set the environment variable BOOKING_BASE_URL (or BASE_URL in "
                "instance/config.py) to the address people use to reach the site, for example "
                "https://booking.clinic.example: links in e-mails and calendar files are built from it."
            )
        url = TESTING_BASE_URL if app.testing else DEVELOPMENT_BASE_URL
    app.config["BASE_URL"] = public_base_url(url)
    hosts = trusted_hosts(app.config["BASE_URL"], app.config.get("TRUSTED_HOSTS"))
    if debugging:  # the debugger's own machine, by either of its names
        hosts += [name for name in ("localhost", "127.0.0.1") if name not in hosts]
    app.config["TRUSTED_HOSTS"] = hosts


def public_base_url(url: Any) -> str:
    """BASE_URL checked and spelled one way: http or https, a host, an optional path, nothing else."""

    def refuse(why: str) -> RuntimeError:
        return RuntimeError(f"BOOKING_BASE_URL {url!r} is not a usable public address: {why}. "
                            "Use a plain address such as https://booking.clinic.example")

    if not isinstance(url, str):
        raise refuse("it is not text")
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise refuse(str(error)) from error
    if parts.scheme.lower() not in ("http", "https"):
        raise refuse("it must start with https:// (or http://)")
    if not parts.hostname:
        raise refuse("it has no host name")
    if not re.fullmatch(r"[a-z0-9.-]+|[0-9a-f:.]+", parts.hostname):
        raise refuse("write the host name in ASCII (an international name in its xn-- form)")
    if parts.username is not None or parts.password is not None:
        raise refuse("it must not carry a user name or password")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise refuse("it must not have a query (?) or a fragment (#)")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def trusted_hosts(base_url: str, extra: Any) -> list[str]:
    """BASE_URL's host first, then the configured others (a list, or text separated by commas or spaces).

    Flask compares them without the port; a name starting with a dot also admits its subdomains."""
    host = urlsplit(base_url).hostname or ""
    names = [f"[{host}]" if ":" in host else host]
    if isinstance(extra, str):
        extra = re.split(r"[\s,]+", extra)
    if extra is not None and (not isinstance(extra, (list, tuple)) or not all(isinstance(n, str) for n in extra)):
        raise RuntimeError(f"BOOKING_TRUSTED_HOSTS {extra!r} must be host names, "
                           "for example \"booking.example, .clinic.example\"")
    for name in extra or ():
        name = name.strip().lower()
        if name and name not in names:
            names.append(name)
    return names


def clinic_addresses(app: Flask) -> None:
    """Settle CLINIC_EMAIL and MAIL_DEFAULT_SENDER, the addresses every e-mail and invitation speaks for.

    Without CLINIC_EMAIL the address of a configured MAIL_DEFAULT_SENDER serves (so a site set up before
    the setting keeps its From, and its calendar UIDs, which carry the sender's domain), then
    appointments@ the public site's host (BASE_URL, without "www."). A development or test run with
    neither gets a placeholder that receives nothing; a real site without any is warned at start,
    because its invitations would name an organizer nobody reads.
    """
    config = app.config
    address = config.get("CLINIC_EMAIL")
    sender = config.get("MAIL_DEFAULT_SENDER")
    if not address and sender:
        address = str(sender[1]) if isinstance(sender, (tuple, list)) else parseaddr(sender)[1]
    if not address:
        host = urlsplit(config.get("BASE_URL") or "").hostname or ""
        if "." in host and not host.replace(".", "").isdigit():
            address = f"appointments@{host.removeprefix('www.')}"
    if not address:
        address = PLACEHOLDER_CLINIC_EMAIL
        if not (app.debug or app.testing):
            log.warning("BOOKING_CLINIC_EMAIL is not set: e-mails come from %s, which receives nothing, and "
                        "invitations name it as their organizer. Set it to the clinic's address.", address)
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or any(c.isspace() or c in '<>,;"' for c in address):
        raise RuntimeError(f"CLINIC_EMAIL must be one e-mail address such as appointments@clinic.example, "
                           f"not {address!r}")
    config["CLINIC_EMAIL"] = address
    if not sender:
        config["MAIL_DEFAULT_SENDER"] = formataddr((config["CLINIC_NAME"], address))


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
