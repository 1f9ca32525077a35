"""Object-level access: every route that names an object by id or token, against everyone who must not reach it.

The role matrix (test_role_matrix.py) asks whether a kind of visitor may use a route at all; this asks
whether a visitor may use it on *this* object. The clinic has two sides, each with its own patient,
staff member and provider (with appointments in every state, working hours, time off, a private note,
a failed e-mail), and every object of one side is requested by everyone who does not own it: the other
side's patient and staff member, the roles the route is not for, and anonymous visitors, as a page and
as an htmx fragment. Each answer must refuse (403 or 404, or send the visitor to log in), show nothing of
the owner's (names, addresses, reasons, notes), and leave every table exactly as it was.

Every request carries what a real one would (a reason, a note, new hours, a new time), and the owner's
own request is shown to go through and change something, so a missing check could not pass unnoticed.
The table is checked against app.url_map both ways, like the role matrix.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import AppointmentNote, IntakeAnswer, IntakeQuestion, OutboxMessage, TimeOff, User, WorkingHours
from booking.services import photos
from booking.services.accounts import password_fingerprint
from booking.services.tokens import make_token
from tests.booking_helpers import ZONE, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.images import RewoundFile, picture

# Visitors, as seen from one side of the clinic.
ANON, OWN_PATIENT, OTHER_PATIENT, OWN_STAFF, OTHER_STAFF, ADMIN = (
    "anonymous", "own patient", "other patient", "own staff", "other staff", "admin")
VISITORS = (ANON, OWN_PATIENT, OTHER_PATIENT, OWN_STAFF, OTHER_STAFF, ADMIN)

THE_PATIENT = frozenset({OWN_PATIENT})
ANY_PATIENT = frozenset({OWN_PATIENT, OTHER_PATIENT})  # providers are open to every patient
THE_PROVIDERS_DESK = frozenset({OWN_STAFF, ADMIN})
ADMINS = frozenset({ADMIN})
ANYONE = frozenset(VISITORS)  # public objects, such as a provider's photo


@dataclass
class Side:
    """One half of the clinic: who is who from its point of view, its objects, and what only its people
    (and the clinic) may read."""

    name: str
    people: dict[str, str]  # visitor -> person key
    ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, list[str]] = field(default_factory=dict)  # owner (a person key, or "clinic") -> texts

    def secrets_kept_from(self, person: str) -> list[str]:
        return [text for owner, texts in self.secrets.items() if owner != person for text in texts]


Values = Callable[[Side], dict[str, Any]]


@dataclass(frozen=True)
class Access:
    """Who may act on one side's object through a route, and the request that would change it."""

    allowed: frozenset[str]
    args: dict[str, str]  # rule argument -> the side's object it names
    form: Values | None = None  # what a real POST sends
    query: Values | None = None
    owner_status: int = 200  # what the owner's own request answers


def cancel_reason(side: Side) -> dict[str, Any]:
    return {"reason": "Something came up at work"}


def provider_form(side: Side) -> dict[str, Any]:
    return {"user_id": side.ids["staff"], "specialty_id": side.ids["specialty"], "service_ids": side.ids["service"],
            "timezone": ZONE, "buffer_before_min": 0, "buffer_after_min": 0, "slot_step_min": "",
            "min_notice_min": 120, "horizon_days": 60, "bio": "Now also sees children.", "active": "yes"}


def photo_upload(side: Side) -> dict[str, Any]:
    return {"photo": (RewoundFile(picture((80, 80))), "face.jpg", "image/jpeg")}  # sent by every visitor


