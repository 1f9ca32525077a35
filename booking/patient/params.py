"""Reading the booking pages' query and form values: anything malformed is a 400 with a message."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import abort, request

YEARS = range(2000, 2101)  # beyond these no clinic books; outside them a date is a typo or an attack
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
START = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$")


def single(name: str, source: str = "args") -> str | None:
    """One value for a field: sending it twice is refused rather than guessed at."""
    values = (request.args if source == "args" else request.form).getlist(name)
    if len(values) > 1:
        abort(400, f"The field '{name}' was sent more than once.")
    return values[0].strip() if values else None


def positive_id(raw: str | None, what: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "²" is a digit to isdigit(), not to int()
        abort(400, f"That {what} is not valid.")
    return int(raw)


def month(raw: str | None) -> date | None:
    """`YYYY-MM` as the first day of that month."""
    if not raw:
        return None
    match = MONTH.match(raw)
    if not match:
        abort(400, "The month must look like 2026-05.")
    year, number = int(match[1]), int(match[2])
    if year not in YEARS or not 1 <= number <= 12:
        abort(400, "That month is out of range.")
    return date(year, number, 1)


def day(raw: str | None) -> date | None:
    """`YYYY-MM-DD`."""
    if not raw:
        return None
    match = DAY.match(raw)
    if not match:
        abort(400, "The date must look like 2026-05-31.")
    if int(match[1]) not in YEARS:
        abort(400, "That date is out of range.")
    try:
        parsed = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        abort(400, "That date does not exist.")
    return parsed


def wall_start(raw: str | None) -> datetime | None:
    """`YYYY-MM-DDTHH:MM`, the provider's local wall time; None when it is not a time."""
    match = START.match(raw or "")
    if not match:
        return None
    try:
        parsed = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return parsed if parsed.year in YEARS else None
