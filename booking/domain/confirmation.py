"""What a confirmation says in words: until when the patient may still change it online, and what
happens next. Pure: no Flask, no database.

The deadline is the same instant `booking.services.booking.can_change` tests against (a change is
allowed while the start is at least the cutoff away), so the page never promises a minute the service
would refuse. It is counted in real hours, not on the clock face: for a 09:30 visit on the morning the
clocks go forward, a 24-hour cutoff ends at 08:30 the day before, and the words say so.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.timezones import to_zone, zone_words


def change_deadline(start_at: datetime, cutoff: timedelta) -> datetime:
    """The last instant the patient may cancel or move the appointment online."""
    return start_at - cutoff


def deadline_words(deadline: datetime, zone: str, now: datetime) -> str:
    """"Tuesday 8 December, 09:30 London time (GMT)": on the provider's clock, the year only when it is
    not this year's there."""
    local, today = to_zone(deadline, zone), to_zone(now, zone)
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local:%A} {local.day} {local:%B}{year}, {local:%H:%M} {zone_words(zone, deadline)}"


def visit_words(start: datetime, end: datetime, zone: str) -> str:
    """"Tuesday 8 December 2026, 09:30 to 10:00 London time (GMT)": the zone said once for the range, the
    end's day only when it ends on another day, and each end with its own clock when the clocks change
    inside it (a night visit on the night they go back: 01:30 BST to 01:30 GMT)."""
    first, last = to_zone(start, zone), to_zone(end, zone)
    ends = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%A} {last.day} {last:%B}, {last:%H:%M}"
    day = f"{first:%A} {first.day} {first:%B} {first.year}"
    if first.utcoffset() == last.utcoffset():
        return f"{day}, {first:%H:%M} to {ends} {zone_words(zone, start)}"
    return f"{day}, {first:%H:%M} {zone_words(zone, start)} to {ends} {zone_words(zone, end)}"


def next_step(status: str, answer_hours: int) -> str | None:
    """What the patient waits for: nothing once approved, the clinic's answer while pending. Other
    states (cancelled, declined, over) have no next step."""
    if status == "approved":
        return "Confirmed. There is nothing more to do: come at the time above."
    if status == "pending":
        hours = "1 hour" if answer_hours == 1 else f"{answer_hours} hours"
        return f"The clinic answers within {hours}. You will get an e-mail when it is decided."
    return None
