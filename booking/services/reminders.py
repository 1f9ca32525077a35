"""Reminders a day (configurable) before approved appointments: each exactly once per start time.

One UPDATE marks the due appointments as reminded for their current start and returns them, in the
same transaction that queues the e-mails: two runs at once cannot both take an appointment, a
cancelled one is never due, and a moved one is due again for its new time.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, write_transaction
from booking.models.types import utcnow
from booking.services import notify


def queue_due_reminders() -> int:
    now = utcnow()
    ahead = timedelta(hours=current_app.config["REMINDER_HOURS"])
    with write_transaction():
        due = db.session.execute(
            sa.update(Appointment)
            .where(
                Appointment.status == Status.APPROVED.value,
                Appointment.start_at > now,
                Appointment.start_at <= now + ahead,
                sa.or_(Appointment.reminded_for.is_(None), Appointment.reminded_for != Appointment.start_at),
            )
            .values(reminded_for=Appointment.start_at)
            .returning(Appointment.id)
            .execution_options(synchronize_session=False)
        ).scalars().all()
        for appointment in db.session.scalars(sa.select(Appointment).where(Appointment.id.in_(due))):
            notify.reminder(appointment)
    return len(due)
