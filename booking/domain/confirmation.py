"""What a confirmation says in words: until when the patient may still change it online, and what
happens next. Pure: no Flask, no database.

The deadline is the same instant `booking.services.booking.can_change` tests against (a change is
allowed while the start is at least the cutoff away), so the page never promises a minute the service
would refuse. It is counted in real hours, not on the clock face: across a clock change a 24-hour cutoff
ends at 08:30 on the day before a 09:30 visit, and the words say so.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.timezones import to_zone


def change_deadline(start_at: datetime, cutoff: timedelta) -> datetime:
    """The last instant the patient may cancel or move the appointment online."""
    return start_at - cutoff


def zone_words(zone: str, instant: datetime) -> str:
    """"London time", "New York time": the zone as people name it, by its city. Zones that are no city
    (UTC, Etc/GMT+5) are named by their offset at that instant: "UTC", "UTC-05"."""
    if "/" in zone and not zone.startswith("Etc/"):
        return f"{zone.rsplit('/', 1)[-1].replace('_', ' ')} time"
    label = to_zone(instant, zone).tzname() or zone
    return f"UTC{label}" if label[:1] in "+-" else label


def deadline_words(deadline: datetime, zone: str, now: datetime) -> str:
    """"Tuesday 8 December, 09:30 London time": on the provider's clock, the year only when it is not
    this year's there."""
    local, today = to_zone(deadline, zone), to_zone(now, zone)
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local:%A} {local.day} {local:%B}{year}, {local:%H:%M} {zone_words(zone, deadline)}"


def visit_words(start: datetime, end: datetime, zone: str) -> str:
    """"Tuesday 8 December 2026, 09:30 to 10:00 London time (GMT)": the zone named once for the range,
    the end's day only when it ends on another day, and both labels when a clock change falls inside."""
    first, last = to_zone(start, zone), to_zone(end, zone)
    ends = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%A} {last.day} {last:%B}, {last:%H:%M}"
    labels = [label for label in dict.fromkeys([first.tzname(), last.tzname()]) if label and label[:1] not in "+-"]
    named = zone_words(zone, start)
    shown = [label for label in labels if label != named]
    suffix = f" ({', then '.join(shown)})" if shown else ""
    return f"{first:%A} {first.day} {first:%B} {first.year}, {first:%H:%M} to {ends} {named}{suffix}"


def next_step(status: str, answer_hours: int) -> str | None:
    """What the patient waits for: nothing once approved, the clinic's answer while pending. Other
    states (cancelled, declined, over) have no next step."""
    if status == "approved":
        return "Confirmed. There is nothing more to do: come at the time above."
    if status == "pending":
        hours = "1 hour" if answer_hours == 1 else f"{answer_hours} hours"
        return f"The clinic answers within {hours}. You will get an e-mail when it is decided."
    return None
