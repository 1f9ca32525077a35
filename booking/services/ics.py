"""Calendar files for appointment e-mails and feeds (RFC 5545 and 5546, with the icalendar library).

One UID per appointment for its whole life, so calendars update the same event; SEQUENCE is the
number of recorded changes, so each update outranks the last. Times carry the provider's zone (TZID
with a VTIMEZONE of our own, see `booking.domain.zone_rules`), so a calendar in any zone shows the
right moment, whichever parser reads the file.

Who gets which shape (RFC 5546 methods):
- The patient's copy is an invitation to them: METHOD REQUEST with the patient as the ATTENDEE while
  the appointment stands, CANCEL once it is rejected or cancelled. ORGANIZER is the clinic's own
  address (CLINIC_EMAIL), so an answer from the calendar reaches someone who reads it.
- The staff's copy (a new request, a move, a patient's cancellation) is information about an event in
  their provider's diary, not an invitation: METHOD PUBLISH with no ATTENDEE at all. A REQUEST naming
  the patient as ATTENDEE would make Outlook and Gmail show the staff an invitation addressed to
  someone else, with buttons that answer for the patient; PUBLISH is what the staff's subscribed feed
  says too, under the same UID, so an imported copy and the feed are one event. A cancellation in a
  staff copy is the same PUBLISH with STATUS CANCELLED (CANCEL, too, is addressed to attendees).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vRecur, vText

from booking.domain.timezones import to_zone
from booking.domain.zone_rules import observances
from booking.models import Appointment
from booking.models.types import utcnow
from booking.services.outbox import sender_address
from booking.services.visit import event_title, visit_address

CANCELLED = {"cancelled", "rejected"}


def appointment_ics(appointment: Appointment) -> str:
    """The invitation the patient's e-mails carry: REQUEST, or CANCEL once it is off."""
    method = "CANCEL" if appointment.status in CANCELLED else "REQUEST"
    calendar = _calendar(method)
    event = _event(appointment, event_title(appointment))
    event.add("sequence", _sequence(appointment))
    attendee = vCalAddress(f"mailto:{appointment.patient.email}")
    attendee.params["cn"] = vText(appointment.patient.full_name)
    event.add("attendee", attendee)
    calendar.add_component(event)
    return _finish(calendar)


def staff_copy_ics(appointment: Appointment) -> str:
    """What the provider's staff e-mails carry: the event as information (PUBLISH, no ATTENDEE), titled
    as their feed titles it, so nothing asks them to answer for the patient."""
    calendar = _calendar("PUBLISH")
    event = _event(appointment, staff_title(appointment))
    event.add("sequence", _sequence(appointment))
    calendar.add_component(event)
    return _finish(calendar)


def staff_title(appointment: Appointment) -> str:
    return f"{appointment.service.name}: {appointment.patient.full_name}"


def feed_ics(name: str, events: list[tuple[Appointment, str]]) -> str:
    """A subscribed calendar (RFC 7986 name and refresh hint): each (appointment, title) as an event with
    the same UID its e-mails carry, so an imported invitation and the feed are one event."""
    calendar = _calendar("PUBLISH")
    calendar.add("name", vText(name))  # typed as TEXT, so its line breaks, commas and semicolons are escaped
    calendar.add("x-wr-calname", vText(name))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for appointment, title in events:
        calendar.add_component(_event(appointment, title))
    return _finish(calendar)


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Booking//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _finish(calendar: Calendar) -> str:
    """Define every TZID the events use, before the events, for the years they fall in."""
    years: dict[str, tuple[int, int]] = {}
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            value = event[name]
            tzid = value.params.get("TZID")
            if tzid:
                low, high = years.get(tzid, (value.dt.year, value.dt.year))
                years[tzid] = (min(low, value.dt.year), max(high, value.dt.year))
    calendar.subcomponents[:0] = [vtimezone(tzid, *span) for tzid, span in sorted(years.items())]
    return calendar.to_ical().decode()


def vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE for events from `first_year` to `last_year`: yearly rules where the zone
    follows one, single onsets where it does not, never a multi-valued RDATE (which ical.js, inside
    Thunderbird and Nextcloud, reads only the first value of, putting every event an hour off)."""
    component = Timezone()
    component.add("tzid", zone)
    for observance in observances(zone, first_year, last_year):
        part = TimezoneDaylight() if observance.daylight else TimezoneStandard()
        part.add("dtstart", observance.onset)  # local time on the clock before the change, as RFC 5545 asks
        part.add("tzoffsetfrom", observance.offset_from)
        part.add("tzoffsetto", observance.offset_to)
        part.add("tzname", observance.name)
        if observance.yearly:
            rule = vRecur(freq="YEARLY", bymonth=observance.by_month)
            if observance.by_day is not None:
                rule["BYDAY"] = observance.by_day
            else:
                rule["BYMONTHDAY"] = observance.by_month_day
            if observance.until is not None:
                rule["UNTIL"] = observance.until  # in UTC, as RFC 5545 asks inside a VTIMEZONE
            part.add("rrule", rule)
        component.add_component(part)
    return component


def _sequence(appointment: Appointment) -> int:
    return max(len(appointment.events) - 1, 0)


def _event(appointment: Appointment, summary: str) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", utcnow())
    zone = appointment.provider.timezone
    event.add("dtstart", _local_or_utc(appointment.start_at, zone))
    event.add("dtend", _local_or_utc(appointment.end_at, zone))
    event.add("summary", summary)
    event.add("location", vText(visit_address(appointment)))
    event.add("status", "CANCELLED" if appointment.status in CANCELLED
              else ("TENTATIVE" if appointment.status == "pending" else "CONFIRMED"))
    organizer = vCalAddress(f"mailto:{current_app.config['CLINIC_EMAIL']}")
    organizer.params["cn"] = vText(current_app.config["CLINIC_NAME"])
    event.add("organizer", organizer)
    return event


def _local_or_utc(instant: datetime, zone: str) -> datetime:
    """The instant on the provider's clock, unless that clock reading happens twice (the repeated hour
    when clocks go back): then it is written in UTC, which every calendar reads exactly. RFC 5545 reads
    an ambiguous local time as its first occurrence, but ical.js (Thunderbird, Nextcloud) takes the
    second, so neither occurrence is safe as a wall time."""
    local = to_zone(instant, zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        return instant.astimezone(timezone.utc)
    return local


def appointment_uid(appointment: Appointment) -> str:
    """Globally unique and fixed for the appointment's life. The domain is the sender's, as it has
    always been: a change of it would make every calendar see each appointment as a new event."""
    domain = sender_address().rsplit("@", 1)[-1] or "booking.invalid"
    return f"appointment-{appointment.id}@{domain}"
