"""Hostile input to every route, as every kind of visitor: never a 5xx, and a sound database after.

Hypothesis sends random and hostile values (empty, huge, unicode, NUL and control characters, SQL and
HTML metacharacters, negative and huge numbers, malformed and extreme dates, repeated fields, wrong
content types, htmx headers) to every form field and query parameter of every route, as an anonymous
visitor, a patient, a staff member working as a provider and an admin. Valid values are mixed in, so
requests also reach the code behind the forms: bookings are made, hours change, notes are written,
and later pages render what was stored. Afterwards the database passes its integrity checks.

FIELDS names what each route reads; a route missing from it fails `test_fields_name_every_route`.
"""
from __future__ import annotations

import io
import json
import logging
import re
import traceback
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentEvent,
    IntakeQuestion,
    OutboxMessage,
    PatientProfile,
    Provider,
    Service,
    TimeOff,
    User,
)
from booking.services import passwords
from booking.services.accounts import password_fingerprint
from booking.services.notify import OPTIONAL_EMAILS
from booking.services.tokens import make_token
from tests.booking_helpers import ZONE, everyday_provider, local_day, wall
from tests.factories import make_service, make_user
from tests.suite_log import remember_secret

ANON, PATIENT, STAFF, ADMIN = "anonymous", "patient", "staff", "admin"
ROLES = (ANON, PATIENT, STAFF, ADMIN)
PASSWORD = "fuzzing passphrase 7"
HOLDING = tuple(sorted(s.value for s in (Status.PENDING, Status.APPROVED)))

#: The suite promises at least this many fuzzed requests per backend.
REQUESTS = 5_000
#: Two rounds over every route and visitor (the second round's pages show what the first stored), with
#: this many requests each as a visitor the route is for, and as one it turns away.
ROUNDS = 2
EXAMPLES = 14
EXAMPLES_TURNED_AWAY = 4

PROVIDER_FIELDS = ("user_id", "specialty_id", "service_ids", "timezone", "buffer_before_min", "buffer_after_min",
                   "slot_step_min", "min_notice_min", "horizon_days", "license_number", "years_experience", "fee",
                   "bio", "languages", "location", "active")
SERVICE_FIELDS = ("name", "duration_min", "price", "description", "auto_approve", "active")
LISTING_FIELDS = ("status", "provider", "specialty", "date_from", "date_to", "q", "sort")

#: endpoint -> every query parameter and form field it reads (path arguments come from the rule).
FIELDS: dict[str, tuple[str, ...]] = {
    "health.healthz": (),
    "home.index": (),
    "seo.robots": (),
    "seo.sitemap": (),
    "auth.login": ("next", "inline", "email", "password", "remember"),
    "auth.register": ("next", "inline", "full_name", "email", "phone", "password", "password_confirm"),
    "auth.logout": (),
    "auth.verify": (),
    "auth.check_email": (),
    "auth.resend_verification": (),
    "auth.forgot_password": ("email",),
    "auth.reset_password": ("password", "password_confirm"),
    "account.calendar_feed": (),
    "account.profile_page": ("full_name", "phone", "date_of_birth", "address", "emergency_contact_name",
                             "emergency_contact_phone", "blood_group", "medical_notes", "timezone"),
    "account.email_preferences": tuple(OPTIONAL_EMAILS),
    "account.renew_calendar": (),
    "account.change_password": ("current_password", "password", "password_confirm"),
    "account.export": (),
    "account.delete": ("password", "understood"),
    "patient.providers": ("specialty", "service", "q", "page"),
    "patient.calendar_page": ("service", "reschedule", "date", "month", "known"),
    "patient.slots": ("service", "reschedule", "date", "known"),
    "patient.confirm": ("service", "reschedule", "start"),
    "patient.book": ("service_id", "start", "reason"),
    "patient.appointments": (),
    "patient.appointment": (),
    "patient.appointment_calendar": (),
    "patient.cancel": ("reason",),
    "patient.reschedule": ("start",),
    "staff.requests": ("known",),
    "staff.approve": (),
    "staff.reject": ("reason",),
    "staff.complete": (),
    "staff.no_show": (),
    "staff.cancel": ("reason",),
    "staff.schedule": ("view", "date"),
    "staff.patient_record": (),
    "staff.hours": ("provider", "weekday", "start", "end"),
    "staff.change_hours": ("provider", "weekday", "start", "end"),
    "staff.remove_hours": ("provider",),
    "staff.time_off": ("provider", "start", "end", "reason", "confirm"),
    "staff.remove_time_off": ("provider",),
    "admin.dashboard": (),
    "admin.appointments": (*LISTING_FIELDS, "page"),
    "admin.appointments_csv": LISTING_FIELDS,
    "admin.appointment": (),
    "admin.add_note": ("body", "visible"),
    "admin.providers": (),
    "admin.new_provider": PROVIDER_FIELDS,
    "admin.edit_provider": PROVIDER_FIELDS,
    "admin.outbox_view": ("status", "page"),
    "admin.outbox_retry": (),
    "admin.users": ("role", "email", "full_name", "password", "q", "page"),
    "admin.deactivate": (),
    "admin.activate": (),
    "admin.services": SERVICE_FIELDS,
    "admin.service": ("view", *SERVICE_FIELDS),
    "admin.specialties": ("name",),
    "admin.rename_specialty": ("name",),
    "admin.add_question": ("prompt", "kind", "required", "choices"),
    "admin.edit_question": ("prompt", "kind", "required", "choices"),
    "admin.move_question": ("direction",),
    "admin.delete_question": (),
    "staff.profile": ("bio", "languages"),
    "staff.profile_photo": ("photo",),
    "staff.remove_profile_photo": (),
    "profiles.photo": (),
    "admin.provider_photo": ("photo",),
    "admin.remove_provider_photo": (),
}