#: (endpoint, method) -> who may act on the side's object. Everyone else is refused.
ACCESS: dict[tuple[str, str], Access] = {
    # The patient's own appointments.
    ("patient.appointment", "GET"): Access(THE_PATIENT, {"appointment_id": "pending"}),
    ("patient.appointment_calendar", "GET"): Access(THE_PATIENT, {"appointment_id": "pending"}),
    ("patient.cancel", "GET"): Access(THE_PATIENT, {"appointment_id": "to_cancel"}),
    ("patient.cancel", "POST"): Access(THE_PATIENT, {"appointment_id": "to_cancel"}, form=cancel_reason,
                                       owner_status=303),
    ("patient.reschedule", "GET"): Access(THE_PATIENT, {"appointment_id": "to_move"}, owner_status=303),
    ("patient.reschedule", "POST"): Access(THE_PATIENT, {"appointment_id": "to_move"},
                                           form=lambda s: {"start": wall(5, 14)}, owner_status=303),
    # A provider's calendar is open to every patient; moving an appointment on it only to its patient.
    ("patient.calendar_page", "GET"): Access(THE_PATIENT, {"provider_id": "provider"},
                                             query=lambda s: {"reschedule": s.ids["to_move"]}),
    ("patient.slots", "GET"): Access(THE_PATIENT, {"provider_id": "provider"}, query=lambda s: {
        "reschedule": s.ids["to_move"], "date": local_day(5).isoformat()}),
    ("patient.confirm", "GET"): Access(THE_PATIENT, {"provider_id": "provider"}, query=lambda s: {
        "reschedule": s.ids["to_move"], "start": wall(5, 14)}),
    ("patient.book", "POST"): Access(ANY_PATIENT, {"provider_id": "provider"}, form=lambda s: {
        "service_id": s.ids["service"], "start": wall(6, 9), "reason": "A check-up"}, owner_status=303),
    # The desk of the appointment's provider: its staff member and admins.
    ("staff.approve", "POST"): Access(THE_PROVIDERS_DESK, {"appointment_id": "pending"}, owner_status=303),
    ("staff.reject", "POST"): Access(THE_PROVIDERS_DESK, {"appointment_id": "to_reject"},
                                     form=lambda s: {"reason": "The doctor is away that day"}, owner_status=303),
    ("staff.cancel", "POST"): Access(THE_PROVIDERS_DESK, {"appointment_id": "approved"},
                                     form=lambda s: {"reason": "The clinic is closed for repairs"}, owner_status=303),
    ("staff.complete", "POST"): Access(THE_PROVIDERS_DESK, {"appointment_id": "past"}, owner_status=303),
    ("staff.no_show", "POST"): Access(THE_PROVIDERS_DESK, {"appointment_id": "past_missed"}, owner_status=303),
    ("staff.patient_record", "GET"): Access(THE_PROVIDERS_DESK, {"patient_id": "patient"}),
    ("staff.change_hours", "POST"): Access(THE_PROVIDERS_DESK, {"block_id": "block"}, form=lambda s: {
        "weekday": s.ids["block_weekday"], "start": "17:30", "end": "20:00"}, owner_status=303),  # fits either side
    ("staff.remove_hours", "POST"): Access(THE_PROVIDERS_DESK, {"block_id": "spare_block"}, owner_status=303),
    ("staff.remove_time_off", "POST"): Access(THE_PROVIDERS_DESK, {"time_off_id": "time_off"}, owner_status=303),
    # Admins only, whoever else the object concerns.
    ("admin.appointment", "GET"): Access(ADMINS, {"appointment_id": "pending"}),
    ("admin.add_note", "POST"): Access(ADMINS, {"appointment_id": "pending"},
                                       form=lambda s: {"body": "Called back; all fine.", "visible": "yes"},
                                       owner_status=303),
    ("admin.edit_provider", "GET"): Access(ADMINS, {"provider_id": "provider"}),
    ("admin.edit_provider", "POST"): Access(ADMINS, {"provider_id": "provider"}, form=provider_form, owner_status=303),
    # A provider's photo: anyone may fetch it at its hashed address, only admins change it through a route
    # naming the provider (staff change their own in the staff area, whose routes name none).
    ("profiles.photo", "GET"): Access(ANYONE, {"provider_id": "provider", "digest": "photo"}),
    ("admin.provider_photo", "POST"): Access(ADMINS, {"provider_id": "provider"}, form=photo_upload, owner_status=303),
    ("admin.remove_provider_photo", "POST"): Access(ADMINS, {"provider_id": "provider"}, owner_status=303),
    ("admin.service", "GET"): Access(ADMINS, {"service_id": "service"}),
    ("admin.service", "POST"): Access(ADMINS, {"service_id": "service"}, form=lambda s: {
        "name": f"Long consultation {s.name}", "duration_min": 45, "price": "60", "description": "Longer.",
        "active": "yes"}, owner_status=303),
    ("admin.rename_specialty", "POST"): Access(ADMINS, {"specialty_id": "specialty"}, owner_status=303,
                                               form=lambda s: {"name": f"Renamed specialty {s.name}"}),
    ("admin.deactivate", "POST"): Access(ADMINS, {"user_id": "patient"}, owner_status=303),
    ("admin.activate", "POST"): Access(ADMINS, {"user_id": "former_colleague"}, owner_status=303),
    ("admin.outbox_retry", "POST"): Access(ADMINS, {"message_id": "failed_mail"}, owner_status=303),
    # The service editor's intake questions (removing comes last: the others change the question first).
    ("admin.add_question", "POST"): Access(ADMINS, {"service_id": "service"}, owner_status=303, form=lambda s: {
        "prompt": "Any allergies?", "kind": "short_text"}),
    ("admin.edit_question", "POST"): Access(ADMINS, {"question_id": "question"}, owner_status=303, form=lambda s: {
        "prompt": "Which medicines, and how often?", "kind": "long_text", "required": "yes"}),
    ("admin.move_question", "POST"): Access(ADMINS, {"question_id": "question"}, owner_status=303,
                                            form=lambda s: {"direction": "down"}),
    ("admin.delete_question", "POST"): Access(ADMINS, {"question_id": "question"}, owner_status=303),
}

