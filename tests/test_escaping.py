"""Escaping: every string a person typed (names, reasons, notes, service and specialty names, profile
fields, search words) reaches every output escaped for that output: HTML pages and htmx fragments,
toasts in HX-Trigger (JSON), the admin CSV (no spreadsheet formulas), e-mails (HTML escaped, text plain,
a Subject without line breaks) and calendar files (no property or component smuggled in)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from markupsafe import escape

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, AppointmentNote, Specialty, TimeOff, write_transaction
from booking.services import notify
from tests.booking_helpers import ZONE, booking_form, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_provider, make_service, make_user
from tests.mailbox import bodies

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
SQUOTE = "'onmouseover='alert(1)"
TEMPLATE = "{{7*7}}"  # shown literally, never evaluated to 49
JS_URL = "javascript:alert(1)"
UNICODE = "\u202eevil\u202c \U0001f9b7"  # a right-to-left override and an emoji
PATIENT_EMAIL = "'onmouseover='x{{7*7}}@example.test"  # a valid address: ' = { } are allowed before the @

#: Markup that would run if a payload reached HTML unescaped.
DANGEROUS = re.compile(
    r"<script>alert|<img\b|'onmouseover='"
    r"|\b(?:href|src|action|formaction|hx-get|hx-post)\s*=\s*[\"']?\s*javascript:",
    re.IGNORECASE,
)


def hostile(tag: str, limit: int = 120) -> str:
    """A field's payload: as many tricks as its length limit holds, tagged so a failure names the field."""
    text = tag
    for piece in (SCRIPT, BREAKOUT, TEMPLATE, SQUOTE, "\n" + JS_URL, " " + UNICODE):
        if len(text) + len(piece) <= limit:
            text += piece
    return text


