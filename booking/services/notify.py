"""E-mails about appointments and accounts, queued in the outbox inside the transaction of the change.

Every time is written in the provider's zone with its label, and in the patient's own zone too when
the patient has set a different one. Some e-mails are optional: each names the preference (a column of
User) that turns it off. Decisions on and changes to a patient's own appointment, and everything about
the account itself, are essential and always sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template

from booking.domain.timezones import format_local
from booking.models import Appointment, User
from booking.services.ics import appointment_ics, staff_copy_ics
from booking.services.outbox import enqueue


@dataclass(frozen=True)
class Mail:
    subject: str
    heading: str
    lines: list[str]


#: The optional e-mails, as the profile offers them: preference column -> what it turns off.
OPTIONAL_EMAILS = {
    "email_receipts": "A receipt when I send a request (the clinic's answer always comes)",
    "email_reminders": "A reminder before each appointment",
    "email_notes": "Notes the clinic shares with me (they are on the appointment's page too)",
    "email_clinic_updates": "New requests, and appointments cancelled or moved by patients",
}
#: Which of them concern each role: patients get receipts, reminders and notes; staff hear of requests.
PATIENT_EMAILS = ("email_receipts", "email_reminders", "email_notes")
STAFF_EMAILS = ("email_clinic_updates",)


def optional_emails_for(role: str) -> tuple[str, ...]:
    return PATIENT_EMAILS if role == "patient" else STAFF_EMAILS


def requested(appointment: Appointment) -> None:
    patient, provider = appointment.patient, appointment.provider
    if appointment.status == "approved":
        _send(patient, appointment, Mail(f"Booked: {appointment.service.name} on {_when(appointment)}",
                                         "You are booked", [f"{appointment.service.name} with {provider.name}."]))
    else:
        _send(patient, appointment, Mail(f"Request received: {appointment.service.name}", "We received your request",
                                         [f"{appointment.service.name} with {provider.name}.",
                                          "The clinic will confirm it soon; you will hear from us."]),
              preference="email_receipts")
    staff = provider.user
    _send(staff, appointment, Mail(f"New request from {patient.full_name}", "A new request is waiting",
                                   [f"{patient.full_name} asks for {appointment.service.name}.",
                                    f"Reason: {appointment.reason}" if appointment.reason else "No reason given."]),
          preference="email_clinic_updates")


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
                [f"{appointment.patient.full_name} cancelled.", f"Reason: {reason}" if reason else ""]),
                preference="email_clinic_updates")
    else:
        return
    _send(appointment.patient, appointment, mail)


def moved(appointment: Appointment, old_start: datetime) -> None:
    previous = format_local(old_start, appointment.provider.timezone)
    mail = Mail(f"Moved: {appointment.service.name} to {_when(appointment)}", "An appointment was moved",
                [f"It was {previous}.", f"It is now {appointment.status}."])
    _send(appointment.patient, appointment, mail)
    _send(appointment.provider.user, appointment, mail, preference="email_clinic_updates")


def reminder(appointment: Appointment) -> None:
    _send(appointment.patient, appointment, Mail(f"Reminder: {appointment.service.name} on {_when(appointment)}",
                                                 "A reminder of your appointment",
                                                 [f"{appointment.service.name} with {appointment.provider.name}."]),
          preference="email_reminders")


def note_shared(appointment: Appointment, body: str) -> None:
    _send(appointment.patient, appointment, Mail(f"A note about your appointment on {_when(appointment)}",
                                                 "A note from the clinic", [body]), calendar=False,
          preference="email_notes")


def patient_left(appointment: Appointment) -> None:
    """The provider hears that an appointment is off because its patient deleted the account.

    Written after the erasure, so it names no one: the clinic keeps the time, not the person.
    """
    _send(appointment.provider.user, appointment, Mail(
        f"Cancelled: {appointment.service.name} on {_when(appointment)}", "An appointment was cancelled",
        [f"{appointment.service.name} on {_when(appointment)} is cancelled: the patient closed their account.",
         "The time is free again."]))


def _when(appointment: Appointment) -> str:
    return format_local(appointment.start_at, appointment.provider.timezone)


def _times(appointment: Appointment, person: User) -> list[str]:
    """The time as the provider's clock shows it, and as the person's own when it differs."""
    shown = [format_local(appointment.start_at, appointment.provider.timezone)]
    own = person.profile.timezone if person.profile is not None else None
    if own and own != appointment.provider.timezone:
        shown.append(f"{format_local(appointment.start_at, own)} (your time)")
    return shown


def _send(person: User, appointment: Appointment, mail: Mail, calendar: bool = True,
          preference: str | None = None) -> None:
    if person.deleted_at is not None or (preference is not None and not getattr(person, preference)):
        return
    context = dict(person=person, appointment=appointment, mail=mail, subject=mail.subject,
                   times=_times(appointment, person), lines=[line for line in mail.lines if line],
                   bring=_what_to_bring(appointment, person))
    enqueue(person.email, mail.subject, render_template("email/appointment.txt", **context),
            render_template("email/appointment.html", **context),
            ics=_calendar_file(appointment, person) if calendar else None, user_id=person.id,
            appointment_id=appointment.id)


def _what_to_bring(appointment: Appointment, person: User) -> str | None:
    """The service's what-to-bring text, for the patient while the appointment still stands (staff
    know it, and a cancelled visit needs nothing brought)."""
    if person.id != appointment.patient_id or not appointment.holds_time:
        return None
    return appointment.service.what_to_bring


def _calendar_file(appointment: Appointment, person: User) -> str:
    """The patient gets the invitation to their appointment; anyone else (the provider's staff) gets the
    event as information, never an invitation addressed to the patient (see `booking.services.ics`)."""
    return appointment_ics(appointment) if person.id == appointment.patient_id else staff_copy_ics(appointment)


def verify_email(person: User, link: str) -> None:
    _account_mail(person, "Confirm your e-mail address", "Please confirm your e-mail address", link,
                  ["Open this link to confirm it is you; then you can book appointments.",
                   "If you did not create an account, ignore this e-mail."])


def password_reset(person: User, link: str, minutes: int) -> None:
    _account_mail(person, "Reset your password", "A new password for your account", link,
                  [f"Open this link within {minutes} minutes to choose a new password. It works once.",
                   "If you did not ask for this, ignore this e-mail: your password stays as it is."])


def password_changed(person: User, reset_link: str) -> None:
    _account_mail(person, "Your password was changed", "Your password was changed", reset_link,
                  ["The password of your account was just changed, and every other session was logged out.",
                   "If this was not you, choose a new password at once with this link, and tell the clinic:"])


def _account_mail(person: User, subject: str, heading: str, link: str | None, lines: list[str]) -> None:
    context = dict(person=person, subject=subject, heading=heading, link=link, lines=lines)
    enqueue(person.email, subject, render_template("email/account.txt", **context),
            render_template("email/account.html", **context), user_id=person.id)


REGISTRATION_ATTEMPT_SUBJECT = "Someone tried to register with your e-mail address"


def registration_attempt(person: User, login_link: str, reset_link: str, confirm_link: str | None) -> None:
    """The owner of an address hears that someone tried to create an account with it; the person who
    tried was told only to check their e-mail, so the answer on the page never says the address is taken.
    An owner who never confirmed the address gets a new confirmation link too (a lost first e-mail)."""
    links = [("Log in", login_link), ("Forgotten your password? Choose a new one", reset_link)]
    if confirm_link is not None:
        links.insert(0, ("Confirm your e-mail address (then log in)", confirm_link))
    context = dict(person=person, subject=REGISTRATION_ATTEMPT_SUBJECT, links=links, confirm=confirm_link is not None)
    enqueue(person.email, REGISTRATION_ATTEMPT_SUBJECT, render_template("email/registration_attempt.txt", **context),
            render_template("email/registration_attempt.html", **context), user_id=person.id)
