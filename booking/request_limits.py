"""Limits on what one request may carry, so that no body, field or field count costs a worker more
than a moment: MAX_CONTENT_LENGTH for the whole body, MAX_FORM_MEMORY_SIZE for one field,
MAX_FORM_PARTS for the number of fields. A request over any of them answers 413 before a view runs
(CSRF protection reads the form first), so nothing is written.

A view that takes a file names its own body limit with `accepts_upload` (a photo: a few MB): the
request reads it when the body is parsed, before CSRF protection or the view, so every other route
keeps the small limit. Its message says what the view takes.

Werkzeug applies the field limits to multipart bodies only; an urlencoded body, which every form here
sends, is read whole and split without them. Its size is already bounded by MAX_CONTENT_LENGTH, so
checking it costs little: the fields are counted before they are split and measured after.

A refused body is read to its end and thrown away, up to DRAIN_BYTES: a server that answers and closes
while the client is still sending makes the client see a broken connection instead of the 413 (a
browser shows its own error page, htmx fires sendError, and no toast appears). Reading costs little
next to parsing; anything larger is cut off unread. Behind nginx (README, Production) nginx answers
oversized bodies itself.
"""
from __future__ import annotations

import io
import typing as t

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

DRAIN_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


class LimitedFormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream: t.IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]):  # type: ignore[no-untyped-def]
        body = stream.read()
        if self.max_form_parts is not None and body and body.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge("This form has too many fields.")
        stream, form, files = super()._parse_urlencoded(io.BytesIO(body), mimetype, content_length, options)
        if self.max_form_memory_size is not None and any(
                len(value) > self.max_form_memory_size for _, value in form.items(multi=True)):
            raise RequestEntityTooLarge("Something entered in this form is too long.")
        return stream, form, files


class LimitedRequest(Request):
    form_data_parser_class = LimitedFormDataParser

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and (limit := getattr(_view(), "max_body_bytes", None)):
            return int(limit)
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def accepts_upload(max_body_bytes: int, too_large: str) -> t.Callable[[F], F]:
    """Let a view's requests carry up to `max_body_bytes` (a file); `too_large` is said past that.
    Put it right under the route decorator, so that the view the route calls carries the limit."""
    def mark(view: F) -> F:
        view.max_body_bytes = max_body_bytes  # type: ignore[attr-defined]
        view.too_large_message = too_large  # type: ignore[attr-defined]
        return view
    return mark


def _view() -> t.Any:
    rule = request.url_rule
    return current_app.view_functions.get(rule.endpoint) if rule is not None else None


def init_request_limits(app: Flask) -> None:
    app.request_class = LimitedRequest
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def _too_large(error: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    from booking.errors import error_response

    _drain()
    own = error.description if error.description != RequestEntityTooLarge.description else None
    own = own or getattr(_view(), "too_large_message", None)
    return error_response(413, own)


def _drain() -> None:
    """Read what is left of a body the client announced, if it is not too much (see the docstring)."""
    length = request.content_length
    stream = request.environ.get("wsgi.input")
    if stream is None or length is None or length > DRAIN_BYTES:
        return
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
    except OSError:  # the client went away: nothing to answer anyway
        return