#: Routes whose success ends a session or changes the people and provider the rest of the run uses:
#: after each of them the fixtures are put back (see World.repair).
DISRUPTIVE = {"auth.logout", "auth.reset_password", "account.delete", "account.change_password",
              "account.renew_calendar", "admin.deactivate", "admin.edit_provider", "admin.new_provider",
              "admin.service"}

# --- hostile values ---------------------------------------------------------------------------------

#: Hostile values by kind; each kind is drawn as often as each of the others.
KINDS = {
    "odd digits": ["²", "³", "¹⁰", "½", "①", "⑴", "⒈", "１２", "٣", "߁", "𝟙", "Ⅻ", "1²", "٣٠", "१०"],
    "odd numbers": ["-1", "-0", "+1", " 1", "1 ", "1.5", "1,5", "1e3", "1e309", "NaN", "inf", "-inf", "0x1F",
                    "1_000", "007", "0", "00"],
    "big numbers": ["2147483647", "2147483648", "-2147483649", str(2**63), str(-(2**63) - 1), "9" * 40, "9" * 400,
                    "9" * 5_000, "1" + "0" * 4_300],
    "injection": ["' OR 1=1 --", "'; DROP TABLE users; --", "1 UNION SELECT password_hash FROM users", '"', "'",
                  "\\", "%", "_", "%_%", "*", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
                  "{{ 7*7 }}", "{% raw %}", "${jndi:ldap://x}", "=cmd|' /C calc'!A0", "+SUM(A1)", "@import"],
    "control": ["%00", "\x00", "a\x00b", "\x01\x1f\x7f", "\x1b[2J", "\r\n", "\n", "\t", "\u2028", "\u202eevil",
                "\ufeff", "\u200b", "\x85", "\ud7ff\ue000"],
    "text": ["", " ", "😀👩\u200d⚕️🏳️\u200d🌈", "עברית", "مرحبا", "中文", "Zoë", "İstanbul", "ǅ", "\U0010fffd",
             "../../etc/passwd", "..\\..\\boot.ini", "/", "//evil.example", "javascript:alert(1)",
             "https://evil.example/", "Europe/../../etc", "Europe", "UTC", "localtime", "yes", "no", "on", "off",
             "true", "false", "null", "None", "undefined", "[]", "{}"],
    "e-mail": ["a@b", "@example.test", "x@" + "a" * 300 + ".test", "ADMIN@EXAMPLE.TEST", "a..b@example.test",
               "zoë@exämple.test", "a@example.test\n", '"a b"@example.test', "a@[127.0.0.1]", "a" * 65 + "@x.test"],
    "bad dates": ["2024-02-30", "2023-02-29", "0000-01-01", "2024-13-01T25:61", "2024-01-01T24:00", "2024-1-1",
                  "31/12/2024", "2024-00", "2100-13", "99999-01", "+2024-01-01", "2024-01-01T09:00:00Z",
                  "2024-01-01 09:00", "24:00", "23:60", "-01:00", "9:00", "09:00:00", "T", "１２:００", "２０３０-０１"],
    "far dates": ["9999-12-31", "0001-01-01", "1899-12-31", "1970-01-01", "2000-01-01", "2100-12-31", "2101-01-01",
                  "2100-12", "2000-01", "9999-12", "2100-12-31T23:59", "2000-01-01T00:00", "9999-12-31T23:59",
                  "2030-03-31T01:30", "2030-10-27T01:30", "2030-03-31T00:59", "2030-10-27T00:30"],
    "long": ["x" * 10_000, "é" * 10_001, "<" * 10_000, "😀" * 5_000, "a b " * 3_000, "x" * 65, "x" * 121,
             "x" * 201, "x" * 255, "x" * 501, "x" * 2_001],
}
UNICODE = st.characters(codec="utf-8")  # every code point a request can carry (no lone surrogates)

