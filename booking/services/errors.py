"""Why a use case refused, in words a user can read, with the HTTP status a route should answer."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any

    @property
    def problems(self) -> list[tuple[str | None, str]]:
        """Every (field, message) this refusal stands for; one, unless the input had several faults."""
        return [(self.field, self.message)]

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self.problems]


class Invalid(ServiceError):
    status = 422


class InvalidFields(Invalid):
    """Several fields are wrong at once: all of them are told, so nobody corrects a form in rounds.

    `message` and `field` are the first problem's, for callers that show only one.
    """

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        field, message = problems[0]
        super().__init__(message, field)
        self._problems = list(problems)

    @property
    def problems(self) -> list[tuple[str | None, str]]:
        return list(self._problems)


class Problems:
    """Collects what is wrong with an input, field by field, to refuse it once with everything."""

    def __init__(self) -> None:
        self.found: list[tuple[str | None, str]] = []

    def add(self, message: str, field: str | None = None) -> None:
        self.found.append((field, message))

    def take(self, error: ServiceError) -> None:
        """Note a refusal a check raised, and go on checking."""
        self.found.extend(error.problems)

    def fields(self) -> set[str | None]:
        return {field for field, _ in self.found}

    def raise_any(self) -> None:
        """Raise one Invalid (InvalidFields when there are several) if anything was found."""
        if len(self.found) == 1:
            field, message = self.found[0]
            raise Invalid(message, field)
        if self.found:
            raise InvalidFields(self.found)


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
