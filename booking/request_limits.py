"""Limits on what one request may carry, so that no body, field or field count costs a worker more
than a moment: MAX_CONTENT_LENGTH for the whole body, MAX_FORM_MEMORY_SIZE for one field,
MAX_FORM_PARTS for the number of fields. A request over any of them answers 413 before a view runs
(CSRF protection reads the form first), so nothing is written.

Werkzeug applies the field limits to multipart bodies only; an urlencoded body, which every form here
sends, is read whole and split without them. Its size is already bounded by MAX_CONTENT_LENGTH, so
checking it costs little: the fields are counted before they are split and measured after.
"""
from __future__ import annotations

import io
import typing as t

from flask import Flask, Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


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


def init_request_limits(app: Flask) -> None:
    app.request_class = LimitedRequest