#: Routes whose argument is a secret rather than an id: the token is the key, whoever is logged in.
TOKEN_ROUTES = {
    ("auth.verify", "GET"): "test_links_act_only_for_the_account_they_were_made_for",
    ("auth.reset_password", "GET"): "test_links_act_only_for_the_account_they_were_made_for",
    ("auth.reset_password", "POST"): "test_links_act_only_for_the_account_they_were_made_for",
    ("account.calendar_feed", "GET"): "test_a_calendar_feed_shows_only_its_owners_appointments",
}
#: Rules with an argument that names no object.
NOT_OBJECTS = {"static"}


def object_routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint not in NOT_OBJECTS:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_route_that_names_an_object_has_an_owner_table(app):  # type: ignore[no-untyped-def]
    present = {(rule.endpoint, method): rule for rule, method in object_routes(app)}
    decided = ACCESS.keys() | TOKEN_ROUTES.keys()
    assert present.keys() - decided == set(), "routes taking an id or token with no owner table here"
    assert decided - present.keys() == set(), "owner tables for routes that do not exist"
    for key, access in ACCESS.items():
        assert set(access.args) == set(present[key].arguments), f"{key}: name the object of every argument"
    assert all(name in globals() for name in TOKEN_ROUTES.values())


# --- the clinic -----------------------------------------------------------------------------------

PATIENT_B_PASSWORD = "another horse battery"  # its own hash, so password-reset links differ per account


def at(days: int, hour: int) -> datetime:
    return datetime.fromisoformat(wall(days, hour)).replace(tzinfo=ZoneInfo(ZONE))


@dataclass
class Clinic:
    users: dict[str, User]  # person key -> user
    sides: list[Side]

    def password(self, person: str) -> str:
        return PATIENT_B_PASSWORD if person == "patient_b" else DEFAULT_PASSWORD


