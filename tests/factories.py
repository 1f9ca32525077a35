"""Small factories for test data; each commits, so the data is visible to other connections."""
from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta, timezone

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import (
    Appointment,
    PatientProfile,
    Provider,
    Service,
    Specialty,
    User,
    WorkingHours,
)
from booking.services.passwords import hash_password

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _fresh() -> None:
    """End the test session's transaction before building: it may hold an old SQLite read snapshot
    from before a request wrote, and writing from inside that would fail with "database is locked"."""
    db.session.commit()


def _save(*objects: object) -> None:
    db.session.add_all(objects)
    db.session.commit()


def _hash(password: str) -> str:
    if password not in _hash_cache:  # Argon2 is slow on purpose; tests reuse one hash per password
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_user(role: Role | str = Role.PATIENT, email: str | None = None, password: str = DEFAULT_PASSWORD,
              full_name: str | None = None, active: bool = True) -> User:
    _fresh()
    n = next(_counter)
    role = Role(role)
    user = User(
        email=email or f"{role.value}{n}@example.test",
        full_name=full_name or f"{role.value.title()} Number{n}",
        role=role.value,
        password_hash=_hash(password),
        active=active,
        email_verified_at=datetime.now(timezone.utc),
    )
    if role is Role.PATIENT:
        user.profile = PatientProfile()
    _save(user)
    return user


def make_service(name: str | None = None, duration_min: int = 30, price_cents: int = 5000, auto_approve: bool = False) -> Service:
    _fresh()
    service = Service(name=name or f"Service {next(_counter)}", duration_min=duration_min,
                      price_cents=price_cents, auto_approve=auto_approve)
    _save(service)
    return service


def make_provider(user: User | None = None, services: list[Service] | None = None,
                  timezone_name: str = "Europe/London", weekdays: range = range(5)) -> Provider:
    _fresh()
    user = user or make_user(Role.STAFF)
    specialty = Specialty(name=f"Specialty {next(_counter)}")
    provider = Provider(
        user=user, specialty=specialty, timezone=timezone_name,
        services=services if services is not None else [make_service()],
        working_hours=[WorkingHours(weekday=d, start_time=time(9), end_time=time(17)) for d in weekdays],
    )
    _save(provider)
    return provider


def make_appointment(patient: User | None = None, provider: Provider | None = None, service: Service | None = None,
                     start_at: datetime | None = None, status: Status = Status.PENDING) -> Appointment:
    _fresh()
    provider = provider or make_provider()
    service = service or provider.services[0]
    patient = patient or make_user(Role.PATIENT)
    if start_at is None:  # a fresh hour each time, so defaults never collide on one provider
        start_at = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(
            days=3, hours=next(_counter)
        )
    appointment = Appointment(
        patient=patient, provider=provider, service=service, start_at=start_at,
        end_at=start_at + timedelta(minutes=service.duration_min), status=status.value,
    )
    _save(appointment)
    return appointment
