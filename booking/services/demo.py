"""The demo clinic: believable data for trying the app and for the journeys in the tests.

Idempotent: every record is found by its natural key (name, e-mail) before it is created, and the
demo appointments are only made when the demo patients have none, so a second run changes nothing.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentEvent,
    PatientProfile,
    Provider,
    Service,
    Specialty,
    User,
    WorkingHours,
    write_transaction,
)
from booking.models.types import utcnow
from booking.services.passwords import hash_password

SPECIALTIES = ["General Practice", "Dentistry", "Physiotherapy", "Dermatology", "Paediatrics"]

# name, minutes, price in cents, approves itself, description
SERVICES = [
    ("General consultation", 20, 4500, False, "A visit with a general practitioner for a new concern."),
    ("Follow-up visit", 15, 3000, True, "A short visit to review progress or results."),
    ("Vaccination", 15, 2500, True, "Seasonal and travel vaccines."),
    ("Dental check-up", 30, 6000, False, "Examination of teeth and gums, with advice."),
    ("Teeth cleaning", 45, 8000, False, "Professional cleaning and polishing."),
    ("Physiotherapy session", 60, 7000, False, "Assessment and treatment of muscles and joints."),
    ("Skin check", 30, 9000, False, "A full examination of moles and skin changes."),
    ("Child wellness visit", 30, 5000, False, "Growth, development and vaccination review for children."),
]

WEEKDAY_DAY = [(time(9), time(17))]
WEEKDAY_WITH_LUNCH = [(time(8, 30), time(12, 30)), (time(13, 30), time(17, 30))]


@dataclass(frozen=True)
class DemoProvider:
    email: str
    name: str
    specialty: str
    services: tuple[str, ...]
    hours: list[tuple[time, time]]
    license_number: str
    years: int
    bio: str
    buffer_after: int = 0
    languages: str = "English"
    location: str | None = None  # None: at the clinic's address


PROVIDERS = [
    DemoProvider("staff1@demo.test", "Dr Amelia Hart", "General Practice",
                 ("General consultation", "Follow-up visit", "Vaccination"), WEEKDAY_WITH_LUNCH, "GMC-7051234", 14,
                 "Family doctor with a special interest in preventive care.", languages="English, Welsh"),
    DemoProvider("staff2@demo.test", "Dr Rahul Mehta", "Dentistry", ("Dental check-up", "Teeth cleaning"),
                 WEEKDAY_WITH_LUNCH, "GDC-118822", 9, "Calm, thorough dentistry for anxious patients.", buffer_after=5,
                 languages="English, Hindi, Gujarati", location="Dental suite, ground floor"),
    DemoProvider("staff3@demo.test", "Sofia Lindqvist", "Physiotherapy", ("Physiotherapy session",), WEEKDAY_DAY,
                 "HCPC-PH99812", 11, "Sports injuries and back pain.", languages="English, Swedish",
                 location="Physiotherapy gym, the annexe behind the main building"),
    DemoProvider("staff4@demo.test", "Dr Kwame Boateng", "Dermatology", ("Skin check", "Follow-up visit"),
                 WEEKDAY_DAY, "GMC-6623410", 17, "Skin cancer screening and eczema care."),
    DemoProvider("staff5@demo.test", "Dr Chloe Martin", "Paediatrics", ("Child wellness visit", "Vaccination"),
                 WEEKDAY_WITH_LUNCH, "GMC-7420077", 7, "Children from newborns to teenagers.", languages="English, French"),
    DemoProvider("staff6@demo.test", "Dr Tomasz Nowak", "General Practice",
                 ("General consultation", "Follow-up visit"), WEEKDAY_DAY, "GMC-7733905", 5,
                 "Men's health and chronic conditions.", languages="English, Polish"),
]

PATIENTS = [
    ("Oliver Bennett", "+44 7700 900101"), ("Amara Okafor", "+44 7700 900102"), ("Liam O'Connor", "+44 7700 900103"),
    ("Priya Sharma", "+44 7700 900104"), ("Noah Williams", "+44 7700 900105"), ("Zoë Fischer", "+44 7700 900106"),
    ("Mateo García", "+44 7700 900107"), ("Hannah Schmidt", "+44 7700 900108"), ("Yusuf Demir", "+44 7700 900109"),
    ("Grace Thompson", "+44 7700 900110"), ("Ethan Clarke", "+44 7700 900111"), ("Mei Lin", "+44 7700 900112"),
]

#: What patients write when they book, by specialty (None: they wrote nothing).
REASONS = {
    "General Practice": ["Persistent cough", "Annual check", "Follow-up on blood test", "Headaches", None],
    "Dentistry": ["Toothache on the left side", "Bleeding gums", "Six-month check", None],
    "Physiotherapy": ["Knee pain after running", "Back stiffness", "Shoulder after surgery", None],
    "Dermatology": ["Rash on forearm", "A mole that changed", "Eczema flare-up", None],
    "Paediatrics": ["Two-year check", "Travel vaccines", "Recurring ear pain", None],
}

ADMIN_EMAIL = "admin@demo.test"


@dataclass
class SeedReport:
    created_users: int = 0
    created_appointments: int = 0


def seed_demo(password: str, clinic_zone: str, now: datetime | None = None) -> SeedReport:
    """Create (or complete) the demo clinic in one transaction."""
    report = SeedReport()
    password_hash = hash_password(password)
    with write_transaction():
        specialties = {name: _get_or_create(Specialty, name=name) for name in SPECIALTIES}
        services = {}
        for name, minutes, price, auto, description in SERVICES:
            services[name] = _get_or_create(
                Service, name=name,
                defaults=dict(duration_min=minutes, price_cents=price, auto_approve=auto, description=description),
            )
        _user(ADMIN_EMAIL, "Ada Admin", Role.ADMIN, password_hash, report)
        providers = []
        for spec in PROVIDERS:
            user = _user(spec.email, spec.name, Role.STAFF, password_hash, report)
            provider = user.provider or Provider(user=user, timezone=clinic_zone)
            if provider.id is None:
                provider.specialty = specialties[spec.specialty]
                provider.services = [services[s] for s in spec.services]
                provider.license_number, provider.years_experience, provider.bio = spec.license_number, spec.years, spec.bio
                provider.buffer_after_min = spec.buffer_after
                provider.languages, provider.location = spec.languages, spec.location
                provider.working_hours = [
                    WorkingHours(weekday=day, start_time=start, end_time=end)
                    for day in range(5) for start, end in spec.hours
                ]
                db.session.add(provider)
            providers.append(provider)
        patients = []
        for number, (name, phone) in enumerate(PATIENTS, start=1):
            patient = _user(f"patient{number}@demo.test", name, Role.PATIENT, password_hash, report, phone=phone)
            if patient.profile is None:
                patient.profile = PatientProfile(date_of_birth=date(1950 + number * 4, number % 12 + 1, number * 2))
            patients.append(patient)
        db.session.flush()
        if not _has_demo_appointments(patients):
            report.created_appointments = _make_appointments(providers, patients, now or utcnow())
    return report


def _get_or_create(model, defaults=None, **key):  # type: ignore[no-untyped-def]
    found = db.session.scalar(sa.select(model).filter_by(**key))
    if found is None:
        found = model(**key, **(defaults or {}))
        db.session.add(found)
    return found


def _user(email: str, name: str, role: Role, password_hash: str, report: SeedReport, phone: str | None = None) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=name, role=role.value, password_hash=password_hash, phone=phone,
                    email_verified_at=utcnow())
        db.session.add(user)
        report.created_users += 1
    return user


def _has_demo_appointments(patients: list[User]) -> bool:
    ids = [p.id for p in patients]
    return bool(db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(Appointment.patient_id.in_(ids))))


def _make_appointments(providers: list[Provider], patients: list[User], now: datetime) -> int:
    """Three weeks back and three weeks ahead, a few visits a day, never overlapping anyone."""
    rng = random.Random(20261121)
    taken: dict[int, list[tuple[datetime, datetime]]] = {}  # per provider and per patient (negative key)
    created = 0
    for provider in providers:
        zone = ZoneInfo(provider.timezone)
        today = now.astimezone(zone).date()
        for offset in range(-21, 22):
            day = today + timedelta(days=offset)
            blocks = [wh for wh in provider.working_hours if wh.weekday == day.weekday()]
            if not blocks:
                continue
            for _ in range(rng.randint(1, 3)):
                service = rng.choice(provider.services)
                block = rng.choice(blocks)
                start_local = datetime.combine(day, block.start_time, zone)
                step = service.duration_min
                slots = int((datetime.combine(day, block.end_time, zone) - start_local).total_seconds() // 60) // step
                start = (start_local + timedelta(minutes=step * rng.randrange(slots))).astimezone(now.tzinfo)
                end = start + timedelta(minutes=service.duration_min)
                patient = rng.choice(patients)
                if start < now + timedelta(hours=3) and start > now - timedelta(hours=1):
                    continue  # nothing in the hours around now: it would look odd as past or future
                if _clashes(taken, provider.id, start, end) or _clashes(taken, -patient.id, start, end):
                    continue
                status = _status_for(start, now, rng, provider, offset)
                if service.auto_approve and status is Status.PENDING:
                    status = Status.APPROVED  # such services never wait for staff
                if status in HOLDS_TIME:
                    taken.setdefault(provider.id, []).append((start, end))
                    taken.setdefault(-patient.id, []).append((start, end))
                reason = rng.choice(REASONS[provider.specialty.name])
                _add_appointment(provider, service, patient, start, end, status, reason, now, rng)
                created += 1
    return created


def _clashes(taken: dict[int, list[tuple[datetime, datetime]]], key: int, start: datetime, end: datetime) -> bool:
    return any(s < end + timedelta(minutes=10) and start < e + timedelta(minutes=10) for s, e in taken.get(key, []))


def _status_for(start: datetime, now: datetime, rng: random.Random, provider: Provider, offset: int) -> Status:
    if start < now:
        return rng.choices([Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED, Status.REJECTED], [70, 10, 12, 8])[0]
    if provider.user.email == "staff1@demo.test" and offset <= 10:
        return rng.choices([Status.PENDING, Status.APPROVED, Status.CANCELLED], [60, 30, 10])[0]
    return rng.choices([Status.PENDING, Status.APPROVED, Status.CANCELLED, Status.REJECTED], [30, 55, 10, 5])[0]


def _add_appointment(provider, service, patient, start, end, status, reason, now, rng):  # type: ignore[no-untyped-def]
    created_at = min(start, now) - timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 600))
    appointment = Appointment(
        provider=provider, service=service, patient=patient, start_at=start, end_at=end,
        status=status.value, reason=reason, created_at=created_at, updated_at=created_at,
    )
    appointment.events.append(
        AppointmentEvent(kind="created", actor=patient, to_status=Status.PENDING.value, to_start_at=start,
                         created_at=created_at)
    )
    if status is not Status.PENDING:
        actor = patient if status is Status.CANCELLED else provider.user
        reason_text = {Status.REJECTED: "The provider is not available for this kind of visit.",
                       Status.CANCELLED: "Plans changed."}.get(status)
        steps = [Status.APPROVED, status] if status in (Status.COMPLETED, Status.NO_SHOW) else [status]
        previous = Status.PENDING
        for step in steps:
            appointment.events.append(
                AppointmentEvent(kind="status", actor=actor, from_status=previous.value, to_status=step.value,
                                 reason=reason_text if step is status else None,
                                 created_at=created_at + timedelta(hours=2))
            )
            previous = step
    db.session.add(appointment)
