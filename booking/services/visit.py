"""Everything a patient needs to turn up: where, what to bring, until when it can change, what happens
next, and the same event for their own calendar. The confirmation page shows it; the .ics and the
calendar links carry the same place and the same instants, so no copy disagrees with another."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from booking.domain.confirmation import change_deadline, deadline_words, next_step, visit_words
from booking.models import Appointment
from booking.services.calendar_links import CalendarEvent, google_calendar_url, map_url, outlook_calendar_url


@dataclass(frozen=True)
class Visit:
    when_words: str
    address: str
    map_url: str
    what_to_bring: str | None
    cutoff_hours: int
    deadline: datetime
    deadline_words: str
    next_step: str | None
    google_calendar_url: str
    outlook_calendar_url: str


def visit_address(appointment: Appointment) -> str:
    """Where the visit takes place: the provider's own location (a branch, a room) where the clinic set
    one, else the clinic's address (CLINIC_ADDRESS), else its name.

    The one place that decides it, for the page, the map link, the calendar links and the .ics, so none
    of them sends the patient somewhere the others do not."""
    config = current_app.config
    return appointment.provider.location or config.get("CLINIC_ADDRESS") or config["CLINIC_NAME"]


def event_title(appointment: Appointment) -> str:
    """The event's title in the patient's calendar (the .ics SUMMARY says the same)."""
    return f"{appointment.service.name} with {appointment.provider.name}"


def visit_for(appointment: Appointment, now: datetime, page_url: str) -> Visit:
    """The visit as the patient's page shows it; `page_url` (the appointment's public address) goes into
    the calendar entries, so the event leads back to what may have changed since. Whether it can still
    change is `booking.services.booking.can_change` at `now`, whose rule the deadline follows."""
    config = current_app.config
    cutoff = timedelta(hours=config["CANCEL_CUTOFF_HOURS"])
    deadline = change_deadline(appointment.start_at, cutoff)
    address = visit_address(appointment)
    bring = appointment.service.what_to_bring
    details = "\n\n".join(part for part in (
        f"Your appointment at {config['CLINIC_NAME']}: {page_url}", f"What to bring: {bring}" if bring else "") if part)
    event = CalendarEvent(event_title(appointment), appointment.start_at, appointment.end_at, details, address)
    return Visit(
        when_words=visit_words(appointment.start_at, appointment.end_at, appointment.provider.timezone),
        address=address, map_url=map_url(address), what_to_bring=bring,
        cutoff_hours=config["CANCEL_CUTOFF_HOURS"], deadline=deadline,
        deadline_words=deadline_words(deadline, appointment.provider.timezone, now),
        next_step=next_step(appointment.status, config["CLINIC_ANSWER_HOURS"]),
        google_calendar_url=google_calendar_url(event), outlook_calendar_url=outlook_calendar_url(event),
    )
