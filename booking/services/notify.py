"""E-mails about appointments, queued in the outbox inside the transaction of the change itself.

Every time is written in the provider's zone with its label, and in the patient's own zone too when
the patient has set a different one.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from booking.domain.timezones import format_local
from booking.models import Appointment, User
from booking.services.ics import appointment_ics
from booking.services.outbox import enqueue


@dataclass(frozen=True)
class Mail:
    subject: str
    heading: str
    lines: list[str]


def requested(appointment: Appointment) -> None:
    patient, provider = appointment.patient, appointment.provider
    if appointment.status == "approved":
        _send(patient, appointment, Mail(f"Booked: {appointment.service.name} on {_when(appointment)}",
                                         "You are booked", [f"{appointment.service.name} with {provider.name}."]))
    else:
        _send(patient, appointment, Mail(f"Request received: {appointment.service.name}", "We received your request",
                                         [f"{appointment.service.name} with {provider.name}.",
                                          "The clinic will confirm it soon; you will hear from us."]))
    staff = provider.user
    _send(staff, appointment, Mail(f"New request from {patient.full_name}", "A new request is waiting",
                                   [f"{patient.full_name} asks for {appointment.service.name}.",
                                    f"Reason: {appointment.reason}" if appointment.reason else "No reason given."]))


def decided(appointment: Appointment, actor: User | None, reason: str | None) -> None:
    """Approved, rejected or cancelled: the patient hears it, with the reason and by whom."""
    status = appointment.status
    if status == "approved":
        mail = Mail(f"Confirmed: {appointment.service.name} on {_when(appointment)}",
                    "Your appointment is confirmed", [f"{appointment.service.name} with {appointment.provider.name}."])
    elif status == "rejected":
        mail = Mail(f"Request declined: {appointment.service.name}", "Your request was declined",
                    [f"Reason: {reason}" if reason else "No reason was given."])
    elif status == "cancelled":
        by = "you" if actor is not None and actor.id == appointment.patient_id else (actor.full_name if actor else "the clinic")
        mail = Mail(f"Cancelled: {appointment.service.name} on {_when(appointment)}",
                    "Your appointment is cancelled", [f"Cancelled by {by}.", f"Reason: {reason}" if reason else ""])
        if actor is not None and actor.id == appointment.patient_id:
            _send(appointment.provider.user, appointment, Mail(
                f"Cancelled by {appointment.patient.full_name}", "An appointment was cancelled",
                [f"{appointment.patient.full_name} cancelled.", f"Reason: {reason}" if reason else ""]))
    else:
        return
    _send(appointment.patient, appointment, mail)


def moved(appointment: Appointment, old_start) -> None:  # type: ignore[no-untyped-def]
    previous = format_local(old_start, appointment.provider.timezone)
    for person in (appointment.patient, appointment.provider.user):
        _send(person, appointment, Mail(f"Moved: {appointment.service.name} to {_when(appointment)}",
                                        "An appointment was moved", [f"It was {previous}.",
                                                                     f"It is now {appointment.status}."]))


def reminder(appointment: Appointment) -> None:
    _send(appointment.patient, appointment, Mail(f"Reminder: {appointment.service.name} on {_when(appointment)}",
                                                 "A reminder of your appointment",
                                                 [f"{appointment.service.name} with {appointment.provider.name}."]))


def note_shared(appointment: Appointment, body: str) -> None:
    _send(appointment.patient, appointment, Mail(f"A note about your appointment on {_when(appointment)}",
                                                 "A note from the clinic", [body]), calendar=False)


def _when(appointment: Appointment) -> str:
    return format_local(appointment.start_at, appointment.provider.timezone)


def _times(appointment: Appointment, person: User) -> list[str]:
    """The time as the provider's clock shows it, and as the person's own when it differs."""
    shown = [format_local(appointment.start_at, appointment.provider.timezone)]
    own = person.profile.timezone if person.profile is not None else None
    if own and own != appointment.provider.timezone:
        shown.append(f"{format_local(appointment.start_at, own)} (your time)")
    return shown


def _send(person: User, appointment: Appointment, mail: Mail, calendar: bool = True) -> None:
    context = dict(person=person, appointment=appointment, mail=mail, times=_times(appointment, person),
                   lines=[line for line in mail.lines if line])
    enqueue(person.email, mail.subject, render_template("email/appointment.txt", **context),
            render_template("email/appointment.html", **context),
            ics=appointment_ics(appointment) if calendar else None)


def verify_email(person: User, link: str) -> None:
    context = dict(person=person, heading="Please confirm your e-mail address", link=link,
                   lines=["Open this link to confirm it is you; then you can book appointments.",
                          "If you did not create an account, ignore this e-mail."])
    enqueue(person.email, "Confirm your e-mail address", render_template("email/account.txt", **context),
            render_template("email/account.html", **context))