def build_side(name: str, patient: User, staff: User, admin: User, other: str) -> Side:
    side = Side(name, {ANON: "anonymous", OWN_PATIENT: f"patient_{name}", OTHER_PATIENT: f"patient_{other}",
                       OWN_STAFF: f"staff_{name}", OTHER_STAFF: f"staff_{other}", ADMIN: "admin"})
    provider = everyday_provider()
    provider.user_id = staff.id  # the staff member works as this provider
    db.session.commit()
    surname = patient.full_name.split()[-1]
    booked = {
        "pending": (3, 10, Status.PENDING), "to_reject": (3, 11, Status.PENDING),
        "approved": (4, 10, Status.APPROVED), "to_cancel": (4, 11, Status.APPROVED), "to_move": (4, 12, Status.PENDING),
        "past": (-1, 10, Status.APPROVED), "past_missed": (-1, 11, Status.APPROVED),
    }
    reasons = []
    for key, (days, hour, status) in booked.items():
        appointment = make_appointment(patient=patient, provider=provider, start_at=at(days, hour), status=status)
        appointment.reason = f"{surname} {key.replace('_', ' ')}: a sore left knee"
        reasons.append(appointment.reason)
        side.ids[key] = appointment.id
    # Blocks on weekdays no appointment falls on, so changing them moves nobody.
    blocks = {b.weekday: b.id for b in provider.working_hours}
    side.ids["block_weekday"] = local_day(2).weekday()
    side.ids["block"], side.ids["spare_block"] = blocks[local_day(2).weekday()], blocks[local_day(1).weekday()]
    away = TimeOff(provider_id=provider.id, start_at=at(20, 9), end_at=at(20, 12),
                   reason=f"{staff.full_name.split()[-1]} speaks at a conference")
    note = AppointmentNote(appointment_id=side.ids["pending"], author_id=admin.id,
                           body=f"Private: {surname} is allergic to penicillin")
    mail = OutboxMessage(recipient=patient.email, user_id=patient.id, subject="Your appointment",
                         text_body=f"Dear {patient.full_name}", status="failed", attempts=6, last_error="refused")
    question = IntakeQuestion(service_id=provider.services[0].id, kind="short_text", prompt="Which medicines?")
    db.session.add_all([away, note, mail, question])
    db.session.flush()
    answer = IntakeAnswer(appointment_id=side.ids["pending"], question_id=question.id, position=0, kind="short_text",
                          question=question.prompt, answer=f"{surname} takes warfarin daily")
    db.session.add(answer)
    db.session.commit()
    side.ids["photo"] = photos.set_photo(admin.id, provider.id, photos.Upload(picture((60, 60)))).sha256  # type: ignore[assignment]
    former = make_user(Role.STAFF, full_name=f"Former colleague {name.upper()}", active=False)
    side.ids.update(provider=provider.id, service=provider.services[0].id, specialty=provider.specialty_id,
                    patient=patient.id, staff=staff.id, time_off=away.id, failed_mail=mail.id,
                    former_colleague=former.id, question=question.id)
    side.secrets = {
        f"patient_{name}": [patient.full_name, patient.email, patient.phone, patient.profile.address, *reasons,
                            answer.answer],
        f"staff_{name}": [staff.full_name, staff.email, away.reason],
        "clinic": [note.body],
    }
    return side


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """Rate limits are tested elsewhere; here every request must reach its access check."""
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        yield app


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    users = {
        "patient_a": make_user(Role.PATIENT, email="alice.ashcombe@example.test", full_name="Alice Ashcombe"),
        "patient_b": make_user(Role.PATIENT, email="bruno.brightwater@example.test", full_name="Bruno Brightwater",
                               password=PATIENT_B_PASSWORD),
        "staff_a": make_user(Role.STAFF, email="sarah.sheldrake@example.test", full_name="Dr Sarah Sheldrake"),
        "staff_b": make_user(Role.STAFF, email="tomas.thornbury@example.test", full_name="Dr Tomas Thornbury"),
        "admin": make_user(Role.ADMIN, email="morgan.overseer@example.test", full_name="Morgan Overseer"),
    }
    for key, phone, address in [("patient_a", "+44 20 7946 0101", "12 Acacia Avenue"),
                                ("patient_b", "+44 20 7946 0202", "34 Birch Road")]:
        users[key].phone, users[key].profile.address = phone, address
    db.session.commit()
    sides = [build_side("a", users["patient_a"], users["staff_a"], users["admin"], other="b"),
             build_side("b", users["patient_b"], users["staff_b"], users["admin"], other="a")]
    return Clinic(users, sides)


