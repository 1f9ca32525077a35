"""Read queries the pages share; writes live in the services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models.appointment import Appointment
from booking.models.clinic import Provider
from booking.models.user import User


def bookable_provider_ids() -> sa.Select[tuple[int]]:
    """The providers patients can book: switched on, and so is their staff account."""
    return sa.select(Provider.id).join(Provider.user).where(Provider.active.is_(True), User.active.is_(True))


def active_providers() -> sa.Select[tuple[Provider]]:
    return (
        sa.select(Provider)
        .join(Provider.user)
        .where(Provider.active.is_(True), User.active.is_(True))
        .options(
            selectinload(Provider.services), selectinload(Provider.specialty), selectinload(Provider.user),
            selectinload(Provider.working_hours),
        )
        .order_by(User.full_name)
    )


def provider_ids_of(user: User) -> list[int] | None:
    """The providers a user works as; None means all (admins)."""
    if user.role == Role.ADMIN.value:
        return None
    return [p.id for p in db.session.scalars(sa.select(Provider).where(Provider.user_id == user.id))]


def pending_requests(user: User) -> sa.Select[tuple[Appointment]]:
    """The approval queue of `user`, oldest request first."""
    query = sa.select(Appointment).where(Appointment.status == Status.PENDING.value)
    ids = provider_ids_of(user)
    if ids is not None:
        query = query.where(Appointment.provider_id.in_(ids))
    return query.options(*appointment_details()).order_by(Appointment.created_at, Appointment.id)


def pending_count(user: User) -> int:
    query = pending_requests(user).order_by(None).options()
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def appointment_details() -> list:  # type: ignore[type-arg]
    """Eager loads for showing an appointment with its people, service and intake answers."""
    return [
        selectinload(Appointment.patient),
        selectinload(Appointment.provider).selectinload(Provider.user),
        selectinload(Appointment.service),
        selectinload(Appointment.intake_answers),
    ]


def contains(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive "column contains text", with %, _ and \\ in the text taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def standing(now: datetime) -> sa.ColumnElement[bool]:
    """An appointment that still stands: it holds its time (pending or approved) and is not over yet.

    A cancelled or declined appointment no longer stands even when its date is ahead, so a patient's
    Upcoming list does not show it; it belongs to their history.
    """
    return sa.and_(Appointment.status.in_([s.value for s in HOLDS_TIME]), Appointment.end_at >= now)


def patient_upcoming(patient_id: int, now: datetime, limit: int) -> list[Appointment]:
    """A patient's standing appointments, soonest first, at most `limit` of them."""
    return list(db.session.scalars(
        sa.select(Appointment).where(Appointment.patient_id == patient_id, standing(now))
        .options(*appointment_details(), selectinload(Appointment.events))
        .order_by(Appointment.start_at, Appointment.id).limit(limit)
    ))


@dataclass(frozen=True)
class HistoryPage:
    """One page of the history: `per_page` appointments after skipping `(number - 1) * per_page`."""

    items: list[Appointment]
    number: int
    has_next: bool


def patient_history(patient_id: int, now: datetime, number: int, per_page: int) -> HistoryPage:
    """Page `number` of everything of a patient's that no longer stands, newest first.

    One more row than the page shows says whether there is a next page, without counting them all, and
    the (patient, start) index keeps each page bounded whatever the length of the history.
    """
    rows = list(db.session.scalars(
        sa.select(Appointment).where(Appointment.patient_id == patient_id, sa.not_(standing(now)))
        .options(*appointment_details(), selectinload(Appointment.events))
        .order_by(Appointment.start_at.desc(), Appointment.id.desc())
        .offset((number - 1) * per_page).limit(per_page + 1)
    ))
    return HistoryPage(rows[:per_page], number, len(rows) > per_page)