LENGTHY = st.tuples(st.integers(31, 3_000), st.sampled_from(["x", "é", "😀", "9", "<", " "])).map(lambda t: t[1] * t[0])
HOSTILE = st.one_of(
    *(st.sampled_from(kind) for kind in KINDS.values()),
    LENGTHY,
    st.text(UNICODE, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
)
SPOILERS = ["\x00", " ", "'", "<b>", "é", "0", "-", "\n", "%", "9" * 12]
#: Hostility aimed at what a field holds: odd digits at numbers, odd dates at dates, length at text.
AIMED = {
    "number": st.one_of(*(st.sampled_from(KINDS[k]) for k in ("odd digits", "odd numbers", "big numbers"))),
    "date": st.one_of(st.sampled_from(KINDS["bad dates"]), st.sampled_from(KINDS["far dates"])),
    "text": st.one_of(st.sampled_from(KINDS["long"]), st.sampled_from(KINDS["control"]),
                      st.sampled_from(KINDS["injection"]), LENGTHY),
}
NUMBER = re.compile(r"-?[0-9]*\.?[0-9]*")
DATE_OR_TIME = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?(T[0-9]{2}:[0-9]{2})?|[0-9]{2}:[0-9]{2}")


def aimed(valid: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Hostility for the kind of value a field holds, judged by its valid samples."""
    if all(NUMBER.fullmatch(v) for v in valid):
        return AIMED["number"]
    if all(DATE_OR_TIME.fullmatch(v) for v in valid):
        return AIMED["date"]
    return AIMED["text"]


def draw_bad(data: st.DataObject, name: str, valid: tuple[str, ...]) -> str:
    """A hostile value (half the time one aimed at the kind of field), or a valid one spoiled at one end.

    The kind is drawn first: Hypothesis flattens nested one_of()s, so weights cannot be nested."""
    kind = data.draw(st.sampled_from(["aimed", "aimed", "any", "any", "spoilt"] if valid else ["any"]),
                     label=f"{name} kind")
    if kind == "aimed":
        return data.draw(aimed(valid), label=name)
    if kind == "any":
        return data.draw(HOSTILE, label=name)
    good, spoiler, at_end = data.draw(st.tuples(st.sampled_from(valid), st.sampled_from(SPOILERS), st.booleans()),
                                      label=name)
    return good + spoiler if at_end else spoiler + good


def draw_value(data: st.DataObject, name: str, valid: tuple[str, ...]) -> str:
    """A valid sample or a bad value, as likely as each other."""
    if valid and data.draw(st.booleans(), label=f"{name} valid"):
        return data.draw(st.sampled_from(valid), label=name)
    return draw_bad(data, name, valid)


def draw_path_value(data: st.DataObject, name: str, valid: tuple[str, ...]) -> str:
    """Mostly a real id or token, so the fields behind it are reached; else a hostile one."""
    kind = data.draw(st.sampled_from(["valid", "valid", "valid", "id", "any"]), label=f"{name} kind")
    if kind == "valid":
        return data.draw(st.sampled_from(valid), label=name)
    return data.draw(st.sampled_from(HOSTILE_IDS) if kind == "id" else HOSTILE, label=name)


HX_TARGETS = ["calendar", "slots", "request-rows", "appointment-table", "user-table", "notes", "body"]
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
HEADERS = st.fixed_dictionaries({}, optional={
    "HX-Request": st.sampled_from(["true", "true", "false", ""]),
    "HX-Target": st.one_of(st.sampled_from(HX_TARGETS), HEADER_TEXT),
    "HX-Boosted": st.just("true"),
    "HX-History-Restore-Request": st.just("true"),
    "HX-Current-URL": st.one_of(st.sampled_from(["http://localhost/book/", "http://evil.example/x", "http:///",
                                                 "http://[::1", "//localhost/staff/requests"]), HEADER_TEXT),
    "Accept": st.sampled_from(["application/json", "text/html", "*/*", "text/csv", "",
                               "application/json;q=0.9, text/html;q=0.1", "image/*;q=x"]),
    "Referer": st.sampled_from(["http://localhost/staff/schedule", "http://evil.example/", "not a url"]),
    "X-Request-ID": st.one_of(st.just("a" * 200), HEADER_TEXT),
})

HOSTILE_IDS = ["0", "-1", "2147483647", "2147483648", str(2**63), "9" * 40, "9" * 5_000, "𝟙", "abc", "1.5", "٣",
               "²", "\x00", "' OR 1=1 --", "<script>", "..", "%2e%2e", "1;2"]
#: How an example fills the fields: all at random, all valid but one (to get past the first check and
#: reach the code behind it), or all valid (the paths that succeed, and what they store).
MODES = ["mixed"] * 2 + ["one bad"] * 5 + ["valid"]
SHAPES = ["one"] * 6 + ["absent"] * 3 + ["repeated"]
#: How a JSON body spells a value: as text, a number, null, a list, an object, a boolean.
JSON_SHAPES = [str, len, lambda v: None, lambda v: [v, v], lambda v: {"v": v}, bool]
#: How a POST carries its fields (the browser's way most of the time).
BODIES = ["form"] * 8 + ["multipart", "file", "json", "text", "raw", "query"]


# --- the fixtures the requests play with -------------------------------------------------------------


@dataclass
class World:
    """The people, provider and appointments of one run, logged-in sessions, and valid sample values."""

    app: Flask
    users: dict[str, User]
    provider: Provider
    service_ids: list[int]
    path: dict[str, list[str]]
    samples: dict[str, list[str]]
    cookies: dict[str, str] = field(default_factory=dict)
    saved: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0

    def sample(self, endpoint: str, name: str) -> list[str]:
        return self.samples.get(f"{endpoint}:{name}") or self.samples.get(name, [])

    def path_samples(self, endpoint: str, argument: str) -> list[str]:
        return self.path.get(f"{endpoint}:{argument}") or self.path[argument]

    def client(self, role: str):  # type: ignore[no-untyped-def]
        """A fresh client per request; a role's carries the session its login made."""
        client = self.app.test_client()
        if role != ANON:
            client.set_cookie("session", self.cookies[role])
        return client

    def remember(self) -> None:
        """What repair() puts back: the fields a fuzzed request may change about a fixture account."""
        for user in self.users.values():
            self.saved[user.id] = {name: getattr(user, name) for name in (
                "email", "full_name", "password_hash", "session_token", "calendar_token", "active",
                "email_verified_at", "role")}

    def repair(self) -> None:
        """Undo what ends the fixtures' sessions or stops the provider: logouts, deletions, new
        passwords, switched-off accounts, a provider handed to someone else or a service switched off."""
        db.session.rollback()
        for user_id, fields in self.saved.items():
            user = db.session.get(User, user_id, populate_existing=True)
            for name, value in fields.items():
                if getattr(user, name) != value:
                    setattr(user, name, value)
            user.deleted_at = None
            if user.role == Role.PATIENT.value and user.profile is None:
                user.profile = PatientProfile()
        db.session.commit()
        provider = db.session.get(Provider, self.provider.id, populate_existing=True)
        staff = self.users[STAFF]
        if provider.user_id != staff.id and db.session.scalar(
                sa.select(Provider.id).where(Provider.user_id == staff.id)) is None:
            provider.user_id = staff.id
        provider.active = True
        for service in db.session.scalars(sa.select(Service).where(Service.id.in_(self.service_ids))):
            service.active = True
        db.session.commit()


def appointment(patient: User, provider: Provider, start: datetime, status: Status) -> Appointment:
    """An appointment with its audit trail, as the booking service writes one."""
    service = provider.services[0]
    booked = Appointment(patient_id=patient.id, provider_id=provider.id, service_id=service.id, start_at=start,
                         end_at=start + timedelta(minutes=service.duration_min), status=status.value,
                         reason="Checkup")
    booked.events.append(AppointmentEvent(actor_id=patient.id, kind="created", to_status=status.value,
                                          to_start_at=start))
    db.session.add(booked)
    return booked


def clock_changes(days: int = 400) -> list[str]:
    """Provider-local times around the clinic's next clock changes: missing, doubled and either side."""
    zone, today = ZoneInfo(ZONE), local_day(0)
    found = []
    for n in range(1, days):
        day = today + timedelta(days=n)
        midnight = datetime.combine(day, datetime.min.time(), zone)
        if (midnight + timedelta(days=1)).utcoffset() != midnight.utcoffset():
            found += [f"{day.isoformat()}T{t}" for t in ("00:30", "01:00", "01:30", "02:00", "09:00")]
    return found


def local(days_ahead: int, hour: int) -> datetime:
    return datetime.fromisoformat(wall(days_ahead, hour)).replace(tzinfo=ZoneInfo(ZONE))


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    users = {role: make_user(Role(role)) for role in (PATIENT, STAFF, ADMIN)}
    other_patient, bystander, unverified = make_user(Role.PATIENT), make_user(Role.STAFF), make_user(Role.PATIENT)
    unverified.email_verified_at = None
    for user in (*users.values(), other_patient, bystander, unverified):
        user.password_hash = passwords.hash_password(PASSWORD)
    quick = make_service(duration_min=45, auto_approve=True)
    provider = everyday_provider()
    provider.user_id = users[STAFF].id
    provider.services.append(quick)
    other = everyday_provider()
    db.session.commit()
    patient = users[PATIENT]
    now = datetime.now(timezone.utc)
    past = (now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    booked = [
        appointment(patient, provider, local(3, 10), Status.PENDING),
        appointment(patient, provider, local(4, 11), Status.APPROVED),
        appointment(patient, provider, past, Status.APPROVED),
        appointment(patient, provider, local(5, 12), Status.CANCELLED),
        appointment(other_patient, other, local(3, 10), Status.PENDING),
        appointment(other_patient, provider, local(6, 9), Status.PENDING),
    ]
    off = TimeOff(provider_id=provider.id, start_at=local(20, 9), end_at=local(21, 9), reason="Holiday")
    failed = OutboxMessage(recipient=patient.email, subject="Hi", text_body="Hi", status="failed", attempts=6)
    question = IntakeQuestion(service_id=provider.services[0].id, kind="short_text", prompt="Any allergies?")
    db.session.add_all([off, failed, question])
    db.session.commit()

    ids = lambda *objects: [str(o.id) for o in objects]  # noqa: E731
    services = [*provider.services, *other.services]
    walls = [wall(d, h, m) for d in (2, 3, 4, 6, 9, 13) for h in (9, 10, 13, 16) for m in (0, 30)] + clock_changes()
    emails = [patient.email, users[STAFF].email, "new.person@example.test", "nobody@example.test",
              patient.email.upper(), unverified.email]
    path = {
        "appointment_id": ids(*booked),
        "provider_id": ids(provider, other),
        "block_id": ids(provider.working_hours[0], provider.working_hours[3], other.working_hours[0]),
        "time_off_id": ids(off),
        "patient_id": ids(patient, other_patient, users[STAFF]),
        "user_id": ids(bystander, patient, users[ADMIN], users[STAFF]),
        "service_id": ids(*services),
        "specialty_id": [str(provider.specialty_id), str(other.specialty_id)],
        "message_id": ids(failed),
        "question_id": ids(question),
        "digest": ["0" * 64, "not-a-digest"],
        "token": ["not-a-token", "x" * 40],
        "auth.verify:token": [make_token("verify-email", {"id": unverified.id, "email": unverified.email}),
                              make_token("verify-email", {"id": patient.id, "email": patient.email})],
        "auth.reset_password:token": [make_token("password-reset", {"id": patient.id,
                                                                    "pw": password_fingerprint(patient)})],
        "account.calendar_feed:token": [patient.calendar_token, users[STAFF].calendar_token,
                                        (patient.calendar_token or "")[:-1]],
    }
    clock = ["00:00", "07:30", "09:00", "12:15", "17:00", "18:45", "23:59"]
    samples = {
        "next": ["/book/", "/me/appointments", "//evil.example/", "https://evil.example/", "/\\evil.example"],
        "email": emails,
        "password": [PASSWORD, "another good passphrase", "short"],
        "current_password": [PASSWORD, "wrong password here"],
        "password_confirm": [PASSWORD, "another good passphrase"],
        "remember": ["y", "on", "true"],
        "understood": ["y", "on"],
        "full_name": ["Ada Lovelace", "Dr Zoë Ørsted-Łukasiewicz"],
        "phone": ["+44 20 7946 0000", "020 7946 0000"],
        "emergency_contact_phone": ["+44 20 7946 0001"],
        "date_of_birth": ["1980-05-17", "2999-01-01", "1899-12-31"],
        "address": ["Flat 1, High Street\nLondon"],
        "emergency_contact_name": ["Grace Hopper"],
        "blood_group": ["A+", "O-", "AB+", "Z+"],
        "medical_notes": ["Allergic to penicillin"],
        "timezone": ["Europe/London", "America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati", "Mars/Olympus"],
        **{name: ["y", "on"] for name in OPTIONAL_EMAILS},
        "specialty": path["specialty_id"],
        "specialty_id": path["specialty_id"],
        "service": path["service_id"],
        "service_id": path["service_id"],
        "service_ids": path["service_id"],
        "q": ["Number", "patient", "example.test", "%", "_", "\\"],
        "page": ["1", "2", "0", "-1", "100000", "100001"],
        "reschedule": ids(*booked),
        "date": [local_day(d).isoformat() for d in (-3, 0, 1, 3, 7, 30, 90)] + ["2000-01-01", "2100-12-31"],
        "date_from": [local_day(d).isoformat() for d in (-7, 0, 3)],
        "date_to": [local_day(d).isoformat() for d in (-1, 3, 30)],
        "month": [f"{local_day(d):%Y-%m}" for d in (-40, 0, 31, 62, 400)] + ["2000-01", "2100-12"],
        "known": ["0123456789abcdef"],
        "start": walls,
        "reason": ["Running late", "Feeling better"],
        "view": ["day", "week", "month"],
        "status": [s.value for s in Status],
        "admin.outbox_view:status": ["queued", "sending", "sent", "failed"],
        "sort": [f"{sign}{key}" for key in ("start", "created", "status", "patient", "provider") for sign in "-+"],
        "provider": ids(provider, other),
        "weekday": [str(d) for d in range(7)],
        "staff.hours:start": clock, "staff.hours:end": clock,
        "staff.change_hours:start": clock, "staff.change_hours:end": clock,
        "staff.time_off:start": [wall(d, h) for d in (2, 4, 25, 40) for h in (0, 9, 12)] + clock_changes(),
        "staff.time_off:end": [wall(d, h) for d in (2, 5, 26, 41) for h in (0, 9, 18)],
        "confirm": ["yes", "no"],
        "body": ["Patient asked about parking."],
        "visible": ["yes", "no"],
        "user_id": path["user_id"],
        "buffer_before_min": ["0", "10", "240", "241"],
        "buffer_after_min": ["0", "5", "240", "241"],
        "slot_step_min": ["", "5", "15", "480", "481"],
        "min_notice_min": ["0", "120", "43200", "43201"],
        "horizon_days": ["1", "60", "730", "731"],
        "license_number": ["GMC-1234567"],
        "years_experience": ["0", "12", "9999999"],
        "fee": ["45", "45.50", "0", "9999999.99"],
        "bio": ["Twenty years in general practice."],
        "languages": ["English, Welsh", "english;ENGLISH", ","],
        "location": ["Room 4, first floor", ""],
        "photo": ["not a file at all"],
        "active": ["yes", "no"],
        "auto_approve": ["yes", "no"],
        "role": ["staff", "admin", "patient"],
        "name": ["Cardiology", "Physio 45", "General Practice"],
        "duration_min": ["5", "30", "480", "481", "4"],
        "price": ["45", "45.50", "0", "9999999.99"],
        "description": ["A thorough check."],
    }
    for secret in (PASSWORD, *samples["password"][1:2], *path["auth.verify:token"],
                   *path["auth.reset_password:token"], *path["account.calendar_feed:token"][:2]):
        remember_secret(secret)  # no log line may show them, whatever the requests carried
    made = World(app, users, provider, [s.id for s in provider.services], path, samples)
    for role, user in users.items():
        client = app.test_client()
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, f"{role} could not log in"
        made.cookies[role] = client.get_cookie("session").value
    db.session.rollback()
    made.remember()
    return made


# --- one request ---------------------------------------------------------------------------------------


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every route but static files, in a fixed order."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@dataclass
class Fuzzed:
    endpoint: str
    method: str
    role: str
    path: str
    fields: list[tuple[str, str]]
    body: str
    headers: dict[str, str]

    def describe(self, status: int | str, cause: str = "") -> str:
        shown = [(name, value if len(value) <= 80 else f"{value[:60]!r}... ({len(value)} chars)")
                 for name, value in self.fields]
        return (f"{self.method} {self.path[:300]} as {self.role} ({self.endpoint}) -> {status}\n"
                f"  body: {self.body}, fields: {shown}\n  headers: {self.headers}\n{cause}")


def draw_request(data: st.DataObject, world: World, route: tuple[str, str, str], role: str) -> Fuzzed:
    endpoint, method, rule = route

    def argument(match: re.Match[str]) -> str:
        name = match[1]
        raw = draw_path_value(data, name, tuple(world.path_samples(endpoint, name)))
        return quote(raw, safe="")

    path = ARGUMENT.sub(argument, rule)
    fields: list[tuple[str, str]] = []
    names = FIELDS[endpoint]
    mode = data.draw(st.sampled_from(MODES), label="mode") if names else "mixed"
    bad = data.draw(st.sampled_from(names), label="bad field") if mode == "one bad" else None
    for name in names:
        valid = tuple(world.sample(endpoint, name))
        if mode == "mixed":  # each field valid, hostile or spoiled; present, absent or repeated
            shape = data.draw(st.sampled_from(SHAPES), label=f"{name} shape")
            if shape == "one":
                fields.append((name, draw_value(data, name, valid)))
            elif shape == "repeated":
                fields.extend((name, draw_value(data, name, valid)) for _ in range(data.draw(st.integers(2, 3))))
        elif name == bad or not valid:  # the one hostile field, sometimes behind a valid first value
            if valid and data.draw(st.integers(0, 4), label=f"{name} repeated") == 4:
                fields.append((name, data.draw(st.sampled_from(valid), label=name)))
            fields.append((name, draw_bad(data, name, valid)))
        else:
            fields.append((name, data.draw(st.sampled_from(valid), label=name)))
    if data.draw(st.integers(0, 9), label="extra field") == 9:
        fields.append((data.draw(st.sampled_from(["csrf_token", "id", "role", "__proto__", "x" * 300, ""])),
                       data.draw(HOSTILE, label="extra value")))
    body = data.draw(st.sampled_from(BODIES), label="body") if method == "POST" else "query"
    if method == "GET" and data.draw(st.integers(0, 19), label="raw query") == 19:
        body = "raw"
    headers = data.draw(HEADERS, label="headers")
    if data.draw(st.integers(0, 24), label="other method") == 24:
        method = data.draw(st.sampled_from(["PUT", "PATCH", "DELETE", "HEAD", "TRACE"]), label="method")
    return Fuzzed(endpoint, method, role, path, fields, body, headers)


def send(world: World, request: Fuzzed):  # type: ignore[no-untyped-def]
    kwargs: dict[str, Any] = {"method": request.method, "headers": request.headers}
    pairs = MultiDict(request.fields)
    if request.body == "query":
        kwargs["query_string"] = pairs
    elif request.body == "form":
        kwargs["data"] = pairs
    elif request.body == "multipart":
        kwargs["data"], kwargs["content_type"] = pairs, "multipart/form-data"
    elif request.body == "file":  # every value arrives as an uploaded file instead of a field
        kwargs["data"] = MultiDict([(k, (io.BytesIO(v.encode()), "x.txt")) for k, v in request.fields])
        kwargs["content_type"] = "multipart/form-data"
    elif request.body == "json":  # values of every JSON type, and sometimes not an object at all
        document: Any = {k: JSON_SHAPES[i % len(JSON_SHAPES)](v) for i, (k, v) in enumerate(request.fields)}
        kwargs["data"] = json.dumps(document if len(request.fields) % 4 else list(document.items()))
        kwargs["content_type"] = "application/json"
    elif request.body == "text":
        kwargs["data"] = urlencode(request.fields)
        kwargs["content_type"] = "text/plain; charset=utf-8"
    elif request.body == "raw":  # bytes no browser sends: invalid UTF-8, bare % signs, stray separators
        raw = "&".join(f"{quote(k)}={quote(v)}" for k, v in request.fields) + "&%ff%fe=%c3%28&%=%%&&=x"
        if request.method == "GET":
            kwargs["query_string"] = raw
        else:
            kwargs["data"], kwargs["content_type"] = raw.encode(), "application/x-www-form-urlencoded"
    world.requests += 1
    return world.client(request.role).open(request.path, **kwargs)


# --- the integrity of what the requests left ----------------------------------------------------------


def integrity_problems() -> list[str]:
    db.session.rollback()
    problems = []
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        check = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
        if check != ["ok"]:
            problems.append(f"integrity_check: {check}")
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            problems.append(f"foreign_key_check: {broken}")
    holding = ", ".join(f"'{s}'" for s in HOLDING)
    queries = {
        "overlapping time-holding appointments of one provider": f"""
            SELECT a.id, b.id FROM appointments a JOIN appointments b
              ON a.provider_id = b.provider_id AND a.id < b.id
             WHERE a.status IN ({holding}) AND b.status IN ({holding})
               AND a.start_at < b.end_at AND b.start_at < a.end_at""",
        "appointments without an audit event": """
            SELECT a.id FROM appointments a
             WHERE NOT EXISTS (SELECT 1 FROM appointment_events e WHERE e.appointment_id = a.id)""",
        "appointments ending before they start": "SELECT id FROM appointments WHERE end_at <= start_at",
    }
    for what, query in queries.items():
        rows = db.session.execute(sa.text(query)).all()
        if rows:
            problems.append(f"{what}: {rows[:10]}")
    db.session.rollback()
    return problems


# --- the tests -------------------------------------------------------------------------------------------


def test_fields_name_every_route(app):  # type: ignore[no-untyped-def]
    endpoints = {endpoint for endpoint, _, _ in routes(app)}
    assert endpoints - FIELDS.keys() == set(), "routes whose fields the fuzz test does not know: add them to FIELDS"
    assert FIELDS.keys() - endpoints == set(), "FIELDS names routes that do not exist"


def test_every_path_argument_has_samples(app, world):  # type: ignore[no-untyped-def]
    for endpoint, _, rule in routes(app):
        for name in ARGUMENT.findall(rule):
            assert world.path_samples(endpoint, name), f"{rule}: no sample values for {name}"


class ServerErrors(logging.Handler):
    """Keeps the traceback the error handler logs with a 500, for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info)[-6:])


@pytest.fixture
def server_errors():  # type: ignore[no-untyped-def]
    handler = ServerErrors()
    logger = logging.getLogger("booking.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_hostile_requests_never_fail_the_server(app, world, server_errors):  # type: ignore[no-untyped-def]
    """Every route as every visitor, twice over: the second round's pages show what the first stored."""
    every = routes(app)
    failures = []
    for round_ in range(ROUNDS):
        for route in every:
            for role in ROLES:
                try:
                    fuzz_route(world, route, role, round_, server_errors)
                except Exception as error:  # noqa: BLE001 - every route is tried; all failures are reported
                    found = error.exceptions if isinstance(error, ExceptionGroup) else [error]
                    failures.extend(str(each) for each in found)
    assert not failures, "\n\n".join(failures)
    assert world.requests >= REQUESTS
    problems = integrity_problems()
    assert not problems, "\n".join(problems)
    assert world.client(ADMIN).get("/healthz").status_code == 200


def examples(app: Flask, endpoint: str, role: str) -> int:
    """Most requests as the visitors a route is for; a few as the others, who are turned away early."""
    allowed = getattr(app.view_functions[endpoint], "allowed_roles", None)
    return EXAMPLES if allowed is None or role != ANON and Role(role) in allowed else EXAMPLES_TURNED_AWAY


def fuzz_route(world: World, route: tuple[str, str, str], role: str, round_: int, errors: ServerErrors) -> None:
    @seed(zlib.crc32(f"{round_} {role} {route}".encode()))
    @settings(max_examples=examples(world.app, route[0], role), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def one_request(data: st.DataObject) -> None:
        request = draw_request(data, world, route, role)
        errors.last = ""
        try:
            response = send(world, request)
        except Exception as error:  # the request itself blew up (in a stream or a hook): as bad as a 500
            raise AssertionError(request.describe(type(error).__name__)) from error
        status = response.status_code
        response.close()
        assert status < 500, request.describe(status, errors.last)
        if request.endpoint in DISRUPTIVE and status < 400:  # a refused request changed nothing
            world.repair()

    one_request()
