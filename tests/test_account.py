"""A person's own account: profile, e-mail choices, password change, their data as JSON, deletion."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentNote, PatientProfile, User, write_transaction
from booking.services import intake
from booking.services.reminders import queue_due_reminders
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.mailbox import bodies

NEW_PASSWORD = "a brand new passphrase"


def logged_in(app, user: User, **extra):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD, **extra}).status_code == 303
    return client


def subjects(box, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["Subject"].split(":")[0] for m in box.to(address)]


PROFILE = {"full_name": "Ada Lovelace", "phone": "+44 20 7946 0000", "date_of_birth": "1985-12-10",
           "address": "12 St James's Square\nLondon", "emergency_contact_name": "Mary Somerville",
           "emergency_contact_phone": "+44 20 7946 0001", "blood_group": "O-",
           "medical_notes": "Allergic to penicillin", "timezone": "America/New_York"}


def test_a_patient_keeps_their_details(app):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    client = logged_in(app, patient)
    page = client.get("/account/").get_data(as_text=True)
    assert patient.email in page and 'name="medical_notes"' in page and "/calendar/" in page
    assert client.post("/account/", data=PROFILE).status_code == 303
    db.session.rollback()
    saved = db.session.get(User, patient.id)
    assert (saved.full_name, saved.phone) == ("Ada Lovelace", "+44 20 7946 0000")
    profile = saved.profile
    assert profile.date_of_birth == date(1985, 12, 10) and profile.address == "12 St James's Square\nLondon"
    assert (profile.emergency_contact_name, profile.blood_group, profile.timezone) == ("Mary Somerville", "O-", "America/New_York")
    assert profile.medical_notes == "Allergic to penicillin"


def test_the_details_form_answers_htmx_with_itself_and_a_toast(app):  # type: ignore[no-untyped-def]
    client = logged_in(app, make_user(Role.PATIENT))
    response = client.post("/account/", data=PROFILE, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True).startswith('\n<form id="profile-form"')
    assert "Your details are saved." in response.headers["HX-Trigger"]
    assert 'value="Ada Lovelace"' in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("date_of_birth", (date.today() + timedelta(days=2)).isoformat(), "Enter a date of birth in the past."),
    ("date_of_birth", "10/12/1985", "Not a valid date value."),
    ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
    ("blood_group", "Z+", "Not a valid choice."),
    ("medical_notes", "x" * 2001, "Field cannot be longer than 2000 characters."),
    ("full_name", "   ", "This field is required."),
    ("phone", "call me maybe", "Enter a phone number"),
])
def test_bad_details_are_refused_and_nothing_changes(app, field, value, message):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT, full_name="Kept Name")
    client = logged_in(app, patient)
    response = client.post("/account/", data={**PROFILE, field: value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.rollback()
    saved = db.session.get(User, patient.id)
    assert saved.full_name == "Kept Name" and saved.profile.medical_notes is None


def test_staff_keep_a_name_and_phone_and_get_no_patient_profile(app):  # type: ignore[no-untyped-def]
    staff = make_user(Role.STAFF)
    client = logged_in(app, staff)
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="medical_notes"' not in page and "Delete your account" not in page
    assert client.post("/account/", data=PROFILE).status_code == 303
    db.session.rollback()
    assert db.session.get(User, staff.id).full_name == "Ada Lovelace"
    assert db.session.get(PatientProfile, staff.id) is None
    assert client.get("/account/delete").status_code == 403


def test_optional_emails_can_be_turned_off_and_essential_ones_still_come(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    patient = make_user(Role.PATIENT, email="quiet@example.com")
    patient_client, staff_client = logged_in(app, patient), logged_in(app, provider.user)
    assert patient_client.post("/account/email", data={"email_notes": "y"}).status_code == 303
    assert staff_client.post("/account/email", data={}).status_code == 303  # no news of new requests
    db.session.rollback()
    quiet = db.session.get(User, patient.id)
    assert (quiet.email_receipts, quiet.email_reminders, quiet.email_notes) == (False, False, True)
    assert quiet.email_clinic_updates  # a staff choice, untouched by the patient's form

    assert patient_client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
    db.session.rollback()
    [appointment] = db.session.scalars(sa.select(Appointment)).all()
    assert staff_client.post(f"/staff/appointments/{appointment.id}/approve").status_code == 303
    assert subjects(box, "quiet@example.com") == ["Confirmed"]  # no receipt; the decision always comes
    assert box.to(provider.user.email) == []

    soon = datetime.now(timezone.utc) + timedelta(hours=3)
    with write_transaction():  # due for its reminder now
        db.session.execute(sa.update(Appointment).values(start_at=soon, end_at=soon + timedelta(minutes=30)))
    assert queue_due_reminders() == 1  # marked as done, but not sent to someone who said no
    app.test_cli_runner().invoke(args=["deliver-mail"])
    assert subjects(box, "quiet@example.com") == ["Confirmed"]


def test_the_email_form_shows_each_role_its_own_choices(app):  # type: ignore[no-untyped-def]
    patient_page = logged_in(app, make_user(Role.PATIENT)).get("/account/").get_data(as_text=True)
    staff_page = logged_in(app, make_user(Role.STAFF)).get("/account/").get_data(as_text=True)
    assert 'name="email_reminders"' in patient_page and 'name="email_clinic_updates"' not in patient_page
    assert 'name="email_clinic_updates"' in staff_page and 'name="email_reminders"' not in staff_page


def test_changing_the_password_asks_for_the_current_one_and_logs_out_other_devices(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    here, elsewhere = logged_in(app, user), logged_in(app, user, remember="y")
    form = {"current_password": "not my password", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    wrong = here.post("/account/password", data=form)
    assert wrong.status_code == 422 and "Your current password is not right." in wrong.get_data(as_text=True)
    weak = here.post("/account/password", data={**form, "current_password": DEFAULT_PASSWORD,
                                                 "password": "qwertyuiop", "password_confirm": "qwertyuiop"})
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert box.to("me@example.com") == []

    changed = here.post("/account/password", data={**form, "current_password": DEFAULT_PASSWORD})
    assert changed.status_code == 303 and changed.headers["Location"] == "/account/"
    assert here.get("/account/").status_code == 200  # this session goes on
    assert elsewhere.get("/account/").status_code == 302  # the other, remembered or not, is over
    [notice] = box.to("me@example.com")
    assert notice["Subject"] == "Your password was changed" and "/auth/reset" in bodies(notice)["text/plain"]
    login = app.test_client().post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 303


def test_a_patient_downloads_their_data_as_json(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    patient = make_user(Role.PATIENT)
    client = logged_in(app, patient)
    client.post("/account/", data=PROFILE)
    mine = make_appointment(patient=patient, provider=provider, status=Status.APPROVED)
    mine.reason = "Sore knee"
    db.session.add_all([AppointmentNote(appointment_id=mine.id, body="Bring your scans", visible_to_patient=True),
                        AppointmentNote(appointment_id=mine.id, body="Private remark")])
    db.session.commit()
    theirs = make_appointment(provider=provider)

    response = client.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == patient.email and data["account"]["full_name"] == "Ada Lovelace"
    assert data["profile"]["medical_notes"] == "Allergic to penicillin" and data["profile"]["date_of_birth"] == "1985-12-10"
    [exported] = data["appointments"]
    assert exported["id"] == mine.id != theirs.id and exported["reason"] == "Sore knee"
    assert exported["status"] == "approved" and exported["timezone"] == provider.timezone
    assert datetime.fromisoformat(exported["start"]) == mine.start_at
    assert [n["text"] for n in exported["shared_notes"]] == ["Bring your scans"]
    assert data["email_preferences"]["email_reminders"] is True


MARKERS = ["Zebediah", "Quux", "7700 900123", "1980-02-03", "Marigold", "quuxicillin", "Scabbard"]


def test_deleting_the_account_leaves_no_personal_data_in_any_table(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    other_provider = everyday_provider()
    admin = make_user(Role.ADMIN)
    patient = make_user(Role.PATIENT, email="zebediah.quux@example.com", full_name="Zebediah Quux")
    client = logged_in(app, patient)
    client.post("/account/", data={"full_name": "Zebediah Quux", "phone": "+44 7700 900123",
                                   "date_of_birth": "1980-02-03", "address": "7 Quuxley Lane",
                                   "emergency_contact_name": "Marigold Quux", "emergency_contact_phone": "+44 7700 900999",
                                   "blood_group": "AB-", "medical_notes": "Allergic to quuxicillin"})
    # A request with a reason and an intake answer (mail to both sides), one approved later, one in the
    # past with notes.
    question = intake.add_question(admin.id, provider.services[0].id, intake.QuestionFields("Allergies?", "short_text"))
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10), "Quux knee", **{
        question.field_name: "Quuxberry pollen"})).status_code == 303
    assert client.post(f"/book/{other_provider.id}", data=booking_form(other_provider, wall(4, 10), "Scabbard itch")).status_code == 303
    past = make_appointment(patient=patient, provider=provider, status=Status.COMPLETED,
                            start_at=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=30))
    past.reason = "Quux cough"
    db.session.add_all([AppointmentNote(appointment_id=past.id, author_id=admin.id, body="Zebediah seemed well"),
                        AppointmentNote(appointment_id=past.id, author_id=admin.id, body="Quux: rest", visible_to_patient=True)])
    db.session.commit()
    assert box.to(provider.user.email) and box.to("zebediah.quux@example.com")
    appointment_ids = set(db.session.scalars(sa.select(Appointment.id).where(Appointment.patient_id == patient.id)))
    staff_mail_before = len(box.to(provider.user.email))

    page = client.get("/account/delete").get_data(as_text=True)
    assert "Your 2 upcoming appointments will be cancelled" in page
    refused = client.post("/account/delete", data={"password": "wrong password!", "understood": "y"})
    assert refused.status_code == 422 and "Your password is not right." in refused.get_data(as_text=True)
    unticked = client.post("/account/delete", data={"password": DEFAULT_PASSWORD})
    assert unticked.status_code == 422 and "Tick the box" in unticked.get_data(as_text=True)
    done = client.post("/account/delete", data={"password": DEFAULT_PASSWORD, "understood": "y"})
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"

    db.session.rollback()
    leftovers = [(table.name, row) for table in db.metadata.sorted_tables
                 for row in db.session.execute(sa.select(table)).all()
                 if any(marker.lower() in str(value).lower() for value in row for marker in MARKERS)]
    assert leftovers == []

    # The clinic's history stays: the same appointments, times and outcomes, without the person.
    kept = db.session.scalars(sa.select(Appointment).where(Appointment.patient_id == patient.id)).all()
    assert {a.id for a in kept} == appointment_ids
    assert sorted(a.status for a in kept) == ["cancelled", "cancelled", "completed"]
    assert all(a.events for a in kept if a.status == "cancelled")
    gone = db.session.get(User, patient.id)
    assert gone.full_name == "Deleted account" and not gone.active and gone.deleted_at is not None
    assert gone.profile is None and gone.calendar_token is None

    # Each provider is told, without a name; the person can no longer log in or be switched back on.
    notices = box.to(provider.user.email)[staff_mail_before:]
    assert [m["Subject"].split(":")[0] for m in notices] == ["Cancelled"]
    assert "closed their account" in bodies(notices[0])["text/plain"]
    assert any("closed their account" in bodies(m)["text/plain"] for m in box.to(other_provider.user.email))
    assert client.get("/me/appointments").status_code == 302
    assert app.test_client().post("/auth/login", data={"email": "zebediah.quux@example.com",
                                                       "password": DEFAULT_PASSWORD}).status_code == 422
    assert logged_in(app, admin).post(f"/admin/users/{patient.id}/activate").status_code == 409


def test_a_deleted_address_can_register_again(app):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT, email="again@example.com")
    logged_in(app, patient).post("/account/delete", data={"password": DEFAULT_PASSWORD, "understood": "y"})
    response = app.test_client().post("/auth/register", data={
        "full_name": "Back Again", "email": "again@example.com", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303


def test_names_are_kept_on_one_line(app):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    client = logged_in(app, patient)
    assert client.post("/account/", data={**PROFILE, "full_name": "Ada\r\nReason: urgent\tLovelace "}).status_code == 303
    db.session.rollback()
    assert db.session.get(User, patient.id).full_name == "Ada Reason: urgent Lovelace"
