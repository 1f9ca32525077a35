"""Real concurrency through the real request path: many patients, one slot, exactly one appointment.

Each contender is a thread with its own test client (its own session, database connection and
transaction), logged in beforehand; a barrier releases them all at once.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models import Appointment
from tests.booking_helpers import ZONE, booking_form, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user

CONTENDERS = 20


def logged_in_clients(app, count: int):  # type: ignore[no-untyped-def]
    clients = []
    for _ in range(count):
        client = app.test_client()
        patient = make_user(Role.PATIENT)
        assert client.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD}).status_code == 303
        clients.append((client, patient))
    return clients


def all_at_once(requests) -> list[int]:  # type: ignore[no-untyped-def]
    """Run the callables at the same moment; return their HTTP statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    guard = threading.Lock()

    def run(request) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        status = request().status_code
        with guard:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return statuses


def holding_at(provider_id: int, start: datetime) -> list[Appointment]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Appointment).where(
        Appointment.provider_id == provider_id,
        Appointment.start_at == start,
        Appointment.status.in_([s.value for s in HOLDS_TIME]),
    )))


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def test_twenty_patients_race_for_one_slot(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    target = wall(3, 10)
    form = booking_form(provider, target)
    clients = logged_in_clients(app, CONTENDERS)

    url = f"/book/{provider.id}"  # evaluated here: the threads have no app context for ORM attributes
    statuses = all_at_once([lambda c=c: c.post(url, data=form) for c, _ in clients])

    assert Counter(statuses) == Counter({303: 1, 409: CONTENDERS - 1})
    assert len(holding_at(provider.id, at(target))) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1


def test_two_reschedules_race_into_one_slot(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    (first, first_patient), (second, second_patient) = logged_in_clients(app, 2)
    mine = make_appointment(patient=first_patient, provider=provider, start_at=at(wall(4, 9)), status=Status.APPROVED)
    theirs = make_appointment(patient=second_patient, provider=provider, start_at=at(wall(5, 9)), status=Status.PENDING)
    target = wall(3, 10)
    first_url, second_url = f"/me/appointments/{mine.id}/reschedule", f"/me/appointments/{theirs.id}/reschedule"

    statuses = all_at_once([
        lambda: first.post(first_url, data={"start": target}),
        lambda: second.post(second_url, data={"start": target}),
    ])

    assert sorted(statuses) == [303, 409]
    [winner] = holding_at(provider.id, at(target))
    db.session.rollback()
    loser = theirs if winner.id == mine.id else mine
    assert db.session.get(Appointment, loser.id).start_at != at(target)  # the loser kept its old time


def test_a_booking_races_a_reschedule(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    (booker, _), (mover, mover_patient) = logged_in_clients(app, 2)
    moving = make_appointment(patient=mover_patient, provider=provider, start_at=at(wall(4, 9)), status=Status.PENDING)
    target = wall(3, 10)
    book_url, form = f"/book/{provider.id}", booking_form(provider, target)
    move_url = f"/me/appointments/{moving.id}/reschedule"

    statuses = all_at_once([
        lambda: booker.post(book_url, data=form),
        lambda: mover.post(move_url, data={"start": target}),
    ])

    assert sorted(statuses) == [303, 409]
    assert len(holding_at(provider.id, at(target))) == 1


def test_one_patient_booking_two_providers_at_once_gets_one(app):  # type: ignore[no-untyped-def]
    """The patient's row is locked too: the same person cannot be double-booked across providers."""
    first, second = everyday_provider(), everyday_provider()
    [(client, patient)] = logged_in_clients(app, 1)
    other = app.test_client()
    with client.session_transaction() as session, other.session_transaction() as copied:
        copied.update(session)
    target = wall(3, 10)
    first_url, first_form = f"/book/{first.id}", booking_form(first, target)
    second_url, second_form = f"/book/{second.id}", booking_form(second, target)
    patient_id = patient.id

    statuses = all_at_once([
        lambda: client.post(first_url, data=first_form),
        lambda: other.post(second_url, data=second_form),
    ])

    assert sorted(statuses) == [303, 409]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(Appointment.patient_id == patient_id)) == 1


def test_deleting_an_account_while_it_books_leaves_no_booking_standing(app):  # type: ignore[no-untyped-def]
    """Whichever comes first, a deleted account holds no time: the booking lands first and the deletion
    cancels it, or the deletion comes first and the booking is refused."""
    providers = [everyday_provider(), everyday_provider()]
    for round_ in range(4):
        [(deleter, patient)] = logged_in_clients(app, 1)
        booker = app.test_client()
        with deleter.session_transaction() as session, booker.session_transaction() as copied:
            copied.update(session)
        provider = providers[round_ % 2]
        url, form = f"/book/{provider.id}", booking_form(provider, wall(3 + round_, 10))
        patient_id = patient.id

        delay = (0, 0.3, 0.1, 0.15)[round_]  # the deletion checks a password first: let it get ahead too

        statuses = all_at_once([
            lambda: time.sleep(delay) or booker.post(url, data=form),
            lambda: deleter.post("/account/delete", data={"password": DEFAULT_PASSWORD, "understood": "y"}),
        ])

        # The booking lands (and is then cancelled), or is refused, or finds its session already ended.
        assert 303 in statuses and set(statuses) <= {302, 303, 403}
        db.session.rollback()
        holding = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(
            Appointment.patient_id == patient_id, Appointment.status.in_([s.value for s in HOLDS_TIME])))
        assert holding == 0
