"""Rate limits on the doors people hammer: login, registration, password reset and booking.

Each door has a limit per client address and one per account, both set in the config (so a clinic
can tune them), counted in the storage RATELIMIT_STORAGE_URI names: memory for one process, Redis when
several workers must share the counts. Failed logins alone count towards the login limits, so a
person who types the right password is never slowed down by their own success; once an account or
address has used up its failures, even the right password waits until the window has passed (that is
the lockout). A breach answers 429 with Retry-After, as a page or as a fragment with a toast.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user

from booking.extensions import limiter
from booking.logs import security_event

F = TypeVar("F", bound=Callable[..., Any])
TOO_MANY = "Too many attempts. Please wait a while and try again."


def init_ratelimit(app: Flask) -> None:
    limiter.init_app(app)


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _keyed(name: str) -> str:
    """Keys carry this app's RATELIMIT_KEY_PREFIX, read per request: apps sharing one Redis keep
    their counts apart, and the limiter object (shared by every app in a process) cannot mix them."""
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{name}"


def _address() -> str:
    return _keyed(f"address:{get_remote_address()}")


def _account_from_form() -> str:
    """The account a login or reset names, spelled as stored; the address when none is given."""
    email = (request.form.get("email") or "").strip().lower()
    return _keyed(f"account:{email}") if email else _address()


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


login_limits = _limits("login", ("LOGIN_FAILURES_PER_ADDRESS", _address),
                       ("LOGIN_FAILURES_PER_ACCOUNT", _account_from_form), failures_only=True)
registration_limits = _limits("registration", ("REGISTRATIONS_PER_ADDRESS", _address))
reset_limits = _limits("password_reset", ("PASSWORD_RESETS_PER_ADDRESS", _address),
                       ("PASSWORD_RESETS_PER_ACCOUNT", _account_from_form))
booking_limits = _limits("booking", ("BOOKINGS_PER_ADDRESS", _address),
                         ("BOOKINGS_PER_ACCOUNT", _logged_in_user))
