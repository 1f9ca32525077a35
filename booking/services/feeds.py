"""Private calendar feeds: a secret address per person that calendar apps subscribe to.

Patients see their own appointments; staff (and admins who work as a provider) see their providers'.
The address is the only key, so it is long and random, looked up exactly, and renewed on request,
which revokes the old one. Cancelled and declined appointments are left out: a subscribed calendar
drops an event that disappears from the feed.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider, User
from booking.models.queries import appointment_details
from booking.models.types import utcnow
from booking.services.ics import feed_ics

#: How far back and ahead a feed reaches: enough for a calendar, bounded for a busy provider.
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=400)
SHOWN = (Status.PENDING.value, Status.APPROVED.value, Status.COMPLETED.value, Status.NO_SHOW.value)
MIN_TOKEN_LENGTH = 32

OWNER = sa.select(User).where(User.calendar_token == sa.bindparam("token"), User.active.is_(True),
                              User.deleted_at.is_(None))


def feed_owner(token: str) -> User | None:
    if len(token) < MIN_TOKEN_LENGTH:
        return None
    return db.session.scalar(OWNER, {"token": token})


def feed_for(user: User, clinic_name: str) -> str:
    now = utcnow()
    query = (sa.select(Appointment).options(*appointment_details())
             .where(Appointment.status.in_(SHOWN), Appointment.end_at >= now - FEED_PAST,
                    Appointment.start_at <= now + FEED_AHEAD)
             .order_by(Appointment.start_at))
    if user.role == Role.PATIENT.value:
        appointments = db.session.scalars(query.where(Appointment.patient_id == user.id)).all()
        events = [(a, f"{a.service.name} with {a.provider.name}{_pending(a)}") for a in appointments]
    else:
        mine = sa.select(Provider.id).where(Provider.user_id == user.id)
        appointments = db.session.scalars(query.where(Appointment.provider_id.in_(mine))).all()
        events = [(a, f"{a.service.name}: {a.patient.full_name}{_pending(a)}") for a in appointments]
    return feed_ics(f"{clinic_name}: {user.full_name}", events)


def _pending(appointment: Appointment) -> str:
    return " (awaiting confirmation)" if appointment.status == Status.PENDING.value else ""
