"""Deleting a patient's account: the person goes, the clinic's history stays without them.

Kept: the account row (appointments and their audit trail point at it), with no name, address,
e-mail or password left on it, and every appointment's provider, service, times and statuses.
Erased: the profile, every free text on their appointments (the patient's reasons, the reasons given
for changes, the notes, which may name or describe the person, the answers to intake questions), and
every e-mail to them or about their appointments. Future appointments are cancelled first, and their
providers told without a name.
All of it is one transaction: either the person is gone entirely, or nothing changed.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentNote,
    IntakeAnswer,
    OutboxMessage,
    Provider,
    User,
    write_transaction,
)
from booking.models.types import utcnow
from booking.models.user import new_session_token
from booking.services import notify
from booking.services.errors import Conflict, Forbidden, Invalid
from booking.services.passwords import verify_password

ERASED_NAME = "Deleted account"
CANCEL_REASON = "The patient closed their account."
#: Rounds of locking before giving up, when bookings keep slipping in between the reads and the locks.
ATTEMPTS = 3
#: Not an Argon2 hash, so no password can ever match it.
UNUSABLE_PASSWORD = "!deleted"


def erased_email(user_id: int) -> str:
    """A unique, undeliverable address (.invalid is reserved) that says nothing about the person."""
    return f"deleted-{user_id}@deleted.invalid"


PASSWORD_WRONG = "Your password is not right."


def delete_account(user_id: int, password: str) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise Invalid("There is no such account.")
    if user.role != Role.PATIENT.value:
        raise Forbidden("Staff and administrator accounts are closed by an administrator.")
    if not verify_password(user.password_hash, password):
        raise Invalid(PASSWORD_WRONG, field="password")
    for _ in range(ATTEMPTS):
        try:
            return _delete(user_id)
        except _BookedMeanwhile:
            continue  # a booking slipped in before the locks: once more, with its provider locked too
    raise Conflict("Your appointments changed while we were deleting the account; please try again.")


class _BookedMeanwhile(Exception):
    pass


def _delete(user_id: int) -> None:
    with write_transaction():
        # Locks in the order booking takes them (providers, then the patient), so the two never deadlock.
        providers = _lock_providers(_future_provider_ids(user_id))
        user = _lock_user(user_id)
        if user is None or user.deleted_at is not None:
            raise Invalid("There is no such account.")
        future = _future_appointments(user_id)
        if {a.provider_id for a in future} - providers.keys():
            raise _BookedMeanwhile()
        _erase_traces(user)
        for appointment in future:
            _cancel(appointment, user_id)
        _anonymise(user)
        db.session.flush()
        for appointment in future:
            notify.patient_left(appointment)


def future_appointment_count(user_id: int) -> int:
    """How many appointments deleting the account would cancel (the page says so first)."""
    return db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(*_holds_future(user_id))) or 0


def _future_provider_ids(user_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Appointment.provider_id).where(*_holds_future(user_id))))


def _future_appointments(user_id: int) -> list[Appointment]:
    return list(db.session.scalars(sa.select(Appointment).where(*_holds_future(user_id))
                                   .execution_options(populate_existing=True)))


def _holds_future(user_id: int) -> list[sa.ColumnElement[bool]]:
    return [Appointment.patient_id == user_id, Appointment.status.in_([s.value for s in HOLDS_TIME]),
            Appointment.end_at > utcnow()]


def _lock_providers(ids: set[int]) -> dict[int, Provider]:
    query = sa.select(Provider).where(Provider.id.in_(sorted(ids))).order_by(Provider.id)
    if db.session.get_bind().dialect.name != "sqlite":  # SQLite's write lock already serialises everything
        query = query.with_for_update()
    return {p.id: p for p in db.session.scalars(query.execution_options(populate_existing=True))}


def _lock_user(user_id: int) -> User | None:
    query = sa.select(User).where(User.id == user_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return db.session.scalar(query)


def _erase_traces(user: User) -> None:
    """Free text about the person on their appointments, and every e-mail to or about them."""
    theirs = sa.select(Appointment.id).where(Appointment.patient_id == user.id).scalar_subquery()
    session = db.session
    session.execute(sa.update(Appointment).where(Appointment.patient_id == user.id).values(reason=None),
                    execution_options={"synchronize_session": "fetch"})
    session.execute(sa.update(AppointmentEvent).where(AppointmentEvent.appointment_id.in_(theirs))
                    .values(reason=None), execution_options={"synchronize_session": "fetch"})
    session.execute(sa.delete(AppointmentNote).where(AppointmentNote.appointment_id.in_(theirs)),
                    execution_options={"synchronize_session": "fetch"})
    session.execute(sa.delete(IntakeAnswer).where(IntakeAnswer.appointment_id.in_(theirs)),
                    execution_options={"synchronize_session": "fetch"})
    session.execute(sa.delete(OutboxMessage).where(sa.or_(
        OutboxMessage.user_id == user.id, OutboxMessage.recipient == user.email,
        OutboxMessage.appointment_id.in_(theirs),
    )), execution_options={"synchronize_session": "fetch"})


def _cancel(appointment: Appointment, actor_id: int) -> None:
    appointment.events.append(AppointmentEvent(actor_id=actor_id, kind="status", from_status=appointment.status,
                                               to_status=Status.CANCELLED.value, reason=CANCEL_REASON))
    appointment.status = Status.CANCELLED.value


def _anonymise(user: User) -> None:
    user.profile = None  # delete-orphan: the profile row goes
    user.email = erased_email(user.id)
    user.full_name = ERASED_NAME
    user.phone = None
    user.password_hash = UNUSABLE_PASSWORD + secrets.token_hex(8)
    user.email_verified_at = None
    user.active = False
    user.deleted_at = utcnow()
    user.session_token = new_session_token()  # every session and remember-me cookie ends
    user.calendar_token = None
    for preference in notify.OPTIONAL_EMAILS:
        setattr(user, preference, False)