def log_in(app, clinic: Clinic, person: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if person != "anonymous":
        response = client.post("/auth/login", data={"email": clinic.users[person].email,
                                                    "password": clinic.password(person)})
        assert response.status_code == 303, f"{person} could not log in"
    return client


def snapshot() -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table, in key order."""
    db.session.rollback()  # a fresh read, past any snapshot SQLite still holds
    rows = {table.name: [tuple(row) for row in db.session.execute(
        sa.select(table).order_by(*table.primary_key.columns))] for table in db.metadata.sorted_tables}
    db.session.rollback()
    return rows


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> str:  # type: ignore[type-arg]
    def short(row: tuple) -> str:  # type: ignore[type-arg]
        return "(" + ", ".join(repr(v)[:30] for v in row) + ")"

    told = []
    for name in before:
        if before[name] != after[name]:
            gone = [short(r) for r in before[name] if r not in after[name]]
            new = [short(r) for r in after[name] if r not in before[name]]
            told.append(f"{name} -{gone} +{new}")
    return "; ".join(told)


def url_of(rule, access: Access, side: Side) -> str:  # type: ignore[no-untyped-def]
    url = rule.build({arg: side.ids[obj] for arg, obj in access.args.items()})[1]
    return f"{url}?{urlencode(access.query(side))}" if access.query else url


def form_of(access: Access, side: Side, method: str) -> dict[str, Any] | None:
    if method != "POST":
        return None
    return {k: v if isinstance(v, tuple) else str(v)  # a tuple is a file: (stream, name, content type)
            for k, v in (access.form(side) if access.form else {}).items()}


def refusal_problem(response, visitor: str, fragment: bool) -> str | None:  # type: ignore[no-untyped-def]
    """Why this answer is not a refusal (None when it is one)."""
    if visitor != ANON:
        return None if response.status_code in (403, 404) else f"{response.status_code}, not 403 or 404"
    if fragment:  # htmx is told where to go instead of following a redirect into the fragment
        ok = response.status_code == 401 and "/auth/login" in response.headers.get("HX-Redirect", "")
        return None if ok else f"{response.status_code}, not 401 with HX-Redirect to the login page"
    ok = response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")
    return None if ok else f"{response.status_code}, not a redirect to the login page"


def leaked(response, secrets: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    said = response.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return [text for text in secrets if text in said]


# --- the tests ------------------------------------------------------------------------------------


def test_nobody_reaches_an_object_that_is_not_theirs(app, clinic):  # type: ignore[no-untyped-def]
    rules = {(rule.endpoint, method): rule for rule, method in object_routes(app)}
    clients = {person: log_in(app, clinic, person) for person in clinic.sides[0].people.values()}
    failures: list[str] = []
    checks = 0
    baseline = snapshot()
    for (endpoint, method), access in ACCESS.items():
        for side in clinic.sides:
            url, data = url_of(rules[(endpoint, method)], access, side), form_of(access, side, method)
            for visitor in VISITORS:
                if visitor in access.allowed:
                    continue
                person = side.people[visitor]
                for headers in ({}, HTMX):
                    response = clients[person].open(url, method=method, data=data, headers=headers)
                    checks += 1
                    where = f"{method} {url}{' (htmx)' if headers else ''} as {visitor} of side {side.name}"
                    problem = refusal_problem(response, visitor, bool(headers))
                    if problem:
                        failures.append(f"{where}: {problem}")
                    if shown := leaked(response, side.secrets_kept_from(person)):
                        failures.append(f"{where}: shows {shown}")
                    after = snapshot()
                    if after != baseline:
                        failures.append(f"{where}: changed {changes(baseline, after)}")
                        baseline = after
    assert not failures, f"{len(failures)} of {checks} refusals failed:\n" + "\n".join(failures)

    # The same requests from their owners go through and change what the others could not (pages first).
    owners = (OWN_PATIENT, OWN_STAFF, ADMIN)
    for (endpoint, method), access in sorted(ACCESS.items(), key=lambda item: item[0][1] == "POST"):
        owner = next(v for v in owners if v in access.allowed)
        for side in clinic.sides:
            url = url_of(rules[(endpoint, method)], access, side)
            response = clients[side.people[owner]].open(url, method=method, data=form_of(access, side, method))
            where = f"{method} {url} as {owner} of side {side.name}"
            if response.status_code != access.owner_status:
                failures.append(f"{where}: {response.status_code}, expected {access.owner_status}")
            after = snapshot()
            if method == "POST" and after == baseline:
                failures.append(f"{where}: changed nothing, so its refusals prove nothing")
            baseline = after
    assert not failures, "\n".join(failures)


def test_an_id_must_belong_to_the_provider_it_is_named_with(app, clinic):  # type: ignore[no-untyped-def]
    """An admin naming provider B cannot reach A's hours through it; patient A cannot move an appointment
    on another provider's calendar; staff naming another provider are given their own."""
    a, b = clinic.sides
    admin, patient, other_staff = (log_in(app, clinic, p) for p in ("admin", "patient_a", "staff_b"))
    hours = {"weekday": str(a.ids["block_weekday"]), "start": "17:30", "end": "20:00"}
    refused = [
        (admin, "POST", f"/staff/hours/{a.ids['block']}?provider={b.ids['provider']}", hours),
        (admin, "POST", f"/staff/hours/{a.ids['spare_block']}/delete?provider={b.ids['provider']}", {}),
        (admin, "POST", f"/staff/time-off/{a.ids['time_off']}/delete?provider={b.ids['provider']}", {}),
        (patient, "GET", f"/book/{b.ids['provider']}?reschedule={a.ids['to_move']}", None),
        (patient, "GET", f"/book/{b.ids['provider']}/slots?reschedule={a.ids['to_move']}&date={local_day(5)}", None),
        (patient, "GET", f"/book/{b.ids['provider']}/confirm?reschedule={a.ids['to_move']}&start={wall(5, 14)}", None),
    ]
    failures = []
    baseline = snapshot()
    for client, method, url, data in refused:
        response = client.open(url, method=method, data=data)
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code}, expected 404")
        if snapshot() != baseline:
            failures.append(f"{method} {url}: changed {changes(baseline, snapshot())}")
            baseline = snapshot()
    assert not failures, "\n".join(failures)

    def provider_a_rows() -> list:  # type: ignore[type-arg]
        db.session.rollback()
        return [tuple(row) for table in (WorkingHours.__table__, TimeOff.__table__) for row in db.session.execute(
            sa.select(table).where(table.c.provider_id == a.ids["provider"]).order_by(table.c.id))]

    before = provider_a_rows()
    for url in ("/staff/hours", "/staff/time-off"):
        page = other_staff.get(f"{url}?provider={a.ids['provider']}")
        assert page.status_code == 200 and not leaked(page, a.secrets_kept_from("staff_b"))
    added = other_staff.post("/staff/hours", data={"provider": a.ids["provider"], "weekday": "0",
                                                   "start": "18:00", "end": "19:00"})
    away = other_staff.post("/staff/time-off", data={"provider": a.ids["provider"], "start": f"{local_day(30)}T09:00",
                                                     "end": f"{local_day(30)}T12:00", "reason": "Training"})
    assert (added.status_code, away.status_code) == (303, 303)  # on their own provider's schedule
    assert provider_a_rows() == before


