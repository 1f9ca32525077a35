"""Add-to-calendar links for web calendars (Google Calendar, Outlook.com), and a map link for an address.

Pure functions of their arguments, no Flask. Neither web calendar reads a TZID, so both links carry the
start and end in UTC with a "Z": the same instants as the .ics the e-mails carry
(`booking.services.ics`), which each calendar then shows on its owner's own clock. A local wall time
without a zone would be read in the reader's zone and land hours off for anyone elsewhere, and a clock
change between booking and visit would move it too.

Neither address has a formal specification; these are the forms the widely used add-to-calendar
libraries open. Outlook's compose page is also given `path` and `rru`, the fields of its older deeplink
address, so either reading of the link lands on the new-event form.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
OUTLOOK_CALENDAR = "https://outlook.live.com/calendar/0/action/compose"
OPENSTREETMAP_SEARCH = "https://www.openstreetmap.org/search"


@dataclass(frozen=True)
class CalendarEvent:
    """What a calendar link fills in. `start` and `end` are instants (time-zone aware, any zone)."""

    title: str
    start: datetime
    end: datetime
    details: str = ""
    location: str = ""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a calendar event's start and end must be time-zone aware")
        if self.end <= self.start:
            raise ValueError("a calendar event must end after it starts")


def google_calendar_url(event: CalendarEvent) -> str:
    """Google Calendar's new-event page, filled in: `dates` is start/end as YYYYMMDDTHHMMSSZ."""
    return _url(GOOGLE_CALENDAR, [
        ("action", "TEMPLATE"),
        ("text", event.title),
        ("dates", f"{_utc(event.start, '%Y%m%dT%H%M%SZ')}/{_utc(event.end, '%Y%m%dT%H%M%SZ')}"),
        ("details", event.details),
        ("location", event.location),
    ])


def outlook_calendar_url(event: CalendarEvent) -> str:
    """Outlook.com's new-event page, filled in: `startdt` and `enddt` as ISO 8601 in UTC."""
    return _url(OUTLOOK_CALENDAR, [
        ("path", "/calendar/action/compose"),
        ("rru", "addevent"),
        ("subject", event.title),
        ("startdt", _utc(event.start, "%Y-%m-%dT%H:%M:%SZ")),
        ("enddt", _utc(event.end, "%Y-%m-%dT%H:%M:%SZ")),
        ("body", event.details),
        ("location", event.location),
    ])


def map_url(address: str) -> str:
    """An OpenStreetMap search for the address: no API key, no tracking, and it opens in any browser."""
    return _url(OPENSTREETMAP_SEARCH, [("query", address)])


def _utc(instant: datetime, pattern: str) -> str:
    return instant.astimezone(timezone.utc).strftime(pattern)


def _url(base: str, fields: list[tuple[str, str]]) -> str:
    """`base?fields`, leaving out the empty ones. Spaces travel as %20, which every reader takes for a
    space ("+" means one only in form encoding)."""
    return f"{base}?{urlencode([(k, v) for k, v in fields if v], quote_via=quote)}"
