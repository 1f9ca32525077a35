"""Error pages: every error renders as a full page, or as a fragment with a toast for htmx."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.http import HTTP_STATUS_CODES

from booking import htmx
from booking.extensions import db
from booking.logs import redacted_path, security_event

log = logging.getLogger(__name__)

#: What we say, in the user's words, for each status we answer with.
MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    401: ("Please log in", "You need to log in to see this page."),
    403: ("Not allowed", "Your account is not allowed to do this."),
    404: ("Not found", "There is nothing here. The link may be old, or the item was removed."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    409: ("Conflict", "Something changed in the meantime. Please look again and retry."),
    413: ("Too much at once", "What was sent is too large. Please shorten it and try again."),
    422: ("Please check the form", "Some of what was entered is not valid."),
    429: ("Too many requests", "Please wait a little before trying again."),
    500: ("Something went wrong", "We could not finish this. Nothing was saved; please try again."),
}
CSRF_MESSAGE = "The form expired or did not come from this site. Please reload the page and try again."
UNTRUSTED_HOST = "This site does not answer to that address."
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    security_event("csrf_failed", "CSRF check failed", logging.WARNING, reason=error.description,
                   endpoint=request.endpoint, method=request.method)
    return error_response(400, CSRF_MESSAGE)


def _untrusted_host(error: SecurityError):  # type: ignore[no-untyped-def]
    """Flask refused the Host header (not one of TRUSTED_HOSTS) before routing: no view ran."""
    security_event("host_refused", "request for a host that is not trusted", logging.WARNING,
                   host=(request.headers.get("Host") or "")[:255])
    return error_response(400, UNTRUSTED_HOST)


def _public_host_for_refused_request() -> None:
    """A request whose Host was refused has no URL adapter, and reading its host raises again: the
    error page (links, logs) is built for the public address instead, never for the one asked for."""
    if request_ctx.url_adapter is not None:
        return
    public = urlsplit(current_app.config["BASE_URL"])
    request.host = public.netloc  # type: ignore[misc]
    request_ctx.url_adapter = current_app.url_map.bind(
        public.netloc, script_name=request.script_root or "/", url_scheme=request.scheme)


def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    code = error.code or 500
    if code == 403:
        security_event("access_denied", "access denied", logging.WARNING, endpoint=request.endpoint,
                       method=request.method)
    response = error_response(code, _description(error))
    for name, value in error.get_headers():
        if name in KEPT_HEADERS:
            response.headers[name] = value
    return response


def _unexpected_error(error: Exception):  # type: ignore[no-untyped-def]
    if isinstance(error, HTTPException):  # pragma: no cover - routed above
        return _http_error(error)
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, redacted_path())
    return error_response(500)


def _description(error: HTTPException) -> str | None:
    """Our own message when a view passed one to abort(), else None for the standard text."""
    default = type(error).description
    return error.description if error.description and error.description != default else None


def error_response(code: int, message: str | None = None):  # type: ignore[no-untyped-def]
    _public_host_for_refused_request()
    title, default_message = MESSAGES.get(code) or (
        HTTP_STATUS_CODES.get(code, "Error"), MESSAGES[500 if code >= 500 else 400][1]
    )
    message = message or default_message
    if _wants_json():
        response = jsonify(error=title, message=message)
        response.status_code = code
        response.vary.add("Accept")
        return response
    fragment = htmx.wants_fragment()
    template = "errors/_error.html" if fragment else "errors/error.html"
    response = make_response(render_template(template, code=code, title=title, message=message), code)
    response.vary.add("Accept")
    if fragment:
        htmx.toast(response, message, "error")
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
