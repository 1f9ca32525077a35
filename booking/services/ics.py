"""Calendar files for appointment e-mails (RFC 5545 with the icalendar library).

One UID per appointment for its whole life, so calendars update the same event; SEQUENCE is the
number of recorded changes, so each update outranks the last; METHOD REQUEST while the appointment
stands and CANCEL once it is rejected or cancelled. Times carry the provider's zone (TZID with its
VTIMEZONE), so a calendar in any zone shows the right moment.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from booking.domain.timezones import to_zone
from booking.models import Appointment
from booking.models.types import utcnow

CANCELLED = {"cancelled", "rejected"}


def appointment_ics(appointment: Appointment) -> str:
    """The invitation an appointment e-mail carries."""
    method = "CANCEL" if appointment.status in CANCELLED else "REQUEST"
    calendar = _calendar()
    calendar.add("method", method)
    event = _event(appointment, f"{appointment.service.name} with {appointment.provider.name}")
    event.add("sequence", max(len(appointment.events) - 1, 0))
    attendee = vCalAddress(f"mailto:{appointment.patient.email}")
    attendee.params["cn"] = vText(appointment.patient.full_name)
    event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def feed_ics(name: str, events: list[tuple[Appointment, str]]) -> str:
    """A subscribed calendar (RFC 7986 name and refresh hint): each (appointment, title) as an event with
    the same UID its e-mails carry, so an imported invitation and the feed are one event."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("name", vText(name))  # typed as TEXT, so its line breaks, commas and semicolons are escaped
    calendar.add("x-wr-calname", vText(name))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for appointment, title in events:
        calendar.add_component(_event(appointment, title))
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Booking//Appointments//EN")
    calendar.add("version", "2.0")
    return calendar


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
    organizer = vCalAddress(f"mailto:{_sender_address()}")
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
    domain = _sender_address().rsplit("@", 1)[-1] or "booking.invalid"
    return f"appointment-{appointment.id}@{domain}"


def _sender_address() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, (tuple, list)):
        sender = sender[1]
    return sender.split("<")[-1].rstrip(">").strip()
