"""The patient's side: find a provider, and the patient's own appointments."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import current_user

from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment
from booking.models.queries import active_providers, appointment_details

bp = Blueprint("patient", __name__)


@bp.get("/book/")
@role_required(Role.PATIENT)
def providers():  # type: ignore[no-untyped-def]
    found = db.session.scalars(active_providers()).all()
    return render_template("patient/providers.html", providers=found)


@bp.get("/me/appointments")
@role_required(Role.PATIENT)
def appointments():  # type: ignore[no-untyped-def]
    mine = db.session.scalars(
        sa.select(Appointment)
        .where(Appointment.patient_id == current_user.id)
        .options(*appointment_details())
        .order_by(Appointment.start_at.desc())
    ).all()
    return render_template("patient/appointments.html", appointments=mine)


@bp.get("/me/appointments/<id:appointment_id>")
@role_required(Role.PATIENT)
def appointment(appointment_id: int):  # type: ignore[no-untyped-def]
    return render_template("patient/appointment.html", appointment=get_own_appointment(appointment_id))


def get_own_appointment(appointment_id: int) -> Appointment:
    """The current patient's appointment, or 404: someone else's is not acknowledged to exist."""
    found = db.session.get(Appointment, appointment_id)
    if found is None or found.patient_id != current_user.id:
        abort(404)
    return found
