"""Rate limits on the doors people hammer: login, registration, password reset and booking.

Each door has a limit per client address and one per account, both set in the config (so a clinic
can tune them). Failed logins alone count towards the login limits, so a person who types the right
password is never slowed down by their own success; once an account or address has used up its
failures, even the right password waits until the window has passed (that is the lockout). A breach
answers 429 with Retry-After, as a page or as a fragment with a toast.

Limits that protect an account (failed logins, reset e-mails) are counted in the database
(booking/models/limits.py): every worker shares them and no restart forgets them, so a guesser gets
exactly the configured number of tries however many workers there are. The account is named there by
a keyed digest of its normalised e-mail address, never by the address. The attempt is counted before
the password is checked and handed back if the login succeeds, so many attempts at once cannot all
slip under the limit. Address limits and the booking limits are Flask-Limiter's, counted in the
storage RATELIMIT_STORAGE_URI names: Redis when several workers must share them; memory only for one
process, which `check_workers` enforces when gunicorn starts.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from booking.extensions import limiter
from booking.logs import fingerprint, security_event
from booking.models import limits as counts
from booking.services.accounts import normalize_email
from booking.services.errors import Invalid

F = TypeVar("F", bound=Callable[..., Any])
TOO_MANY = "Too many attempts. Please wait a while and try again."


def init_ratelimit(app: Flask) -> None:
    limiter.init_app(app)


def unshared_storage(config: Mapping[str, Any], workers: int) -> str | None:
    """What is wrong with counting the address limits in memory for this many workers, or None.

    Each worker would count on its own (N workers let N times the limit through) and every restart of
    a worker would forget its counts. The account limits are safe in the database whatever this says.
    """
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers <= 1 or not config.get("RATELIMIT_ENABLED", True) or not storage.startswith("memory://"):
        return None
    return (f"{workers} workers would each count the rate limits per address on their own, because "
            f"BOOKING_RATELIMIT_STORAGE_URI is {storage!r}. Point it at a storage the workers share, for "
            "example redis://127.0.0.1:6379/0, or run one worker (WEB_CONCURRENCY=1).")


def check_workers(workers: int) -> None:
    """Refuse, at start-up, several workers counting in memory; in development and tests only warn.

    Refused rather than warned about: a warning scrolls past in a log nobody reads at deploy time,
    while the weakness it warns of (limits multiplied by the workers, reset by every restart) is one an
    attacker finds. A server that will not start is noticed and fixed in a minute. Called by the
    shipped gunicorn.conf.py with gunicorn's worker count, before any worker starts, on the settings
    the app will read (defaults, instance/config.py, the environment).
    """
    from booking import config as app_config

    app = Flask("booking", instance_relative_config=True)
    app_config.load(app, None)
    problem = unshared_storage(app.config, workers)
    if problem is None:
        return
    if app.debug or app.testing:
        logging.getLogger("booking").warning("rate limits: %s", problem)
        return
    raise SystemExit(f"Refusing to start: {problem}")


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _keyed(name: str) -> str:
    """Keys carry this app's RATELIMIT_KEY_PREFIX, read per request: apps sharing one Redis keep
    their counts apart, and the limiter object (shared by every app in a process) cannot mix them."""
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{name}"


def _address() -> str:
    return _keyed(f"address:{get_remote_address()}")


def _logged_in_user() -> str:
    return _keyed(f"user:{current_user.id}") if current_user.is_authenticated else _address()


def _failed(response: Response) -> bool:
    return response.status_code == 422


def _log_breach(kind: str) -> Callable[[RequestLimit], None]:
    def on_breach(limit: RequestLimit) -> None:
        security_event(f"{kind}_limited", "rate limit reached", logging.WARNING, limit=str(limit.limit))
    return on_breach


def _limits(kind: str, *rules: tuple[str, Callable[[], str]], failures_only: bool = False) -> Callable[[F], F]:
    """Stack one limit per (setting, key function) on a view, counted on POST only."""

    def decorate(view: F) -> F:
        for setting, key in rules:
            view = limiter.limit(_setting(setting), key_func=key, methods=["POST"], error_message=TOO_MANY,
                                 deduct_when=_failed if failures_only else None, on_breach=_log_breach(kind),
                                 scope=setting.lower())(view)
        return view

    return decorate


def windows(limit: str) -> list[counts.Window]:
    """The windows of a limit written as Flask-Limiter writes them ("5 per minute; 100 per hour")."""
    return [counts.Window(item.amount, item.get_expiry()) for item in parse_many(limit)]


def account_key(email: str) -> str:
    """A keyed digest of the address as typed, spelled as login looks accounts up, so that every
    spelling of one account (case, a Unicode or punycode domain) shares one count. Keyed, so the
    table cannot be checked against a list of addresses."""
    try:
        spelling = normalize_email(email)
    except Invalid:
        spelling = email.strip().lower()
    key = current_app.secret_key
    secret = key.encode() if isinstance(key, str) else (key or b"")
    return hmac.new(secret, b"account-limit\x00" + spelling.encode(), hashlib.sha256).hexdigest()


def _account_limit(kind: str, setting: str, *, failures_only: bool) -> Callable[[F], F]:
    """Limit the POSTs naming one account (the form's `email`) in the database, see the module docstring.

    With `failures_only`, an attempt whose answer is not 422 (the form refused) is handed back: it
    succeeded, or never got as far as checking anything. A POST without an address is left to the
    address limits.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            email = (request.form.get("email") or "").strip() if request.method == "POST" else ""
            if not email or not current_app.config["RATELIMIT_ENABLED"]:
                return view(*args, **kwargs)
            limit = current_app.config[setting]
            now = time.time()
            outcome = counts.take(setting.lower(), account_key(email), windows(limit), math.floor(now))
            if isinstance(outcome, counts.Refused):
                security_event(f"{kind}_limited", "rate limit reached", logging.WARNING, limit=limit,
                               account=fingerprint(email))
                raise TooManyRequests(TOO_MANY, retry_after=max(1, math.ceil(outcome.retry_at - now)))
            if not failures_only:
                return view(*args, **kwargs)
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                counts.give_back(outcome)
                raise
            if response.status_code != 422:
                counts.give_back(outcome)
            return response

        return limited  # type: ignore[return-value]

    return decorate


def _both(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


login_limits = _both(_limits("login", ("LOGIN_FAILURES_PER_ADDRESS", _address), failures_only=True),
                     _account_limit("login", "LOGIN_FAILURES_PER_ACCOUNT", failures_only=True))
registration_limits = _limits("registration", ("REGISTRATIONS_PER_ADDRESS", _address))
reset_limits = _both(_limits("password_reset", ("PASSWORD_RESETS_PER_ADDRESS", _address)),
                     _account_limit("password_reset", "PASSWORD_RESETS_PER_ACCOUNT", failures_only=False))
booking_limits = _limits("booking", ("BOOKINGS_PER_ADDRESS", _address),
                         ("BOOKINGS_PER_ACCOUNT", _logged_in_user))