def test_links_act_only_for_the_account_they_were_made_for(app, clinic):  # type: ignore[no-untyped-def]
    alice, bruno = clinic.users["patient_a"], clinic.users["patient_b"]
    bruno_browser = log_in(app, clinic, "patient_b")  # before his address is unconfirmed: then he could not
    for user in (alice, bruno):
        user.email_verified_at = None
    db.session.commit()
    verify = {"id": alice.id, "email": alice.email}
    reset = {"id": alice.id, "pw": password_fingerprint(alice)}
    bruno_verify = make_token("verify-email", {"id": bruno.id, "email": bruno.email})
    bruno_reset = make_token("password-reset", {"id": bruno.id, "pw": password_fingerprint(bruno)})
    new_password = {"password": "a brand new passphrase", "password_confirm": "a brand new passphrase"}

    def spliced(own: str, other: str) -> str:
        """The other account's payload under this link's signature."""
        return other.split(".", 1)[0] + "." + own.split(".", 1)[1]

    alice_verify, alice_reset = make_token("verify-email", verify), make_token("password-reset", reset)
    not_for_bruno = [
        ("GET", f"/auth/verify/{spliced(alice_verify, bruno_verify)}"),
        ("GET", f"/auth/verify/{make_token('verify-email', {'id': bruno.id, 'email': alice.email})}"),
        ("GET", f"/auth/verify/{make_token('verify-email', {'id': alice.id, 'email': bruno.email})}"),
        ("GET", f"/auth/verify/{alice_reset}"),  # a link made for another purpose
        ("GET", f"/auth/reset/{spliced(alice_reset, bruno_reset)}"),
        ("POST", f"/auth/reset/{spliced(alice_reset, bruno_reset)}"),
        ("GET", f"/auth/reset/{make_token('password-reset', {'id': bruno.id, 'pw': reset['pw']})}"),
        ("POST", f"/auth/reset/{make_token('password-reset', {'id': bruno.id, 'pw': reset['pw']})}"),
        ("POST", f"/auth/reset/{make_token('password-reset', {'id': alice.id, 'pw': password_fingerprint(bruno)})}"),
        ("GET", f"/auth/reset/{alice_verify}"),
        ("POST", f"/auth/reset/{alice_verify}"),
    ]
    failures = []
    baseline = snapshot()
    alice_knows, bruno_knows = [alice.full_name, alice.email], [bruno.full_name, bruno.email]
    for client, kept in [(app.test_client(), alice_knows + bruno_knows), (bruno_browser, alice_knows)]:
        for method, url in not_for_bruno:
            response = client.open(url, method=method, data=new_password if method == "POST" else None)
            if response.status_code != 400:
                failures.append(f"{method} {url}: {response.status_code}, expected 400")
            if shown := leaked(response, kept):
                failures.append(f"{method} {url}: shows {shown}")
            if snapshot() != baseline:
                failures.append(f"{method} {url}: changed {changes(baseline, snapshot())}")
                baseline = snapshot()
    assert not failures, "\n".join(failures)

    def bruno_row() -> tuple:  # type: ignore[type-arg]
        return next(row for row in snapshot()["users"] if row[0] == bruno.id)

    before = bruno_row()
    # Alice's genuine links, opened in Bruno's browser, act for Alice alone.
    assert bruno_browser.get(f"/auth/verify/{alice_verify}").status_code == 303
    form = bruno_browser.get(f"/auth/reset/{alice_reset}")
    assert form.status_code == 200 and leaked(form, [alice.email, bruno.email]) == [alice.email]  # Alice's form
    assert bruno_browser.post(f"/auth/reset/{alice_reset}", data=new_password).status_code == 303
    db.session.rollback()
    alice = db.session.get(User, alice.id)
    assert alice.email_verified_at is not None and password_fingerprint(alice) != reset["pw"]
    assert bruno_row() == before