def flat(text: str) -> str:
    """Line breaks as one newline each: what survives a round trip through MIME or iCalendar."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def assert_safe(body: str, where: str) -> None:
    found = DANGEROUS.search(body)
    assert found is None, f"{where}: unescaped {found[0]!r} in …{body[max(found.start() - 80, 0):found.end() + 80]}…"


def assert_shows(body: str, where: str, *texts: str) -> None:
    for text in texts:
        assert str(escape(text)) in body, f"{where}: the escaped form of {text[:12]!r}… is missing"


def assert_hides(body: str, where: str, *texts: str) -> None:
    for text in texts:
        assert str(escape(text)) not in body and text not in body, f"{where}: {text[:12]!r}… is shown"


def login(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client


def at(days: int, hour: int) -> datetime:
    return datetime.fromisoformat(wall(days, hour)).replace(tzinfo=ZoneInfo(ZONE))


def toasts(response) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    raw = response.headers["HX-Trigger"]
    assert raw.isascii() and "\r" not in raw and "\n" not in raw
    return json.loads(raw)["toast"]["messages"]


# --- pages and fragments ------------------------------------------------------------------------------

F = {
    "specialty": hostile("sp", 80), "service": hostile("sv"), "description": hostile("ds", 2000),
    "staff": hostile("st"), "admin": hostile("am"), "bio": hostile("bi", 2000), "license": hostile("li", 64),
    "patient": hostile("pn"), "phone": BREAKOUT, "address": hostile("ad", 500), "contact": hostile("ec"),
    "contact_phone": SQUOTE, "medical": hostile("mn", 2000), "reason": hostile("rs", 500),
    "rejected": hostile("rj", 500), "cancelled": hostile("cx", 500), "private": hostile("np", 2000),
    "shared": hostile("ns", 2000), "time_off": hostile("to", 200), "q": hostile("q", 100),
}


@pytest.fixture
def house(app):  # type: ignore[no-untyped-def]
    """A clinic where every free text is hostile: one provider, one patient, appointments in each state."""
    provider = everyday_provider()
    staff, service = provider.user, provider.services[0]
    staff.full_name = F["staff"]
    service.name, service.description = F["service"], F["description"]
    provider.specialty = Specialty(name=F["specialty"])
    provider.bio, provider.license_number = F["bio"], F["license"]
    db.session.commit()
    admin = make_user(Role.ADMIN, full_name=F["admin"])
    patient = make_user(Role.PATIENT, email=PATIENT_EMAIL, full_name=F["patient"])
    patient.phone = F["phone"]
    profile = patient.profile
    profile.address, profile.medical_notes = F["address"], F["medical"]
    profile.emergency_contact_name, profile.emergency_contact_phone = F["contact"], F["contact_phone"]
    db.session.commit()
    pending = make_appointment(patient=patient, provider=provider, start_at=at(3, 10))
    approved = make_appointment(patient=patient, provider=provider, start_at=at(4, 10), status=Status.APPROVED)
    rejected = make_appointment(patient=patient, provider=provider, start_at=at(6, 10), status=Status.REJECTED)
    cancelled = make_appointment(patient=patient, provider=provider, start_at=at(7, 10), status=Status.CANCELLED)
    pending.reason = approved.reason = F["reason"]
    db.session.add_all([
        AppointmentEvent(appointment_id=rejected.id, actor_id=staff.id, kind="status", from_status="pending",
                         to_status="rejected", reason=F["rejected"]),
        AppointmentEvent(appointment_id=cancelled.id, actor_id=staff.id, kind="status", from_status="approved",
                         to_status="cancelled", reason=F["cancelled"]),
        AppointmentNote(appointment_id=approved.id, author_id=admin.id, body=F["private"]),
        AppointmentNote(appointment_id=approved.id, author_id=staff.id, body=F["shared"], visible_to_patient=True),
        TimeOff(provider_id=provider.id, start_at=at(10, 9), end_at=at(10, 12), reason=F["time_off"]),
    ])
    db.session.commit()
    ids = {"pending": pending.id, "approved": approved.id, "rejected": rejected.id, "cancelled": cancelled.id}
    return provider, staff, admin, patient, ids


def check_pages(client, pages) -> None:  # type: ignore[no-untyped-def]
    for url, headers, shown, hidden in pages:
        where = f"{url} {'(fragment)' if headers else '(page)'}"
        response = client.get(url, headers=headers)
        assert response.status_code == 200, where
        assert response.mimetype == "text/html", where
        body = response.get_data(as_text=True)
        if headers:
            assert "<html" not in body, f"{where}: a whole page where a fragment was asked for"
        assert_safe(body, where)
        assert_shows(body, where, *[F.get(key, key) for key in shown])
        assert_hides(body, where, *[F[key] for key in hidden])


def test_a_patients_pages_and_fragments_escape_everything(app, house):  # type: ignore[no-untyped-def]
    provider, _, _, patient, ids = house
    service = provider.services[0]
    client = login(app, patient.email)
    booking = f"/book/{provider.id}?service={service.id}"
    confirm = f"/book/{provider.id}/confirm?service={service.id}&start={wall(5, 11)}"
    everything_mine = ["patient", "phone", "address", "contact", "contact_phone", "medical"]
    check_pages(client, [
        ("/book/", {}, ["staff", "specialty", "service"], []),
        ("/book/", HTMX, ["staff", "specialty", "service"], []),
        (f"/book/?q={quote(F['q'])}", {}, ["q"], []),
        (f"/book/?q={quote(F['q'])}", HTMX, [], []),
        (booking, {}, ["staff", "specialty", "service"], []),
        (booking, {**HTMX, "HX-Target": "calendar"}, [], []),
        (f"/book/{provider.id}/slots?service={service.id}&date={local_day(5)}", HTMX, [], []),
        (confirm, {}, ["staff", "specialty", "service"], []),
        (confirm, HTMX, ["staff", "specialty", "service"], []),
        ("/me/appointments", {}, ["staff", "service", "rejected", "cancelled"], []),
        (f"/me/appointments/{ids['pending']}", {}, ["staff", "service", "reason"], []),
        (f"/me/appointments/{ids['approved']}", {}, ["staff", "service", "reason", "shared"], ["private"]),
        (f"/me/appointments/{ids['rejected']}", {}, ["staff", "rejected"], []),
        (f"/me/appointments/{ids['approved']}/cancel", {}, ["staff", "service"], []),
        ("/account/", {}, [*everything_mine, PATIENT_EMAIL], []),
        ("/account/", HTMX, everything_mine, []),
    ])
    exported = client.get("/account/export")
    assert exported.mimetype == "application/json" and exported.headers["X-Content-Type-Options"] == "nosniff"
    data = json.loads(exported.get_data(as_text=True))
    assert data["account"]["full_name"] == F["patient"] and data["profile"]["medical_notes"] == F["medical"]
    assert {a["reason"] for a in data["appointments"]} >= {F["reason"]}
    assert [n["text"] for a in data["appointments"] for n in a["shared_notes"]] == [F["shared"]]


def test_staff_pages_and_fragments_escape_everything(app, house):  # type: ignore[no-untyped-def]
    _, staff, _, patient, _ = house
    client = login(app, staff.email)
    record = ["patient", PATIENT_EMAIL, "phone", "address", "contact", "contact_phone", "medical", "staff", "service",
              "rejected", "cancelled"]
    check_pages(client, [
        ("/staff/requests", {}, ["patient", "service", "reason", "staff"], []),
        ("/staff/requests", {**HTMX, "HX-Target": "request-rows"}, ["patient", "service", "reason"], []),
        (f"/staff/schedule?date={local_day(3)}", {}, ["patient", "service", "reason"], []),
        (f"/staff/schedule?view=week&date={local_day(3)}", {}, ["patient", "service"], []),
        ("/staff/time-off", {}, ["time_off"], []),
        ("/staff/hours", {}, [], []),
        (f"/staff/patients/{patient.id}", {}, record, []),
        ("/account/", {}, ["staff"], []),
    ])


def test_admin_pages_and_fragments_escape_everything(app, house):  # type: ignore[no-untyped-def]
    provider, staff, admin, patient, ids = house
    with write_transaction():  # queued e-mails, whose subjects the outbox page lists
        notify.requested(db.session.get(Appointment, ids["pending"]))
    client = login(app, admin.email)
    q = quote(F["q"])
    check_pages(client, [
        ("/admin/", {}, [], []),
        ("/admin/appointments", {}, ["patient", "staff", "service", "specialty"], []),
        ("/admin/appointments", {**HTMX, "HX-Target": "appointment-table"}, ["patient", "staff", "service"], []),
        (f"/admin/appointments?q={q}", {}, ["q"], []),
        (f"/admin/appointments?q={q}", {**HTMX, "HX-Target": "appointment-table"}, [], []),
        (f"/admin/appointments/{ids['approved']}", {},
         ["patient", PATIENT_EMAIL, "phone", "reason", "private", "shared", "admin", "staff"], []),
        (f"/admin/appointments/{ids['rejected']}", HTMX, ["patient", "rejected", "staff"], []),
        (f"/admin/appointments/{ids['cancelled']}", HTMX, ["cancelled", "staff"], []),
        ("/admin/users", {}, ["patient", "staff", "admin", PATIENT_EMAIL], []),
        (f"/admin/users?q={q}", {}, ["q"], []),
        ("/admin/users?q=pn", {**HTMX, "HX-Target": "user-table"}, ["patient", PATIENT_EMAIL], []),
        ("/admin/providers", {}, ["staff", "specialty", "service"], []),
        (f"/admin/providers/{provider.id}", {}, ["staff", "specialty", "service", "bio", "license"], []),
        ("/admin/services", {}, ["service"], []),
        (f"/admin/services/{provider.services[0].id}", HTMX, ["service", "description"], []),
        (f"/admin/services/{provider.services[0].id}?view=1", HTMX, ["service"], []),
        ("/admin/specialties", {}, ["specialty"], []),
        ("/admin/outbox", {}, ["New request from " + " ".join(F["patient"].splitlines())], []),  # a one-line subject
        (f"/staff/time-off?provider={provider.id}", {}, ["time_off"], []),
        (f"/staff/patients/{patient.id}", {}, ["patient", "medical"], []),
    ])


def test_answers_to_changes_escape_what_was_sent_and_toasts_carry_it_as_json(app, house):  # type: ignore[no-untyped-def]
    provider, _, admin, patient, ids = house
    service = provider.services[0]
    admin_client = login(app, admin.email)

    note = hostile("nn", 2000) + "\r\nsecond line"
    added = admin_client.post(f"/admin/appointments/{ids['approved']}/notes", data={"body": note}, headers=HTMX)
    body = added.get_data(as_text=True)
    assert added.status_code == 200
    assert_safe(body, "note added")
    assert_shows(body, "note added", note.strip())
    assert toasts(added) == [{"level": "success", "text": "Note added."},
                             {"level": "success", "text": f"Welcome, {F['admin']}."}]  # the login's, kept till now

    renamed = hostile("rn")
    saved = admin_client.post(f"/admin/services/{service.id}", headers=HTMX, data={
        "name": renamed, "duration_min": "30", "price": "50", "description": F["description"], "active": "yes"})
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert_safe(body, "service saved")
    renamed = " ".join(renamed.split())  # a name is kept on one line
    assert_shows(body, "service saved", renamed)
    assert toasts(saved) == [{"level": "success", "text": f"Saved {renamed}."}]

    refused = admin_client.post(f"/admin/services/{service.id}", headers=HTMX, data={
        "name": F["service"], "duration_min": "30", "price": F["q"], "description": F["description"]})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert_safe(body, "service refused")
    assert_shows(body, "service refused", F["service"], F["q"], F["description"])

    switched = admin_client.post(f"/admin/users/{patient.id}/deactivate", headers=HTMX)
    assert switched.status_code == 200
    assert_safe(switched.get_data(as_text=True), "user switched off")
    assert_shows(switched.get_data(as_text=True), "user switched off", F["patient"])
    assert toasts(switched) == [{"level": "success", "text": f"{F['patient']} is now switched off."}]
    admin_client.post(f"/admin/users/{patient.id}/activate")

    patient_client = login(app, patient.email)
    elsewhere = make_service(name=hostile("os"))
    missing = patient_client.get(f"/book/{provider.id}?service={elsewhere.id}", headers=HTMX)
    assert missing.status_code == 404
    assert_safe(missing.get_data(as_text=True), "service not offered")
    assert_shows(missing.get_data(as_text=True), "service not offered", F["staff"])
    assert toasts(missing) == [{"level": "error", "text": f"{F['staff']} does not offer that service."},
                               {"level": "success", "text": f"Welcome, {F['patient']}."}]

    too_long = F["reason"] + "x" * 500
    invalid = patient_client.post(f"/book/{provider.id}", headers=HTMX,
                                  data=booking_form(provider, wall(5, 11), too_long))
    body = invalid.get_data(as_text=True)
    assert invalid.status_code == 422
    assert_safe(body, "booking refused")
    assert_shows(body, "booking refused", too_long, renamed, F["staff"])

    details = {"full_name": hostile("pf"), "address": hostile("pa", 500), "emergency_contact_name": hostile("pe"),
               "medical_notes": hostile("pm", 2000), "phone": "", "emergency_contact_phone": ""}
    kept = patient_client.post("/account/", data=details, headers=HTMX)
    body = kept.get_data(as_text=True)
    assert kept.status_code == 200
    assert_safe(body, "profile saved")
    shown = {**details, "full_name": " ".join(details["full_name"].split())}  # a name is kept on one line
    assert_shows(body, "profile saved", *[v for v in shown.values() if v])
    assert toasts(kept) == [{"level": "success", "text": "Your details are saved."}]
    db.session.rollback()
    assert patient.full_name == shown["full_name"] and patient.profile.medical_notes == details["medical_notes"]

    staff_client = login(app, provider.user.email)
    off = {"start": wall(4, 9), "end": wall(4, 12), "reason": hostile("tr", 200)}
    clashing = staff_client.post("/staff/time-off", data=off, headers=HTMX)
    body = clashing.get_data(as_text=True)
    assert clashing.status_code == 409  # over the approved appointment: its patient is listed, the reason kept
    assert_safe(body, "time off clashing")
    assert_shows(body, "time off clashing", shown["full_name"], renamed, off["reason"])
    added = staff_client.post("/staff/time-off", data={**off, "start": wall(12, 9), "end": wall(12, 12)}, headers=HTMX)
    assert added.status_code == 200
    assert_safe(added.get_data(as_text=True), "time off added")
    assert_shows(added.get_data(as_text=True), "time off added", off["reason"])
    assert {"level": "success", "text": "Time off added."} in toasts(added)

    visitor = app.test_client()
    refused = visitor.post("/auth/register", data={
        "full_name": F["patient"], "email": BREAKOUT, "phone": SQUOTE, "password": "x", "password_confirm": "y"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert_safe(body, "registration refused")
    assert_shows(body, "registration refused", F["patient"], BREAKOUT, SQUOTE)
    failed = visitor.post("/auth/login", data={"email": SQUOTE + BREAKOUT, "password": "wrong password"})
    assert_safe(failed.get_data(as_text=True), "login refused")
    assert_shows(failed.get_data(as_text=True), "login refused", SQUOTE + BREAKOUT)


# --- the admin's CSV --------------------------------------------------------------------------------

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1", "=1+1\n=2+2",
            'Plain, "quoted" name\nwith a line break', UNICODE + "=1"]


def spreadsheet_safe(text: str) -> str:
    """The export's rule: a cell starting with = + - @ tab or CR gets a leading apostrophe."""
    return "'" + text if text.startswith(TRIGGERS) else text


