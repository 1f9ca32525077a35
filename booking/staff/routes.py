"""The staff workspace: the approval queue and the schedule."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME
from booking.extensions import db
from booking.models import Appointment
from booking.models.queries import appointment_details, pending_requests, provider_ids_of
from booking.models.types import utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/requests")
@role_required(Role.STAFF, Role.ADMIN)
def requests():  # type: ignore[no-untyped-def]
    queue = db.session.scalars(pending_requests(current_user)).all()
    return render_template("staff/requests.html", requests=queue, now=utcnow())


@bp.get("/schedule")
@role_required(Role.STAFF, Role.ADMIN)
def schedule():  # type: ignore[no-untyped-def]
    query = (
        sa.select(Appointment)
        .where(Appointment.status.in_([s.value for s in HOLDS_TIME]), Appointment.end_at >= utcnow())
        .options(*appointment_details())
        .order_by(Appointment.start_at)
        .limit(200)
    )
    ids = provider_ids_of(current_user)
    if ids is not None:
        query = query.where(Appointment.provider_id.in_(ids))
    return render_template("staff/schedule.html", appointments=db.session.scalars(query).all())
