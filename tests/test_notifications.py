"""E-mails about appointments, sent through a real SMTP server and read back."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from tests.booking_helpers import ZONE, booking_form, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.mailbox import bodies


@pytest.fixture
def world(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        provider = everyday_provider()
        patient = make_user(Role.PATIENT, email="pat@example.com")
        staff_client, patient_client = app.test_client(), app.test_client()
        staff_client.post("/auth/login", data={"email": provider.user.email, "password": DEFAULT_PASSWORD})
        patient_client.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD})
        yield app, box, provider, patient, staff_client, patient_client


def test_a_request_tells_the_patient_and_the_providers_staff(world):  # type: ignore[no-untyped-def]
    _, box, provider, _, _, patient_client = world
    assert patient_client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10), "Sore knee")).status_code == 303
    [to_patient] = box.to("pat@example.com")
    [to_staff] = box.to(provider.user.email)
    assert to_patient["Subject"].startswith("Request received")
    assert "Sore knee" in bodies(to_staff)["text/plain"]
    text, html = bodies(to_patient)["text/plain"], bodies(to_patient)["text/html"]
    assert ("GMT" in text or "BST" in text) and "<h1>We received your request</h1>" in html


def test_approval_rejection_and_cancellation_reach_the_patient_with_reasons(world):  # type: ignore[no-untyped-def]
    _, box, provider, patient, staff_client, patient_client = world
    first = make_appointment(patient=patient, provider=provider, start_at=_at(wall(3, 10)), status=Status.PENDING)
    second = make_appointment(patient=patient, provider=provider, start_at=_at(wall(4, 10)), status=Status.PENDING)
    assert staff_client.post(f"/staff/appointments/{first.id}/approve").status_code == 303
    assert staff_client.post(f"/staff/appointments/{second.id}/reject", data={"reason": "On leave"}).status_code == 303
    assert patient_client.post(f"/me/appointments/{first.id}/cancel", data={"reason": "Feeling better"}).status_code == 303
    subjects = [m["Subject"] for m in box.to("pat@example.com")]
    assert any(s.startswith("Confirmed") for s in subjects) and any(s.startswith("Request declined") for s in subjects)
    declined = next(m for m in box.to("pat@example.com") if m["Subject"].startswith("Request declined"))
    assert "On leave" in bodies(declined)["text/plain"]
    cancelled_to_staff = [m for m in box.to(provider.user.email) if m["Subject"].startswith("Cancelled by")]
    assert cancelled_to_staff and "Feeling better" in bodies(cancelled_to_staff[0])["text/plain"]


def test_times_carry_the_providers_zone_and_the_patients_own(world):  # type: ignore[no-untyped-def]
    _, box, _, patient, _, patient_client = world
    kolkata = everyday_provider(zone="Asia/Kolkata")
    patient.profile.timezone = "America/New_York"
    db.session.commit()
    start = wall(3, 10, zone="Asia/Kolkata")
    assert patient_client.post(f"/book/{kolkata.id}", data=booking_form(kolkata, start)).status_code == 303
    text = bodies(box.to("pat@example.com")[-1])["text/plain"]
    assert "10:00 IST" in text
    assert ("EST (your time)" in text) or ("EDT (your time)" in text)


def test_a_move_and_a_shared_note_are_told(world):  # type: ignore[no-untyped-def]
    app, box, provider, patient, _, patient_client = world
    mine = make_appointment(patient=patient, provider=provider, start_at=_at(wall(3, 10)), status=Status.APPROVED)
    assert patient_client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(4, 11)}).status_code == 303
    assert any(m["Subject"].startswith("Moved") for m in box.to("pat@example.com"))
    assert any(m["Subject"].startswith("Moved") for m in box.to(provider.user.email))
    admin = app.test_client()
    admin.post("/auth/login", data={"email": make_user(Role.ADMIN).email, "password": DEFAULT_PASSWORD})
    admin.post(f"/admin/appointments/{mine.id}/notes", data={"body": "Bring your scans", "visible": "yes"})
    admin.post(f"/admin/appointments/{mine.id}/notes", data={"body": "Private remark"})
    notes = [m for m in box.to("pat@example.com") if m["Subject"].startswith("A note")]
    assert len(notes) == 1 and "Bring your scans" in bodies(notes[0])["text/plain"]


def _at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def calendar_of(message):  # type: ignore[no-untyped-def]
    from icalendar import Calendar

    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part, Calendar.from_ical(part.get_payload(decode=True))


def test_each_appointment_mail_carries_a_calendar_file_that_updates_one_event(world):  # type: ignore[no-untyped-def]
    _, box, provider, patient, staff_client, patient_client = world
    kolkata = everyday_provider(zone="Asia/Kolkata")
    start = wall(3, 10, zone="Asia/Kolkata")
    assert patient_client.post(f"/book/{kolkata.id}", data=booking_form(kolkata, start)).status_code == 303
    from booking.models import Appointment

    db.session.rollback()
    appointment = db.session.query(Appointment).one()
    kolkata_staff = app_client(world, kolkata.user.email)
    assert kolkata_staff.post(f"/staff/appointments/{appointment.id}/approve").status_code == 303
    assert kolkata_staff.post(f"/staff/appointments/{appointment.id}/cancel", data={"reason": "Ill"}).status_code == 303

    mails = [m for m in box.to("pat@example.com")]
    assert [m["Subject"].split(":")[0] for m in mails] == ["Request received", "Confirmed", "Cancelled"]
    events = []
    for mail in mails:
        part, cal = calendar_of(mail)
        [event] = cal.walk("VEVENT")
        events.append((str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"]), event.decoded("DTSTART")))
        assert "method=" in part["Content-Type"]
    assert [e[0] for e in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({e[1] for e in events}) == 1  # one event for the appointment's whole life
    assert events[0][2] < events[1][2] < events[2][2]
    dtstart = events[0][3]
    assert str(dtstart.tzinfo) == "Asia/Kolkata" and (dtstart.hour, dtstart.minute) == (10, 0)
    assert dtstart == datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("Asia/Kolkata"))
    _, cal = calendar_of(mails[0])
    assert cal.walk("VTIMEZONE") and str(cal.walk("VTIMEZONE")[0]["TZID"]) == "Asia/Kolkata"


def app_client(world, email):  # type: ignore[no-untyped-def]
    client = world[0].test_client()
    client.post("/auth/login", data={"email": email, "password": DEFAULT_PASSWORD})
    return client


@pytest.mark.parametrize("instant, shown", [
    ("2027-03-27T10:00:00+00:00", "Sat 27 Mar 2027, 10:00 GMT"),  # the day before the clocks go forward
    ("2027-03-28T09:00:00+00:00", "Sun 28 Mar 2027, 10:00 BST"),  # the day they do
    ("2027-10-31T00:30:00+00:00", "Sun 31 Oct 2027, 01:30 BST"),  # the repeated hour, first time round
    ("2027-10-31T01:30:00+00:00", "Sun 31 Oct 2027, 01:30 GMT"),  # and second
])
def test_times_around_a_london_clock_change_carry_the_label_in_force(world, instant, shown):  # type: ignore[no-untyped-def]
    from booking.models import write_transaction
    from booking.services import notify
    from booking.services.outbox import deliver

    _, box, provider, patient, _, _ = world
    start = datetime.fromisoformat(instant)
    appointment = make_appointment(patient=patient, provider=provider, start_at=start, status=Status.APPROVED)
    with write_transaction():
        from booking.models import Appointment

        notify.decided(db.session.get(Appointment, appointment.id), None, None)
    deliver()
    [mail] = box.to("pat@example.com")
    assert shown in mail["Subject"] and shown in bodies(mail)["text/plain"] and shown in bodies(mail)["text/html"]
    _, cal = calendar_of(mail)
    dtstart = cal.walk("VEVENT")[0].decoded("DTSTART")
    assert dtstart.astimezone(timezone.utc) == start  # the exact instant, however it is written
    if "01:30" in shown:  # a clock reading that happens twice is written in UTC, both times round
        assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in cal.to_ical().decode()
    else:
        assert str(dtstart.tzinfo) == ZONE and dtstart.strftime("%H:%M") == shown[-9:-4]