FEED_UID = re.compile(r"UID:appointment-(\d+)@")


def test_a_calendar_feed_shows_only_its_owners_appointments(app, clinic):  # type: ignore[no-untyped-def]
    a, b = clinic.sides
    shown_in_feed = {"pending", "to_reject", "approved", "to_cancel", "to_move", "past", "past_missed"}
    own = {side.name: {side.ids[key] for key in shown_in_feed} for side in clinic.sides}
    visitor = app.test_client()
    for person, side, other in [("patient_a", a, b), ("patient_b", b, a), ("staff_a", a, b), ("staff_b", b, a)]:
        token = clinic.users[person].calendar_token
        response = visitor.get(f"/calendar/{token}.ics")
        assert response.status_code == 200
        listed = {int(n) for n in FEED_UID.findall(response.get_data(as_text=True).replace("\r\n ", ""))}
        assert listed == own[side.name], f"{person}'s feed"
        assert not leaked(response, other.secrets_kept_from(person)), f"{person}'s feed shows the other side"
    admin_feed = visitor.get(f"/calendar/{clinic.users['admin'].calendar_token}.ics")
    assert admin_feed.status_code == 200 and not FEED_UID.search(admin_feed.get_data(as_text=True))

    token, other_token = clinic.users["patient_a"].calendar_token, clinic.users["patient_b"].calendar_token
    near_misses = [token.swapcase(), token[:-1], token + "x", token[:-1] + ("A" if token[-1] != "A" else "B"),
                   token[:16] + other_token[16:], token.upper(), f"{token}.ics", token + "%00"]
    for guess in near_misses:
        response = visitor.get(f"/calendar/{guess}.ics")
        assert response.status_code in (400, 404), guess
        assert not FEED_UID.search(response.get_data(as_text=True)) and not leaked(response, a.secrets_kept_from(""))
