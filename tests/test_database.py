"""The database itself refuses what the model forbids, whatever the application code does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User
from tests.factories import make_appointment, make_provider, make_user

START = datetime(2030, 3, 4, 10, 0, tzinfo=timezone.utc)


def raw_insert_appointment(**overrides):  # type: ignore[no-untyped-def]
    """Insert with plain SQL, bypassing the ORM and every Python-side check."""
    values = {"status": "pending", "start_at": START, "end_at": START + timedelta(minutes=30), **overrides}
    db.session.execute(sa.insert(Appointment.__table__).values(created_at=START, updated_at=START, **values))
    db.session.commit()


@pytest.fixture
def setting(app):  # type: ignore[no-untyped-def]
    provider = make_provider()
    patient = make_user(Role.PATIENT)
    return {"provider_id": provider.id, "service_id": provider.services[0].id, "patient_id": patient.id}


def test_a_valid_raw_insert_is_accepted(setting):  # type: ignore[no-untyped-def]
    raw_insert_appointment(**setting)
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"end_at": START - timedelta(minutes=5)}, id="ends-before-start"),
        pytest.param({"end_at": START}, id="zero-length"),
        pytest.param({"status": "maybe"}, id="unknown-status"),
        pytest.param({"reason": "x" * 501}, id="reason-too-long"),
        pytest.param({"provider_id": 999_999}, id="missing-provider"),
        pytest.param({"patient_id": None}, id="no-patient"),
    ],
)
def test_the_database_refuses_a_bad_appointment(setting, overrides):  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError):
        raw_insert_appointment(**{**setting, **overrides})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"email": "Mixed@Example.test"}, id="email-not-lower-case"),
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"email": "taken@example.test"}, id="duplicate-email"),
    ],
)
def test_the_database_refuses_a_bad_user(app, values):  # type: ignore[no-untyped-def]
    make_user(Role.PATIENT, email="taken@example.test")
    row = {"email": "new@example.test", "full_name": "New", "password_hash": "x", "role": "patient",
           "active": True, "created_at": START, **values}
    with pytest.raises(IntegrityError):
        db.session.execute(sa.insert(User.__table__).values(**row))
        db.session.commit()
    db.session.rollback()


def test_naive_datetimes_are_refused(setting):  # type: ignore[no-untyped-def]
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        raw_insert_appointment(**setting, start_at=datetime(2030, 3, 4, 10, 0), end_at=datetime(2030, 3, 4, 11, 0))
    db.session.rollback()


def test_times_come_back_aware_in_utc(app):  # type: ignore[no-untyped-def]
    local = datetime(2030, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    appointment = make_appointment(start_at=local)
    appointment_id = appointment.id
    db.session.expire_all()
    loaded = db.session.get(Appointment, appointment_id)
    assert loaded.start_at == local
    assert loaded.start_at.utcoffset() == timedelta(0)
    assert loaded.start_at.hour == 7


@pytest.mark.postgres
def test_postgres_refuses_overlapping_time_holding_appointments(app, backend, setting):  # type: ignore[no-untyped-def]
    if backend.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    raw_insert_appointment(**setting, status=Status.APPROVED.value)
    with pytest.raises(IntegrityError, match="ex_appointments_provider_time"):
        raw_insert_appointment(**setting, status=Status.PENDING.value,
                               start_at=START + timedelta(minutes=29), end_at=START + timedelta(minutes=59))
    db.session.rollback()
    # Touching ends do not overlap ('[)' ranges), and appointments that do not hold time may overlap.
    raw_insert_appointment(**setting, start_at=START + timedelta(minutes=30), end_at=START + timedelta(minutes=60))
    raw_insert_appointment(**setting, status=Status.CANCELLED.value)
    raw_insert_appointment(**setting, status=Status.REJECTED.value)
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 4


@pytest.mark.postgres
def test_postgres_refuses_moving_an_appointment_onto_another(app, backend, setting):  # type: ignore[no-untyped-def]
    if backend.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    raw_insert_appointment(**setting, status=Status.APPROVED.value)
    raw_insert_appointment(**setting, status=Status.CANCELLED.value)
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Appointment.__table__).where(Appointment.status == "cancelled").values(status="pending"))
        db.session.commit()
    db.session.rollback()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app, backend):  # type: ignore[no-untyped-def]
    if backend.name != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 1000
