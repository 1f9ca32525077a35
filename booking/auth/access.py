"""Who may see what: the login manager and the one decorator every protected view uses."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from booking import htmx
from booking.domain.roles import Role
from booking.extensions import db, login_manager
from booking.models import User

F = TypeVar("F", bound=Callable[..., Any])


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)


USER_BY_TOKEN = sa.select(User).where(User.session_token == sa.bindparam("token"))  # built once: every request runs it


def _load_user(session_token: str) -> User | None:
    """The user whose current session token the session or remember-me cookie carries."""
    return db.session.scalar(USER_BY_TOKEN, {"token": session_token})


def _unauthorized():  # type: ignore[no-untyped-def]
    """Send a visitor to the login page, remembering where they were going (GET pages only).

    For htmx the place to come back to is the page the user is on, not the fragment it asked for.
    """
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    if htmx.is_htmx():
        next_url = _same_site_path(request.headers.get("HX-Current-URL"))
    login_url = url_for("auth.login", next=next_url)
    if htmx.wants_fragment():
        # A redirect would be followed by the XHR and the login page swapped into a fragment.
        response = redirect(login_url)
        response.status_code = 401
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def _same_site_path(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed header is treated as absent
        return None
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let only logged-in users with one of `roles` in: a visitor goes to login, anyone else gets 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public_page(view: F) -> F:
    """Let anyone in, with or without an account: the directory, calendars and slot lists show free
    times only, so that a visitor sees them before being asked to register.

    A visitor without an account gets an answer that sets no cookie (no CSRF token is put in the page:
    nothing on it posts) and carries a weak ETag of its body, so that a browser or a cache in front asks
    again with If-None-Match and gets a 304 while nothing changed. The hash is of what was rendered, so
    it can never hold a stale time: any change to the free times, the provider or the page's code gives
    another body. Logged-in users get the page as before, uncached.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated:
            return view(*args, **kwargs)
        g.cookieless = True
        response = current_app.make_response(view(*args, **kwargs))
        if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.is_streamed:
            response.add_etag(weak=True)
            response.headers["Cache-Control"] = "no-cache"  # may be kept, but asked about again each time
            response.make_conditional(request)
        return response

    wrapped.allowed_roles = None  # type: ignore[attr-defined]  # everyone, visitors included
    return wrapped  # type: ignore[return-value]


def leave(message: str, level: str = "info"):  # type: ignore[no-untyped-def]
    """End this browser's session (and its remember-me cookie) and go to the login page with `message`."""
    session.clear()
    logout_user()  # after clear(): it leaves the note that deletes the remember-me cookie
    flash(message, level)
    return htmx.go(url_for("auth.login"))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path inside this app, else None: never an open redirect."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target
