"""Calendar files for appointment e-mails (RFC 5545 with the icalendar library).

One UID per appointment for its whole life, so calendars update the same event; SEQUENCE is the
number of recorded changes, so each update outranks the last; METHOD REQUEST while the appointment
stands and CANCEL once it is rejected or cancelled. Times carry the provider's zone (TZID with its
VTIMEZONE), so a calendar in any zone shows the right moment.
"""
from __future__ import annotations

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from booking.domain.timezones import to_zone
from booking.models import Appointment
from booking.models.types import utcnow

CANCELLED = {"cancelled", "rejected"}


def appointment_ics(appointment: Appointment) -> str:
    method = "CANCEL" if appointment.status in CANCELLED else "REQUEST"
    calendar = Calendar()
    calendar.add("prodid", "-//Booking//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", max(len(appointment.events) - 1, 0))
    event.add("dtstamp", utcnow())
    zone = appointment.provider.timezone
    event.add("dtstart", to_zone(appointment.start_at, zone))
    event.add("dtend", to_zone(appointment.end_at, zone))
    event.add("summary", f"{appointment.service.name} with {appointment.provider.name}")
    event.add("location", vText(current_app.config.get("CLINIC_ADDRESS") or current_app.config["CLINIC_NAME"]))
    event.add("status", "CANCELLED" if method == "CANCEL" else ("CONFIRMED" if appointment.status == "approved" else "TENTATIVE"))
    organizer = vCalAddress(f"mailto:{_sender_address()}")
    organizer.params["cn"] = vText(current_app.config["CLINIC_NAME"])
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{appointment.patient.email}")
    attendee.params["cn"] = vText(appointment.patient.full_name)
    event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def appointment_uid(appointment: Appointment) -> str:
    domain = _sender_address().rsplit("@", 1)[-1] or "booking.invalid"
    return f"appointment-{appointment.id}@{domain}"


def _sender_address() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, (tuple, list)):
        sender = sender[1]
    return sender.split("<")[-1].rstrip(">").strip()
