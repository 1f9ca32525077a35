"""The serialising transaction: many requests race for one slot, exactly one gets it.

Each contender is a real thread with its own app context, database connection and transaction. They
all read "is the slot free?" before any of them writes, which is the race a check-then-insert loses.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models import Appointment, ProviderNotFound, User, provider_transaction
from tests.factories import make_provider, make_user

CONTENDERS = 6
START = datetime(2031, 5, 6, 9, 0, tzinfo=timezone.utc)
READ_WRITE_GAP_S = 0.5  # long enough that every contender has read before the first one writes


def overlapping(provider_id: int, start: datetime, end: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Appointment.id)).where(
            Appointment.provider_id == provider_id,
            Appointment.status.in_([s.value for s in HOLDS_TIME]),
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    )


def race(app, provider_id, service_id, patient_ids, locked: bool) -> Counter:  # type: ignore[no-untyped-def]
    """Run CONTENDERS check-then-insert attempts at once; count what happened to each."""
    barrier = threading.Barrier(CONTENDERS)
    outcomes: Counter = Counter()
    guard = threading.Lock()

    def contender(patient_id: int) -> None:
        with app.app_context():
            end = START + timedelta(minutes=30)
            transaction = provider_transaction(provider_id) if locked else unlocked_transaction()
            barrier.wait()
            try:
                with transaction:
                    taken = overlapping(provider_id, START, end)
                    time.sleep(READ_WRITE_GAP_S)
                    if taken:
                        outcome = "refused"
                    else:
                        db.session.add(Appointment(patient_id=patient_id, provider_id=provider_id,
                                                   service_id=service_id, start_at=START, end_at=end,
                                                   status=Status.PENDING.value))
                        db.session.flush()
                        outcome = "booked"
            except DBAPIError as error:  # "database is locked", exclusion violation, ...
                outcome = f"error: {type(error.orig).__name__}"
            finally:
                db.session.remove()
            with guard:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=contender, args=(pid,)) for pid in patient_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a contender hung"
    return outcomes


@contextlib.contextmanager
def unlocked_transaction():  # type: ignore[no-untyped-def]
    """What a naive service would do: read, then write, in a plain transaction."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@pytest.fixture
def contest(app):  # type: ignore[no-untyped-def]
    provider = make_provider()
    patients = [make_user(Role.PATIENT).id for _ in range(CONTENDERS)]
    return provider.id, provider.services[0].id, patients


def test_exactly_one_contender_books_the_slot(app, contest):  # type: ignore[no-untyped-def]
    provider_id, service_id, patients = contest
    outcomes = race(app, provider_id, service_id, patients, locked=True)
    assert outcomes == Counter({"booked": 1, "refused": CONTENDERS - 1})
    db.session.rollback()
    assert overlapping(provider_id, START, START + timedelta(minutes=30)) == 1


def test_without_the_lock_the_race_goes_wrong(app, contest):  # type: ignore[no-untyped-def]
    """The control: the same race without the helper does not end in clean refusals.

    SQLite fails the late writers ("database is locked"), PostgreSQL's exclusion constraint rejects
    them; either way users would see errors, which is what the lock turns into friendly refusals.
    """
    provider_id, service_id, patients = contest
    outcomes = race(app, provider_id, service_id, patients, locked=False)
    assert outcomes["booked"] == 1
    # A contender delayed past the first commit would read the booking and refuse cleanly; with every
    # contender reading within the gap that does not happen, but one late thread must not fail CI.
    assert sum(n for outcome, n in outcomes.items() if outcome.startswith("error")) >= CONTENDERS // 2
    db.session.rollback()
    assert overlapping(provider_id, START, START + timedelta(minutes=30)) == 1


def test_other_providers_are_not_serialised_on_postgres(app, backend):  # type: ignore[no-untyped-def]
    """Holding one provider's lock does not block a booking for another (row locks, not a table lock)."""
    if backend.name != "postgresql":
        pytest.skip("SQLite has one write lock for the whole database")
    first, second = make_provider(), make_provider()
    entered = threading.Event()
    with provider_transaction(first.id):
        def other() -> None:
            with app.app_context():
                with provider_transaction(second.id):
                    entered.set()
                db.session.remove()

        thread = threading.Thread(target=other)
        thread.start()
        assert entered.wait(timeout=10), "a lock on one provider blocked another"
        thread.join(timeout=10)


def test_the_same_provider_waits_for_the_lock(app):  # type: ignore[no-untyped-def]
    provider = make_provider()
    provider_id = provider.id
    entered = threading.Event()
    with provider_transaction(provider_id):
        def second() -> None:
            with app.app_context():
                with provider_transaction(provider_id):
                    entered.set()
                db.session.remove()

        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(timeout=0.5), "a second transaction got the provider's lock while it was held"
    assert entered.wait(timeout=10), "the second transaction never got the lock after the first ended"
    thread.join(timeout=10)


def test_a_missing_provider_is_reported(app):  # type: ignore[no-untyped-def]
    with pytest.raises(ProviderNotFound):
        with provider_transaction(424242):
            pass


def test_an_error_inside_rolls_everything_back(app, contest):  # type: ignore[no-untyped-def]
    provider_id, service_id, patients = contest
    with pytest.raises(RuntimeError):
        with provider_transaction(provider_id):
            db.session.add(Appointment(patient_id=patients[0], provider_id=provider_id, service_id=service_id,
                                       start_at=START, end_at=START + timedelta(minutes=30)))
            db.session.flush()
            raise RuntimeError("something failed after the write")
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_unsaved_changes_are_not_silently_dropped(app, contest):  # type: ignore[no-untyped-def]
    provider_id, *_ = contest
    db.session.add(User(email="x@example.test", full_name="X", role="patient", password_hash="x"))
    with pytest.raises(RuntimeError, match="unsaved or uncommitted changes"):
        with provider_transaction(provider_id):
            pass
    db.session.rollback()


def test_flushed_but_uncommitted_writes_are_not_silently_dropped(app, contest):  # type: ignore[no-untyped-def]
    provider_id, *_ = contest
    db.session.add(User(email="y@example.test", full_name="Y", role="patient", password_hash="x"))
    db.session.flush()
    with pytest.raises(RuntimeError, match="uncommitted changes"):
        with provider_transaction(provider_id):
            pass
    db.session.rollback()
    with provider_transaction(provider_id):  # after the rollback the session is clean again
        pass
