"""The services check who acts, whatever the route in front of them did."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import AppointmentNote, Service, Specialty, TimeOff, WorkingHours
from booking.services import management, notes, schedule
from booking.services.errors import Forbidden
from tests.booking_helpers import everyday_provider
from tests.factories import make_appointment, make_user


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    mine, theirs = everyday_provider(), everyday_provider()
    return mine, theirs, make_user(Role.PATIENT), make_appointment(provider=mine)


def counts() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
                 (WorkingHours, TimeOff, AppointmentNote, Service, Specialty))


def test_staff_of_another_provider_and_patients_change_nothing(world):  # type: ignore[no-untyped-def]
    mine, theirs, patient, appointment = world
    other_staff_id, patient_id, provider_id = theirs.user_id, patient.id, mine.id
    block_id = mine.working_hours[0].id
    soon = datetime.now(timezone.utc) + timedelta(days=40)
    before = counts()
    attempts = [
        lambda actor: schedule.add_block(actor, provider_id, 6, time(18), time(19)),
        lambda actor: schedule.change_block(actor, provider_id, block_id, 0, time(6), time(7)),
        lambda actor: schedule.remove_block(actor, provider_id, block_id),
        lambda actor: schedule.add_time_off(actor, provider_id, soon, soon + timedelta(hours=2), "x"),
        lambda actor: notes.add_note(actor, appointment.id, "Not yours to write"),
        lambda actor: management.save_specialty(actor, None, "Forged"),
        lambda actor: management.save_service(actor, None, name="Forged", duration_min=30, price_cents=100,
                                               description=None, auto_approve=True, active=True),
        lambda actor: management.set_active(actor, provider_id, False),
    ]
    for attempt in attempts:
        for actor in (other_staff_id, patient_id):
            with pytest.raises(Forbidden):
                attempt(actor)
    assert counts() == before


def test_the_providers_own_staff_and_admins_may(world):  # type: ignore[no-untyped-def]
    mine, _, _, appointment = world
    admin = make_user(Role.ADMIN)
    blocks, _, notes_before, _, specialties = counts()
    schedule.add_block(mine.user_id, mine.id, 6, time(18), time(19))
    notes.add_note(mine.user_id, appointment.id, "Seen")
    notes.add_note(admin.id, appointment.id, "Checked")
    management.save_specialty(admin.id, None, "New specialty")
    after = counts()
    assert (after[0], after[2], after[4]) == (blocks + 1, notes_before + 2, specialties + 1)
