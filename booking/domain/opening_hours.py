"""The clinic's opening hours, written once in schema.org's short form ("Mo-Fr 08:00-18:00") and read
back in words for the home page ("Monday to Friday, 08:00–18:00").

The short form is what search engines read from the page's JSON-LD (`openingHours`), so the setting
that feeds both cannot disagree with itself. Pure: no Flask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = {"Mo": "Monday", "Tu": "Tuesday", "We": "Wednesday", "Th": "Thursday", "Fr": "Friday",
        "Sa": "Saturday", "Su": "Sunday"}
_ORDER = list(DAYS)
_ENTRY = re.compile(r"^(?P<days>(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?"
                    r"(?:,(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?)*)"
                    r" (?P<open>\d\d:\d\d)-(?P<close>\d\d:\d\d)$")


class OpeningHoursError(ValueError):
    """A setting that is not in the short form; the message shows one that is."""


@dataclass(frozen=True)
class OpeningLine:
    days: str  # "Monday to Friday", "Saturday", "Monday, Wednesday"
    hours: str  # "08:00–18:00"
    entry: str  # the short form, for schema.org


def read(entries: list[str] | tuple[str, ...]) -> list[OpeningLine]:
    """Each entry in words; OpeningHoursError names the first one that is not "Mo-Fr 08:00-18:00"."""
    if isinstance(entries, str) or not isinstance(entries, (list, tuple)):
        raise OpeningHoursError(f"{entries!r} must be a list such as [\"Mo-Fr 08:00-18:00\", \"Sa 09:00-13:00\"].")
    lines = []
    for entry in entries:
        found = _ENTRY.match(entry) if isinstance(entry, str) else None
        if found is None or not (_valid_time(found["open"]) and _valid_time(found["close"], closing=True)):
            raise OpeningHoursError(f"{entry!r} is not like \"Mo-Fr 08:00-18:00\" (days Mo Tu We Th Fr Sa Su, "
                                    "a range with -, several with commas; then opening and closing time).")
        if found["close"] <= found["open"]:
            raise OpeningHoursError(f"{entry!r} closes before it opens.")
        lines.append(OpeningLine(_days_in_words(found["days"]), f"{found['open']}–{found['close']}", entry))
    return lines


def _valid_time(text: str, closing: bool = False) -> bool:
    hours, minutes = int(text[:2]), int(text[3:])
    return minutes < 60 and (hours < 24 or (closing and text == "24:00"))


def _days_in_words(days: str) -> str:
    parts = []
    for part in days.split(","):
        first, _, last = part.partition("-")
        if last and _ORDER.index(last) <= _ORDER.index(first):
            raise OpeningHoursError(f"the days {part!r} run backwards; write them from the first to the last.")
        parts.append(f"{DAYS[first]} to {DAYS[last]}" if last else DAYS[first])
    return ", ".join(parts)