def test_the_csv_neutralises_formulas_in_every_cell_and_keeps_the_text(app):  # type: ignore[no-untyped-def]
    provider = make_provider(user=make_user(Role.STAFF, full_name="@SUM(1+1)*cmd|' /C calc'!A0"),
                             services=[make_service(name="=2+5+cmd|' /C calc'!A0")])
    emails = ["=1+1@example.test", "+1+1@example.test", "-2+3@example.test"]
    phones = ["+44 20 7946 0958", "-555-0100", "=1+1"]
    expected = {}
    for n, text in enumerate(FORMULAS):
        patient = make_user(Role.PATIENT, email=emails[n] if n < len(emails) else None, full_name=text)
        patient.phone = phones[n % len(phones)]
        appointment = make_appointment(patient=patient, provider=provider, start_at=at(3 + n, 10))
        appointment.reason = text
        db.session.commit()
        expected[str(appointment.id)] = {
            "patient": text, "patient e-mail": patient.email, "patient phone": patient.phone,
            "provider": provider.name, "service": provider.services[0].name, "reason": text,
        }
    client = login(app, make_user(Role.ADMIN).email)

    response = client.get("/admin/appointments.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    [header, *rows] = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        assert not [cell for cell in row if cell.startswith(TRIGGERS)], f"a formula survives in {row}"
        record = dict(zip(header, row, strict=True))
        for column, text in expected[record["id"]].items():
            assert record[column] == spreadsheet_safe(text), (column, text)

    filtered = client.get(f"/admin/appointments.csv?q={quote('+1+1')}")
    [_, *rows] = list(csv.reader(io.StringIO(filtered.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert [row[5] for row in rows] == ["'+1+1"]


# --- e-mails and their calendar files -----------------------------------------------------------------

INJECTION = "\r\nBcc: evil@example.com\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT"
MAIL = {
    "patient": "pm" + SCRIPT + SQUOTE + INJECTION,
    "staff": "sm" + BREAKOUT + TEMPLATE + SQUOTE + "\r\nEND:VCALENDAR\r\nBEGIN:VEVENT, a;b\\c " + UNICODE,
    "service": "sv" + SCRIPT + "\r\nSubject: pwned\r\nX-Evil: 1; x,y\\z",
    "reason": hostile("rs", 400) + INJECTION,
    "shared": hostile("ns", 400) + INJECTION,
    "staff_cancel": hostile("cx", 400) + INJECTION,
    "patient_cancel": hostile("pc", 400) + INJECTION,
    "rejected": hostile("rj", 400) + INJECTION,
}
ALLOWED_HEADERS = {"content-type", "mime-version", "subject", "from", "to", "date", "message-id"}


def subject_of(message: Message) -> str:
    """The Subject as a mail program shows it: decoded, its folding undone."""
    raw = re.sub(r"\r?\n[ \t]", " ", message["Subject"])
    return str(make_header(decode_header(raw))).strip()


def calendar_of(message: Message) -> Calendar | None:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(parts[0].get_payload(decode=True)) if parts else None


def test_emails_escape_html_keep_text_plain_and_take_no_header_or_calendar_injection(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    provider.user.full_name = MAIL["staff"]
    provider.services[0].name = MAIL["service"]
    db.session.commit()
    patient = make_user(Role.PATIENT, email="pat@example.com", full_name=MAIL["patient"])
    admin = make_user(Role.ADMIN)
    patient_client, staff_client, admin_client = (login(app, u.email) for u in (patient, provider.user, admin))

    for day in (3, 4, 5):
        booked = patient_client.post(f"/book/{provider.id}", data=booking_form(provider, wall(day, 10), MAIL["reason"]))
        assert booked.status_code == 303
    db.session.rollback()
    first, second, third = [a.id for a in db.session.query(Appointment).order_by(Appointment.start_at)]
    assert staff_client.post(f"/staff/appointments/{first}/approve").status_code == 303
    assert admin_client.post(f"/admin/appointments/{first}/notes",
                             data={"body": MAIL["shared"], "visible": "yes"}).status_code == 303
    assert staff_client.post(f"/staff/appointments/{first}/cancel",
                             data={"reason": MAIL["staff_cancel"]}).status_code == 303
    assert patient_client.post(f"/me/appointments/{second}/cancel",
                               data={"reason": MAIL["patient_cancel"]}).status_code == 303
    assert staff_client.post(f"/staff/appointments/{third}/reject",
                             data={"reason": MAIL["rejected"]}).status_code == 303

    to_patient, to_staff = box.to("pat@example.com"), box.to(provider.user.email)
    assert len(box.messages) == len(to_patient) + len(to_staff)  # nobody else, whatever the names say
    kinds = ("Request received", "Confirmed", "A note", "Cancelled by", "Cancelled", "Request declined", "New request")
    received: dict[tuple[str, str], list[Message]] = {}
    for who, messages in (("patient", to_patient), ("staff", to_staff)):
        for m in messages:
            received.setdefault((who, next(k for k in kinds if subject_of(m).startswith(k))), []).append(m)
    assert {key: len(messages) for key, messages in received.items()} == {
        ("patient", "Request received"): 3, ("patient", "Confirmed"): 1, ("patient", "A note"): 1,
        ("patient", "Cancelled"): 2, ("patient", "Request declined"): 1, ("staff", "New request"): 3,
        ("staff", "Cancelled by"): 1,
    }
    for message in box.messages:
        subject = subject_of(message)
        assert "\r" not in subject and "\n" not in subject
        assert {key.lower() for key in message.keys()} <= ALLOWED_HEADERS, message.keys()
        assert len(message.get_all("Subject")) == 1 and len(message.get_all("To")) == 1
        parts = bodies(message)
        text, html = parts["text/plain"], parts["text/html"]
        assert_safe(html, subject)
        assert not re.search(r"&(lt|gt|amp|#34|#39|quot);", text), f"{subject}: HTML escaping in the text body"
        calendar = calendar_of(message)
        if calendar is not None:
            [event] = calendar.walk("VEVENT")
            assert [c.name for c in calendar.subcomponents].count("VEVENT") == 1
            if "pat@example.com" in message["To"]:  # the patient's invitation names them, and only them
                attendee = event["ATTENDEE"]
                assert not isinstance(attendee, list) and str(attendee) == "mailto:pat@example.com"
                assert flat(str(attendee.params["CN"])) == flat(MAIL["patient"])
                assert flat(str(event["SUMMARY"])) == flat(f"{MAIL['service']} with {MAIL['staff']}")
            else:  # the staff's copy is information, addressed to no one
                assert "ATTENDEE" not in event and str(calendar["METHOD"]) == "PUBLISH"
                assert flat(str(event["SUMMARY"])) == flat(f"{MAIL['service']}: {MAIL['patient']}")
            assert not isinstance(event["ORGANIZER"], list) and "UID" in event and "DTSTART" in event

    def both(who: str, kind: str, *texts: str) -> None:
        """One of these e-mails has every text as typed in its text body and escaped in its HTML body."""
        for message in received[(who, kind)]:
            text, html = flat(bodies(message)["text/plain"]), flat(bodies(message)["text/html"])
            if all(flat(field) in text and flat(str(escape(field))) in html for field in texts):
                return
        pytest.fail(f"no {kind!r} e-mail to the {who} has all of {[t[:12] for t in texts]} as typed and escaped")

    both("patient", "Request received", MAIL["patient"], MAIL["service"], MAIL["staff"])
    both("staff", "New request", MAIL["staff"], MAIL["patient"], MAIL["reason"].strip())
    both("patient", "A note", MAIL["shared"].strip())
    both("patient", "Confirmed", MAIL["service"], MAIL["staff"])
    both("patient", "Cancelled", MAIL["staff"], MAIL["staff_cancel"].strip())
    both("patient", "Cancelled", MAIL["patient_cancel"].strip())
    both("staff", "Cancelled by", MAIL["patient"], MAIL["patient_cancel"].strip())
    both("patient", "Request declined", MAIL["rejected"].strip())
    assert SCRIPT in subject_of(received[("staff", "New request")][0])  # the name as typed, on one line
    assert "Subject: pwned" in subject_of(received[("patient", "Request declined")][0])


def test_account_emails_escape_the_name(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    typed = hostile("rg", 90) + "\r\nBcc: evil@example.com"
    name = " ".join(typed.split())  # a name is kept on one line
    registered = app.test_client().post("/auth/register", data={
        "full_name": typed, "email": "new@example.com", "password": "a long enough password",
        "password_confirm": "a long enough password"})
    assert registered.status_code == 303
    [message] = box.messages
    assert {key.lower() for key in message.keys()} <= ALLOWED_HEADERS
    text, html = bodies(message)["text/plain"], bodies(message)["text/html"]
    assert flat(f"Hello {name},") in flat(text)
    assert flat(f"Hello {escape(name)},") in flat(html)
    assert_safe(html, "verification e-mail")


# --- the private calendar feed ----------------------------------------------------------------------

FEED = {
    "patient": "fp X\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:pwned",
    "staff": "fs, a;b\\c\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\rX-EVIL:1 " + UNICODE,
    "service": "fv\\n;,\r\nDTSTART:20000101T000000Z\r\nATTENDEE;CN=evil:mailto:evil@example.com",
}


def text_value(raw: object) -> str:
    """An RFC 5545 TEXT value the parser left escaped (NAME and X-WR-CALNAME are not typed for it)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(raw))


def test_the_calendar_feed_keeps_names_inside_their_own_properties(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.user.full_name = FEED["staff"]
    provider.services[0].name = FEED["service"]
    db.session.commit()
    patient = make_user(Role.PATIENT, full_name=FEED["patient"])
    make_appointment(patient=patient, provider=provider, start_at=at(3, 10))
    make_appointment(patient=patient, provider=provider, start_at=at(4, 10), status=Status.APPROVED)
    clinic = app.config["CLINIC_NAME"]

    for_patient, for_staff = f"{FEED['service']} with {FEED['staff']}", f"{FEED['service']}: {FEED['patient']}"
    for owner, title, summaries in [
        (patient, f"{clinic}: {FEED['patient']}", [f"{for_patient} (awaiting confirmation)", for_patient]),
        (provider.user, f"{clinic}: {FEED['staff']}", [f"{for_staff} (awaiting confirmation)", for_staff]),
    ]:
        response = app.test_client().get(f"/calendar/{owner.calendar_token}.ics")
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        raw = response.get_data(as_text=True)
        assert not re.search(r"^(ATTENDEE|X-EVIL|SUMMARY:pwned)", raw, re.MULTILINE)
        calendar = Calendar.from_ical(response.get_data())
        assert [c.name for c in calendar.subcomponents if c.name != "VTIMEZONE"] == ["VEVENT", "VEVENT"]
        assert flat(text_value(calendar["NAME"])) == flat(title)
        assert flat(text_value(calendar["X-WR-CALNAME"])) == flat(title)
        events = calendar.walk("VEVENT")
        assert [flat(str(e["SUMMARY"])) for e in events] == [flat(s) for s in summaries]
        for event in events:
            assert "ATTENDEE" not in event and not isinstance(event["DTSTART"], list)
            assert event.decoded("DTSTART") > datetime.now(ZoneInfo(ZONE)) + timedelta(days=2)
