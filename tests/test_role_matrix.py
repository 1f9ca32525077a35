"""Every route x every kind of visitor -> the status it must answer.

The table is checked against app.url_map both ways: a new route without a decision here fails, and so
does a decision for a route that no longer exists.
"""
from __future__ import annotations

import pytest

from booking.domain.roles import Role
from booking.domain.status import Status
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.extensions import db
from booking.services import photos
from booking.models import IntakeQuestion, OutboxMessage, TimeOff
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.images import picture

ANON, PATIENT, STAFF, ADMIN = "anonymous", "patient", "staff", "admin"
VISITORS = (ANON, PATIENT, STAFF, ADMIN)
LOGIN = 302  # a visitor is sent to the login page
HOME = 303  # a logged-in user is sent to their home


def statuses(anonymous: int, patient: int, staff: int, admin: int) -> dict[str, int]:
    return {ANON: anonymous, PATIENT: patient, STAFF: staff, ADMIN: admin}


PUBLIC = statuses(200, 200, 200, 200)
PATIENTS_ONLY = statuses(LOGIN, 200, 403, 403)
STAFF_AND_ADMINS = statuses(LOGIN, 403, 200, 200)
ADMINS_ONLY = statuses(LOGIN, 403, 403, 200)

#: (endpoint, method) -> expected status per visitor. POSTs carry an empty form.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("static", "GET"): PUBLIC,
    ("health.healthz", "GET"): PUBLIC,
    ("home.index", "GET"): PUBLIC,
    ("seo.robots", "GET"): PUBLIC,
    ("seo.sitemap", "GET"): PUBLIC,
    ("auth.login", "GET"): statuses(200, HOME, HOME, HOME),
    ("auth.login", "POST"): statuses(422, HOME, HOME, HOME),
    ("auth.register", "GET"): statuses(200, HOME, HOME, HOME),
    ("auth.register", "POST"): statuses(422, HOME, HOME, HOME),
    ("auth.check_email", "GET"): PUBLIC,
    ("auth.logout", "POST"): statuses(LOGIN, 303, 303, 303),
    ("auth.verify", "GET"): statuses(400, 400, 400, 400),  # the sample token is not a signed one
    ("auth.resend_verification", "POST"): statuses(LOGIN, 303, 303, 303),
    ("auth.forgot_password", "GET"): PUBLIC,
    ("auth.forgot_password", "POST"): statuses(422, 422, 422, 422),  # no address given
    ("auth.reset_password", "GET"): statuses(400, 400, 400, 400),  # the sample token is not a signed one
    ("auth.reset_password", "POST"): statuses(400, 400, 400, 400),
    ("account.calendar_feed", "GET"): statuses(404, 404, 404, 404),  # no feed has the sample token
    ("account.profile_page", "GET"): statuses(LOGIN, 200, 200, 200),
    ("account.profile_page", "POST"): statuses(LOGIN, 303, 303, 303),  # an empty post keeps what is saved
    ("account.email_preferences", "POST"): statuses(LOGIN, 303, 303, 303),  # all unticked
    ("account.renew_calendar", "POST"): statuses(LOGIN, 303, 303, 303),
    ("account.change_password", "GET"): statuses(LOGIN, 200, 200, 200),
    ("account.change_password", "POST"): statuses(LOGIN, 422, 422, 422),
    ("account.export", "GET"): statuses(LOGIN, 200, 200, 200),
    ("account.delete", "GET"): PATIENTS_ONLY,  # staff accounts are closed by an admin
    ("account.delete", "POST"): statuses(LOGIN, 422, 403, 403),  # no password given
    ("patient.providers", "GET"): PUBLIC,  # free times only: anyone looks before registering
    ("patient.appointments", "GET"): PATIENTS_ONLY,
    ("patient.appointment", "GET"): PATIENTS_ONLY,  # the patient's own; another's is tested below
    ("patient.appointment_calendar", "GET"): PATIENTS_ONLY,  # its .ics, the patient's own
    ("patient.calendar_page", "GET"): PUBLIC,
    ("patient.slots", "GET"): PUBLIC,
    # The sample start is beyond the horizon; a visitor is asked for an account on this step, staff never book.
    ("patient.confirm", "GET"): statuses(422, 422, 403, 403),
    ("patient.book", "POST"): statuses(LOGIN, 422, 403, 403),  # an empty form
    ("patient.cancel", "GET"): PATIENTS_ONLY,
    ("patient.cancel", "POST"): statuses(LOGIN, 303, 403, 403),  # no reason needed: it cancels
    ("patient.reschedule", "GET"): statuses(LOGIN, 303, 403, 403),  # on to the calendar
    ("patient.reschedule", "POST"): statuses(LOGIN, 422, 403, 403),  # no new time given
    ("staff.requests", "GET"): STAFF_AND_ADMINS,
    ("staff.schedule", "GET"): STAFF_AND_ADMINS,
    ("staff.patient_record", "GET"): STAFF_AND_ADMINS,  # the sample patient booked the staff member's provider
    # Decisions on the sample (pending, in three days, of the staff member's provider), in this order:
    ("staff.approve", "POST"): statuses(LOGIN, 403, 303, 409),  # the admin finds it approved already
    ("staff.reject", "POST"): statuses(LOGIN, 403, 422, 422),  # no reason given
    ("staff.complete", "POST"): statuses(LOGIN, 403, 409, 409),  # it has not started
    ("staff.no_show", "POST"): statuses(LOGIN, 403, 409, 409),
    ("staff.cancel", "POST"): statuses(LOGIN, 403, 422, 422),  # no reason given
    # Schedule editing: staff edit their provider; an admin names one with ?provider= (not given here).
    ("staff.hours", "GET"): STAFF_AND_ADMINS,  # the admin gets the provider chooser
    ("staff.hours", "POST"): statuses(LOGIN, 403, 422, 404),
    ("staff.change_hours", "POST"): statuses(LOGIN, 403, 422, 404),
    ("staff.remove_hours", "POST"): statuses(LOGIN, 403, 303, 404),
    ("staff.time_off", "GET"): STAFF_AND_ADMINS,
    ("staff.time_off", "POST"): statuses(LOGIN, 403, 422, 404),
    ("staff.remove_time_off", "POST"): statuses(LOGIN, 403, 303, 404),
    # The staff member's own profile; admins keep profiles in the provider editor (an empty form: no file).
    ("staff.profile", "GET"): statuses(LOGIN, 403, 200, HOME),
    ("staff.profile", "POST"): statuses(LOGIN, 403, 303, HOME),  # an empty bio and no languages
    ("staff.profile_photo", "POST"): statuses(LOGIN, 403, 422, 403),
    ("staff.remove_profile_photo", "POST"): statuses(LOGIN, 403, 303, 403),
    ("profiles.photo", "GET"): PUBLIC,  # the provider's photo, at its hashed address
    ("admin.provider_photo", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.remove_provider_photo", "POST"): statuses(LOGIN, 403, 403, 303),
    ("admin.appointments", "GET"): ADMINS_ONLY,
    ("admin.dashboard", "GET"): ADMINS_ONLY,
    ("admin.appointments_csv", "GET"): ADMINS_ONLY,
    ("admin.appointment", "GET"): ADMINS_ONLY,
    ("admin.add_note", "POST"): statuses(LOGIN, 403, 403, 422),  # an empty note
    ("admin.providers", "GET"): ADMINS_ONLY,
    ("admin.outbox_view", "GET"): ADMINS_ONLY,
    ("admin.outbox_retry", "POST"): statuses(LOGIN, 403, 403, 409),  # the sample message was sent
    ("admin.new_provider", "GET"): ADMINS_ONLY,
    ("admin.new_provider", "POST"): statuses(LOGIN, 403, 403, 422),  # an empty form
    ("admin.edit_provider", "GET"): ADMINS_ONLY,
    ("admin.edit_provider", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.users", "POST"): statuses(LOGIN, 403, 403, 422),  # no role, no details
    ("admin.deactivate", "POST"): statuses(LOGIN, 403, 403, 303),  # another staff member's account
    ("admin.activate", "POST"): statuses(LOGIN, 403, 403, 303),
    ("admin.services", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.service", "GET"): ADMINS_ONLY,
    ("admin.service", "POST"): statuses(LOGIN, 403, 403, 422),
    # The service editor's intake questions (an empty form: no question, no kind, no direction).
    ("admin.add_question", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.edit_question", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.move_question", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.delete_question", "POST"): statuses(LOGIN, 403, 403, 303),
    ("admin.specialties", "GET"): ADMINS_ONLY,
    ("admin.specialties", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.rename_specialty", "POST"): statuses(LOGIN, 403, 403, 422),
    ("admin.services", "GET"): ADMINS_ONLY,
    ("admin.users", "GET"): ADMINS_ONLY,
}


def routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def people(app):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    staff = make_user(Role.STAFF)
    admin = make_user(Role.ADMIN)
    provider = everyday_provider()
    provider.user_id = staff.id  # the staff member works as this provider
    db.session.commit()
    start = datetime.fromisoformat(wall(3, 10)).replace(tzinfo=ZoneInfo(ZONE))  # inside working hours
    appointment = make_appointment(patient=patient, provider=provider, start_at=start, status=Status.PENDING)
    off = TimeOff(provider_id=provider.id, start_at=start + timedelta(days=20), end_at=start + timedelta(days=21))
    db.session.add(off)
    db.session.commit()
    question = IntakeQuestion(service_id=appointment.service_id, kind="short_text", prompt="Which medicines?")
    db.session.add(question)
    db.session.commit()
    photo_hash = photos.set_photo(admin.id, provider.id, photos.Upload(picture((60, 60)))).sha256
    return {PATIENT: patient, STAFF: staff, ADMIN: admin, "photo_hash": photo_hash, "appointment": appointment, "question_id": question.id,
            "block_id": provider.working_hours[0].id, "time_off_id": off.id,
            "bystander_id": make_user(Role.STAFF).id, "specialty_id": provider.specialty_id,
            "message_id": _sent_message()}


def _sent_message() -> int:
    message = OutboxMessage(recipient="x@example.com", subject="Hi", text_body="Hi", status="sent")
    db.session.add(message)
    db.session.commit()
    return message.id


def url_for_rule(rule, people) -> str:  # type: ignore[no-untyped-def]
    samples = {"appointment_id": people["appointment"].id, "filename": "css/app.css",
               "provider_id": people["appointment"].provider_id, "block_id": people["block_id"],
               "time_off_id": people["time_off_id"], "patient_id": people[PATIENT].id,
               "user_id": people["bystander_id"], "service_id": people["appointment"].service_id,
               "specialty_id": people["specialty_id"], "message_id": people["message_id"], "digest": people["photo_hash"], "token": "not-a-token",
               "question_id": people["question_id"]}
    missing = set(rule.arguments) - set(samples)
    assert not missing, f"{rule.rule}: add sample values for {sorted(missing)} to the role matrix"
    url = rule.build({name: samples[name] for name in rule.arguments})[1]
    query = QUERIES.get(rule.endpoint)
    return f"{url}?{query}" if query else url


#: Query strings some pages need to do more than refuse.
QUERIES = {"patient.slots": "date=2030-01-07", "patient.confirm": "start=2030-01-07T09:00"}


LAST_WRITES = {"patient.cancel", "staff.remove_hours", "staff.remove_time_off", "admin.delete_question"}


def run_order(route) -> tuple[bool, bool, bool]:  # type: ignore[no-untyped-def]
    """Reads first, then writes; removals after the other writes, logging out last of all."""
    rule, method = route
    return rule.endpoint == "auth.logout", method == "POST", rule.endpoint in LAST_WRITES


def test_every_route_has_a_decision(app):  # type: ignore[no-untyped-def]
    present = {(rule.endpoint, method) for rule, method in routes(app)}
    assert present - MATRIX.keys() == set(), "routes with no access decision in the role matrix"
    assert MATRIX.keys() - present == set(), "decisions for routes that do not exist"


def test_role_matrix(app, people):  # type: ignore[no-untyped-def]
    clients = {}

    def client_for(visitor: str, fresh: bool):  # type: ignore[no-untyped-def]
        if fresh or visitor not in clients:
            client = app.test_client()
            if visitor != ANON:
                login = client.post("/auth/login", data={"email": people[visitor].email, "password": DEFAULT_PASSWORD})
                assert login.status_code == 303, f"{visitor} could not log in"
            if fresh:
                return client
            clients[visitor] = client
        return clients[visitor]

    failures = []
    for rule, method in sorted(routes(app), key=run_order):
        url = url_for_rule(rule, people)
        for visitor in VISITORS:
            client = client_for(visitor, fresh=rule.endpoint == "auth.logout")
            response = client.open(url, method=method, data={} if method == "POST" else None)
            expected = MATRIX[(rule.endpoint, method)][visitor]
            if response.status_code != expected:
                failures.append(f"{method} {url} as {visitor}: {response.status_code}, expected {expected}")
            elif expected == LOGIN and "/auth/login" not in response.headers.get("Location", ""):
                failures.append(f"{method} {url} as {visitor}: redirected elsewhere than the login page")
            response.close()
    assert not failures, "\n".join(failures)


def test_a_patient_cannot_see_another_patients_appointment(app, client, auth, people):  # type: ignore[no-untyped-def]
    other = make_user(Role.PATIENT)
    auth.login(other.email)
    response = client.get(f"/me/appointments/{people['appointment'].id}")
    assert response.status_code == 404
    assert people[PATIENT].full_name not in response.get_data(as_text=True)


def test_the_owner_sees_their_appointment(app, client, auth, people):  # type: ignore[no-untyped-def]
    auth.login(people[PATIENT].email)
    response = client.get(f"/me/appointments/{people['appointment'].id}")
    assert response.status_code == 200
    assert f'data-appointment-id="{people["appointment"].id}"' in response.get_data(as_text=True)
