"""The services check who acts, whatever the route in front of them did."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import (
    Appointment, AppointmentEvent, AppointmentNote, OutboxMessage, Provider, Service, Specialty, TimeOff, User,
    WorkingHours,
)
from booking.services import booking, decisions, erasure, management, notes, profile, schedule
from booking.services.errors import Forbidden, Invalid, NotFound
from booking.services.permissions import NOT_YOURS
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user


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


# Every service that takes the acting person's id, called directly with each kind of wrong actor. The
# routes check first; these tests make sure the services refuse by themselves, with the reason, and write
# nothing, so a route that forgot its check still cannot let the wrong person change anything.

ACCOUNT_CANNOT = "Your account cannot do this."
ADMINS_ONLY = "Only an administrator may do this."
NO_SUCH_APPOINTMENT = "There is no such appointment."
PATIENTS_ONLY = "Only patients with an active account can book."
WRONG_ACTORS = ("other_patient", "other_staff", "switched_off_staff", "switched_off_admin", "deleted", "missing")


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    """A provider whose staff member is switched off, with a pending request, an approved appointment, one
    that has started, a block and a time off; and the wrong people: ids by name, and the ids of the data."""
    admin = make_user(Role.ADMIN)
    mine, theirs = everyday_provider(), everyday_provider()
    patient, other_patient, leaving = make_user(Role.PATIENT), make_user(Role.PATIENT), make_user(Role.PATIENT)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    pending = make_appointment(patient=patient, provider=mine, start_at=local(wall(3, 10)))
    approved = make_appointment(patient=patient, provider=mine, start_at=local(wall(4, 10)), status=Status.APPROVED)
    started = make_appointment(patient=patient, provider=mine, start_at=start - timedelta(hours=2),
                               status=Status.APPROVED)
    off = TimeOff(provider_id=mine.id, start_at=start + timedelta(days=50), end_at=start + timedelta(days=51))
    db.session.add(off)
    db.session.commit()
    switched_off_admin = make_user(Role.ADMIN)
    management.set_active(admin.id, switched_off_admin.id, False)
    management.set_active(admin.id, mine.user_id, False)
    erasure.delete_account(leaving.id, DEFAULT_PASSWORD)
    actors = {"other_patient": other_patient.id, "other_staff": theirs.user_id, "switched_off_staff": mine.user_id,
              "switched_off_admin": switched_off_admin.id, "deleted": leaving.id, "missing": 999_999}
    ids = {"provider": mine.id, "staff": mine.user_id, "patient": patient.id, "pending": pending.id,
           "approved": approved.id, "started": started.id, "block": mine.working_hours[0].id, "off": off.id,
           "service": mine.services[0].id, "specialty": mine.specialty_id, "admin": admin.id}
    return actors, ids


def local(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def everything() -> tuple:
    """What a refused call must leave as it was: every row a service could write, by value."""
    db.session.rollback()
    rows = [sa.select(m) for m in (WorkingHours, TimeOff, AppointmentNote, AppointmentEvent, OutboxMessage)]
    return (
        tuple(db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery())) for q in rows),
        tuple(db.session.execute(sa.select(Appointment.id, Appointment.status, Appointment.start_at)
                                 .order_by(Appointment.id))),
        tuple(db.session.execute(sa.select(User.id, User.active, User.role, User.session_token).order_by(User.id))),
        tuple(db.session.execute(sa.select(Provider.id, Provider.user_id,
                                           Provider.timezone, Provider.active).order_by(Provider.id))),
        tuple(db.session.execute(sa.select(Service.id, Service.name, Service.active).order_by(Service.id))),
        tuple(db.session.execute(sa.select(Specialty.id, Specialty.name).order_by(Specialty.id))),
    )


def provider_fields(ids: dict, timezone_name: str = "Asia/Kathmandu") -> management.ProviderFields:
    return management.ProviderFields(user_id=ids["staff"], specialty_id=None, service_ids=[ids["service"]],
                                     timezone=timezone_name)


def soon(days: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


ON_THE_PROVIDER = {  # require_acting_for: the provider's own staff or an admin
    "add a block": lambda a, i: schedule.add_block(a, i["provider"], 6, time(18), time(19)),
    "change a block": lambda a, i: schedule.change_block(a, i["provider"], i["block"], 0, time(6), time(7)),
    "remove a block": lambda a, i: schedule.remove_block(a, i["provider"], i["block"]),
    "add time off": lambda a, i: schedule.add_time_off(a, i["provider"], soon(40), soon(40) + timedelta(hours=2), "x"),
    "add time off over an approved appointment": lambda a, i: schedule.add_time_off(
        a, i["provider"], soon(1), soon(6), "Away", cancel_clashes=True),
    "remove time off": lambda a, i: schedule.remove_time_off(a, i["provider"], i["off"]),
    "write a note": lambda a, i: notes.add_note(a, i["pending"], "Not yours to write"),
    "write a note for the patient": lambda a, i: notes.add_note(a, i["approved"], "Bring it", visible_to_patient=True),
}

ADMINS_ONLY_CHANGES = {  # require_admin
    "add a specialty": lambda a, i: management.save_specialty(a, None, "Forged"),
    "rename a specialty": lambda a, i: management.save_specialty(a, i["specialty"], "Renamed"),
    "add a service": lambda a, i: management.save_service(a, None, name="Forged", duration_min=30, price_cents=100,
                                                          description=None, auto_approve=True, active=True),
    "change a service": lambda a, i: management.save_service(a, i["service"], name="Renamed", duration_min=30,
                                                             price_cents=1, description=None, auto_approve=True,
                                                             active=False),
    "add a provider": lambda a, i: management.save_provider(a, None, provider_fields(i)),
    "change a provider": lambda a, i: management.save_provider(a, i["provider"], provider_fields(i)),
    "switch an account off": lambda a, i: management.set_active(a, i["patient"], False),
    "switch an account on": lambda a, i: management.set_active(a, i["staff"], True),
    "switch an admin off": lambda a, i: management.set_active(a, i["admin"], False),
}

DECISIONS = {  # decisions._decide: someone who may not decide on it is told it does not exist
    "approve": lambda a, i: decisions.approve(a, i["pending"]),
    "reject": lambda a, i: decisions.reject(a, i["pending"], "Full"),
    "cancel": lambda a, i: decisions.cancel_by_staff(a, i["approved"], "Ill"),
    "mark completed": lambda a, i: decisions.complete(a, i["started"]),
    "mark no-show": lambda a, i: decisions.no_show(a, i["started"]),
}

PATIENTS_OWN = {  # booking: only the appointment's own patient
    "cancel someone else's appointment": lambda a, i: booking.cancel_by_patient(a, i["approved"], None,
                                                                                timedelta(hours=24)),
    "move someone else's appointment": lambda a, i: booking.reschedule_by_patient(
        a, i["pending"], datetime.combine(soon(5).date(), time(11)), timedelta(hours=24)),
}


def refused(attempt, actor_id: int, ids: dict, error: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    before = everything()
    with pytest.raises(error) as raised:
        attempt(actor_id, ids)
    assert type(raised.value) is error and raised.value.message == message
    assert everything() == before


@pytest.mark.parametrize("change", ON_THE_PROVIDER)
def test_only_the_providers_own_active_staff_or_an_admin_change_its_schedule_and_notes(clinic, change):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    for name in WRONG_ACTORS:
        message = NOT_YOURS if name in ("other_patient", "other_staff") else ACCOUNT_CANNOT
        refused(ON_THE_PROVIDER[change], actors[name], ids, Forbidden, message)


@pytest.mark.parametrize("change", ADMINS_ONLY_CHANGES)
def test_only_an_active_admin_manages_the_clinic_and_switches_accounts(clinic, change):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    for name in WRONG_ACTORS:
        message = ADMINS_ONLY if name in ("other_patient", "other_staff") else ACCOUNT_CANNOT
        refused(ADMINS_ONLY_CHANGES[change], actors[name], ids, Forbidden, message)


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_decision_by_someone_who_may_not_decide_finds_no_such_appointment(clinic, decision):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    for name in WRONG_ACTORS:
        refused(DECISIONS[decision], actors[name], ids, NotFound, NO_SUCH_APPOINTMENT)


@pytest.mark.parametrize("change", PATIENTS_OWN)
def test_only_its_patient_cancels_or_moves_an_appointment(clinic, change):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    for actor_id in [*(actors[name] for name in WRONG_ACTORS), ids["admin"]]:
        refused(PATIENTS_OWN[change], actor_id, ids, NotFound, NO_SUCH_APPOINTMENT)


def test_only_an_active_patient_books(clinic):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    db.session.rollback()
    bookable = everyday_provider()
    provider_id, service_id = bookable.id, bookable.services[0].id
    wall_start = datetime.combine(soon(6).date(), time(10))
    for actor_id in (actors["other_staff"], actors["switched_off_admin"], ids["admin"], actors["deleted"],
                     actors["missing"]):
        refused(lambda a, i: booking.book_appointment(a, provider_id, service_id, wall_start, None), actor_id, ids,
                Forbidden, PATIENTS_ONLY)


def test_a_deleted_account_changes_nothing_of_its_own(clinic):  # type: ignore[no-untyped-def]
    actors, ids = clinic
    gone = actors["deleted"]
    refused(lambda a, i: profile.renew_calendar_token(a), gone, ids, NotFound, "There is no such account.")
    refused(lambda a, i: profile.save_email_preferences(a, set()), gone, ids, NotFound, "There is no such account.")
    refused(lambda a, i: erasure.delete_account(a, DEFAULT_PASSWORD), gone, ids, Invalid, "There is no such account.")
    for staff_or_admin in (ids["staff"], ids["admin"], actors["other_staff"]):
        refused(lambda a, i: erasure.delete_account(a, DEFAULT_PASSWORD), staff_or_admin, ids, Forbidden,
                "Staff and administrator accounts are closed by an administrator.")


def test_the_right_people_pass_the_same_checks(clinic):  # type: ignore[no-untyped-def]
    """The refusals above are not a service that refuses everyone: an admin and the patient get through."""
    actors, ids = clinic
    admin = ids["admin"]
    schedule.add_block(admin, ids["provider"], 6, time(18), time(19))
    assert notes.add_note(admin, ids["pending"], "Checked")
    assert decisions.approve(admin, ids["pending"]).status is Status.APPROVED
    assert decisions.complete(admin, ids["started"]).status is Status.COMPLETED
    management.set_active(admin, ids["staff"], True)
    assert decisions.cancel_by_staff(ids["staff"], ids["approved"], "Ill").status is Status.CANCELLED
    assert management.save_specialty(admin, None, "Allowed").name == "Allowed"
    db.session.rollback()
    assert db.session.get(User, ids["staff"]).active
