"""Why a use case refused, in words a user can read, with the HTTP status a route should answer."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any


class Invalid(ServiceError):
    status = 422


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


def one_line(text: str | None) -> str:
    """A name as one line: runs of whitespace, line breaks included, become one space. A name with a
    line break would run over lines in plain-text e-mails and could pass for a line of its own there."""
    return " ".join((text or "").split())
