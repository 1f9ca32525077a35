"""Structured logs: one JSON line per request, with a request id, and security events.

Every request gets an id (the caller's X-Request-ID when it looks like one, else a new one), returned
in the X-Request-ID header and carried by every log line the request writes, with the user's id. A
request line names the route and the path with its secret parts (reset, confirmation and calendar
tokens) replaced, never the query string or the form: those may hold passwords or personal data.
Security events (logins, lockouts, refusals, CSRF failures, password and account changes) go to the
"booking.security" logger with a `security_event` name.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user

log = logging.getLogger("booking.request")
security_log = logging.getLogger("booking.security")

INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
#: URL arguments that are secrets: never written to a log.
SECRET_ARGUMENTS = frozenset({"token"})
#: Attributes every LogRecord has; anything else on a record was passed as `extra` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and whatever `extra` carried."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestContext(logging.Filter):
    """Stamp each record written during a request with its request id and user id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.__dict__.setdefault("request_id", g.get("request_id"))
            record.__dict__.setdefault("user_id", _user_id())
        return True


def init_logging(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    booking = logging.getLogger("booking")
    booking.setLevel(logging.INFO)
    if not any(isinstance(f, RequestContext) for f in booking.filters):
        for logger in (booking, log, security_log):
            logger.addFilter(RequestContext())
    if app.config.get("LOG_JSON", True) and not app.testing and not booking.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        booking.addHandler(handler)
        booking.propagate = False  # one line per event, not a second copy from the root logger


def fingerprint(text: str) -> str:
    """A keyed digest of what a person typed as their e-mail: failures against one account can be
    told apart and counted, but the log never holds the text (people type passwords there too)."""
    key = current_app.secret_key
    secret = key.encode() if isinstance(key, str) else (key or b"")
    return hmac.new(secret, text.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def security_event(name: str, message: str, level: int = logging.INFO, **details: Any) -> None:
    security_log.log(level, message, extra={"security_event": name, **details})


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    if request.endpoint == "static":
        return response
    started = g.get("request_started")
    log.info("request", extra={
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "path": redacted_path(),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "client": request.remote_addr,
        "htmx": request.headers.get("HX-Request") == "true",
    })
    return response


def redacted_path() -> str:
    """The path, with the values of secret URL arguments replaced. Matched against the app's own
    routes with a secret argument, so a request that never reached its view (a wrong method, a 404
    under such a route) is redacted too."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_ARGUMENTS and value:
            path = path.replace(str(value), "[redacted]")
    for pattern in _secret_routes(current_app):
        path = pattern.sub(r"\1[redacted]\2", path)
    return path


def _secret_routes(app: Flask) -> list[re.Pattern[str]]:
    """For each route with a secret argument: its path with that argument as a group to replace."""
    patterns = app.extensions.get("booking_secret_routes")
    if patterns is None:
        patterns = []
        for rule in app.url_map.iter_rules():
            if not SECRET_ARGUMENTS & set(rule.arguments):
                continue
            before, _, after = re.sub(r"<(?:[^:>]+:)?token>", "\x00", rule.rule).partition("\x00")
            before = "[^/]+".join(re.escape(part) for part in re.split(r"<[^>]+>", before))  # other arguments
            patterns.append(re.compile(f"^({before})[^/]+?((?:{re.escape(after)})?(?:/.*)?)$"))
        app.extensions["booking_secret_routes"] = patterns
    return patterns


def _user_id() -> int | None:
    try:
        return int(current_user.id) if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - a log line must never fail a request (no user loader yet, say)
        return None
