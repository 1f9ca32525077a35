"""Appointment e-mails as mail programs take them, parsed back with Python's modern e-mail parser.

An invitation is a text/calendar alternative beside the text and HTML with its method (what makes Outlook
and Gmail show an invitation card) and an attachment; the clinic is the sender by name, the domain of
the Message-ID and the ORGANIZER that a calendar's reply goes to; the provider's staff get the event as
information, never an invitation addressed to the patient. All through the real SMTP server.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from icalendar import Calendar

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User, write_transaction
from booking.services import notify
from booking.services.outbox import deliver
from tests.booking_helpers import everyday_provider
from tests.factories import make_appointment, make_user

UTC = timezone.utc
CLINIC = {"CLINIC_NAME": "Riverside Clinic", "CLINIC_EMAIL": "appointments@riverside-clinic.example"}


@pytest.fixture
def clinic_mail(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, **CLINIC)
    with app.app_context():
        yield app, box


def notify_now(change, appointment_id: int) -> None:  # type: ignore[no-untyped-def]
    """Run a notify function on the appointment in its own transaction, then send what it queued."""
    with write_transaction():
        change(db.session.get(Appointment, appointment_id, populate_existing=True))
    deliver()


def set_status(appointment_id: int, status: Status) -> None:
    """Put the appointment in `status`, as the service that changes it would (its e-mail comes after)."""
    with write_transaction():
        db.session.get(Appointment, appointment_id).status = status.value


def mails(box, address: str, prefix: str) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    """The messages to `address` whose subject starts with `prefix`, parsed with the modern policy."""
    parsed = [BytesParser(policy=policy.default).parsebytes(raw) for raw in box.raw]
    return [m for m in parsed if address in m["To"] and m["Subject"].strip().startswith(prefix)]


def structure(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def calendar_part(message: EmailMessage) -> tuple[EmailMessage, Calendar]:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part, Calendar.from_ical(part.get_content())


@pytest.fixture
def booked(clinic_mail):  # type: ignore[no-untyped-def]
    """(app, box, appointment id, patient, staff): a pending request, its e-mails sent."""
    app, box = clinic_mail
    patient = make_user(Role.PATIENT, email="pat@example.com", full_name="Priya Shah")
    provider = everyday_provider()
    appointment = make_appointment(patient=patient, provider=provider,
                                   start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=5))
    notify_now(notify.requested, appointment.id)
    return app, box, appointment.id, patient, provider.user


def test_an_invitation_is_an_inline_text_calendar_alternative_whose_method_matches_the_file(booked):  # type: ignore[no-untyped-def]
    _, box, appointment_id, patient, _ = booked
    set_status(appointment_id, Status.CANCELLED)
    notify_now(lambda a: notify.decided(a, None, "The clinic is closed"), appointment_id)
    headers = [raw.split(b"\r\n\r\n", 1)[0] for raw in box.raw]
    assert b"Content-Type: text/calendar; method=REQUEST; charset=UTF-8" in b"".join(box.raw)
    assert b"Content-Type: text/calendar; method=CANCEL; charset=UTF-8" in b"".join(box.raw)
    assert all(b"text/calendar" not in h for h in headers)  # only ever a part, never the whole message
    for prefix, method in (("Request received", "REQUEST"), ("Cancelled", "CANCEL")):
        [message] = mails(box, patient.email, prefix)
        assert structure(message) == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                                      "text/calendar", "application/ics"]
        part, calendar = calendar_part(message)
        assert part.get_param("charset").lower() == "utf-8"
        assert part.get_param("method") == method == str(calendar["METHOD"])
        assert part.get_content_disposition() is None  # inline: the card Outlook and Gmail show
        [attachment] = [p for p in message.walk() if p.get_content_type() == "application/ics"]
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename() == "appointment.ics"
        assert attachment.get_content().decode() == part.get_content()
        [event] = calendar.walk("VEVENT")
        assert str(event["ATTENDEE"]) == f"mailto:{patient.email}"


def test_mail_comes_from_the_clinic_by_name_with_a_message_id_in_its_domain(booked):  # type: ignore[no-untyped-def]
    _, box, _, patient, staff = booked
    for message in (*mails(box, patient.email, ""), *mails(box, staff.email, "")):
        [sender] = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Riverside Clinic", "appointments@riverside-clinic.example")
        assert "=?" not in str(message["From"])  # a plain ASCII name is written plainly
        assert re.fullmatch(r"<[^@<>\s]+@riverside-clinic\.example>", message["Message-ID"])


def test_a_clinic_name_with_a_comma_and_accents_reaches_the_from_line_intact(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    name = "Clínica São João, Porto"
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, CLINIC_NAME=name,
                   CLINIC_EMAIL="marcacoes@clinica-sao-joao.example")
    with app.app_context():
        appointment = make_appointment(patient=make_user(Role.PATIENT, email="pat@example.com"))
        notify_now(notify.requested, appointment.id)
        [message] = mails(box, "pat@example.com", "")
        [sender] = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == (name, "marcacoes@clinica-sao-joao.example")
        assert message["Message-ID"].endswith("@clinica-sao-joao.example>")
        _, calendar = calendar_part(message)
        organizer = calendar.walk("VEVENT")[0]["ORGANIZER"]
        assert str(organizer) == "mailto:marcacoes@clinica-sao-joao.example" and str(organizer.params["CN"]) == name


def test_the_organizer_is_the_clinics_own_address_so_a_reply_reaches_it(booked):  # type: ignore[no-untyped-def]
    app, box, _, patient, staff = booked
    feed = app.test_client().get(f"/calendar/{db.session.get(User, patient.id).calendar_token}.ics").get_data()
    for calendar in (*(calendar_part(m)[1] for m in (*mails(box, patient.email, ""), *mails(box, staff.email, ""))),
                     Calendar.from_ical(feed)):
        for event in calendar.walk("VEVENT"):
            organizer = event["ORGANIZER"]
            assert str(organizer) == "mailto:appointments@riverside-clinic.example"
            assert str(organizer.params["CN"]) == "Riverside Clinic"
    assert b"booking.invalid" not in feed


def test_staff_copies_are_published_information_not_an_invitation_addressed_to_the_patient(booked):  # type: ignore[no-untyped-def]
    _, box, appointment_id, patient, staff = booked
    set_status(appointment_id, Status.APPROVED)
    notify_now(lambda a: notify.moved(a, a.start_at - timedelta(hours=2)), appointment_id)
    set_status(appointment_id, Status.CANCELLED)
    notify_now(lambda a: notify.decided(a, db.session.get(User, patient.id), "Feeling better"), appointment_id)
    [invitation] = mails(box, patient.email, "Request received")
    uid = str(calendar_part(invitation)[1].walk("VEVENT")[0]["UID"])
    copies = {prefix: mails(box, staff.email, prefix) for prefix in ("New request", "Moved", "Cancelled by")}
    assert all(len(found) == 1 for found in copies.values()), copies
    for prefix, [message] in copies.items():
        part, calendar = calendar_part(message)
        assert part.get_param("method") == "PUBLISH" == str(calendar["METHOD"]), prefix
        [event] = calendar.walk("VEVENT")
        assert "ATTENDEE" not in event and "RSVP" not in calendar.to_ical().decode(), prefix
        assert str(event["UID"]) == uid  # the same event as the patient's and the staff feed's
        assert str(event["SUMMARY"]).endswith(": Priya Shah")
        assert patient.email not in calendar.to_ical().decode()
    assert str(calendar_part(copies["Cancelled by"][0])[1].walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_the_method_of_a_mail_is_read_from_the_calendar_file_not_from_text_inside_it(clinic_mail):  # type: ignore[no-untyped-def]
    _, box = clinic_mail
    provider = everyday_provider()
    provider.services[0].name = "Check-up\r\nMETHOD:CANCEL"
    db.session.commit()
    appointment = make_appointment(patient=make_user(Role.PATIENT, email="pat@example.com"), provider=provider)
    notify_now(notify.requested, appointment.id)
    [message] = mails(box, "pat@example.com", "Request received")
    part, calendar = calendar_part(message)
    assert part.get_param("method") == "REQUEST" == str(calendar["METHOD"])


# --- where the clinic's address comes from ----------------------------------------------------------------

@pytest.mark.parametrize("settings_, address, sender", [
    ({"CLINIC_EMAIL": "desk@riverside.example"}, "desk@riverside.example", "Riverside Clinic <desk@riverside.example>"),
    ({"MAIL_DEFAULT_SENDER": "Old Name <front@old.example>"}, "front@old.example", "Old Name <front@old.example>"),
    ({"BASE_URL": "https://www.riverside.example"}, "appointments@riverside.example",
     "Riverside Clinic <appointments@riverside.example>"),
    ({"CLINIC_NAME": "Smith, Jones & Co"}, "appointments@booking.invalid",
     '"Smith, Jones & Co" <appointments@booking.invalid>'),
])
def test_the_clinic_address_comes_from_its_setting_then_the_sender_then_the_public_host(  # type: ignore[no-untyped-def]
        make_app, settings_, address, sender):
    app = make_app(**settings_)
    assert (app.config["CLINIC_EMAIL"], app.config["MAIL_DEFAULT_SENDER"]) == (address, sender)


@pytest.mark.parametrize("address", ["front desk", "a@b", "x@clinic.example, y@clinic.example", "<a@b.example>"])
def test_a_clinic_address_that_is_not_one_address_stops_the_start(make_app, address):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="CLINIC_EMAIL"):
        make_app(CLINIC_EMAIL=address)


def test_a_real_site_without_a_clinic_address_is_warned_at_start(make_app, caplog):  # type: ignore[no-untyped-def]
    with caplog.at_level("WARNING", logger="booking.config"):
        app = make_app(TESTING=False, BASE_URL="http://127.0.0.1:8000")
    assert app.config["CLINIC_EMAIL"] == "appointments@booking.invalid"
    assert any("BOOKING_CLINIC_EMAIL is not set" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="booking.config"):
        make_app(TESTING=False, BASE_URL="http://127.0.0.1:8000", CLINIC_EMAIL="desk@riverside.example")
    assert not any("CLINIC_EMAIL" in r.getMessage() for r in caplog.records)
