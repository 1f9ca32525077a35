"""Calendar files for appointment e-mails and feeds (RFC 5545 and 5546, with the icalendar library).

One UID per appointment for its whole life, so calendars update the same event; SEQUENCE is the
number of recorded changes, so each update outranks the last. Times carry the provider's zone (TZID
with its VTIMEZONE), so a calendar in any zone shows the right moment.

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
from icalendar import Calendar, Event, vCalAddress, vText

from booking.domain.timezones import to_zone
from booking.models import Appointment
from booking.models.types import utcnow
from booking.services.outbox import sender_address

CANCELLED = {"cancelled", "rejected"}


def appointment_ics(appointment: Appointment) -> str:
    """The invitation the patient's e-mails carry: REQUEST, or CANCEL once it is off."""
    method = "CANCEL" if appointment.status in CANCELLED else "REQUEST"
    calendar = _calendar(method)
    event = _event(appointment, f"{appointment.service.name} with {appointment.provider.name}")
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
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


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
    event.add("location", vText(current_app.config.get("CLINIC_ADDRESS") or current_app.config["CLINIC_NAME"]))
    event.add("status", "CANCELLED" if appointment.status in CANCELLED
              else ("TENTATIVE" if appointment.status == "pending" else "CONFIRMED"))
    organizer = vCalAddress(f"mailto:{current_app.config['CLINIC_EMAIL']}")
    organizer.params["cn"] = vText(current_app.config["CLINIC_NAME"])
    event.add("organizer", organizer)
    return event


def _local_or_utc(instant: datetime, zone: str) -> datetime:
    """The instant on the provider's clock, unless that clock reading happens twice (the repeated hour
    when clocks go back): RFC 5545 reads an ambiguous local time as its first occurrence, so the second
    one is written in UTC instead, which every calendar reads exactly."""
    local = to_zone(instant, zone)
    if local.replace(fold=0).astimezone(timezone.utc) != instant.astimezone(timezone.utc):
        return instant.astimezone(timezone.utc)
    return local


def appointment_uid(appointment: Appointment) -> str:
    """Globally unique and fixed for the appointment's life. The domain is the sender's, as it has
    always been: a change of it would make every calendar see each appointment as a new event."""
    domain = sender_address().rsplit("@", 1)[-1] or "booking.invalid"
    return f"appointment-{appointment.id}@{domain}"
