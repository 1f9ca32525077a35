"""The admin's tables: appointments, providers, services, users."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from sqlalchemy.orm import selectinload

from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider, Service, User
from booking.models.queries import appointment_details
from booking.views import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/appointments")
@role_required(Role.ADMIN)
def appointments():  # type: ignore[no-untyped-def]
    status = request.args.get("status", "")
    query = sa.select(Appointment).options(*appointment_details()).order_by(Appointment.start_at.desc(), Appointment.id)
    if status in {s.value for s in Status}:
        query = query.where(Appointment.status == status)
    else:
        status = ""
    page = paginate(query)
    return render_template("admin/appointments.html", page=page, status=status, statuses=list(Status))


@bp.get("/providers")
@role_required(Role.ADMIN)
def providers():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(
        sa.select(Provider)
        .join(Provider.user)
        .options(selectinload(Provider.user), selectinload(Provider.specialty), selectinload(Provider.services))
        .order_by(User.full_name)
    ).all()
    return render_template("admin/providers.html", providers=rows)


@bp.get("/services")
@role_required(Role.ADMIN)
def services():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(sa.select(Service).order_by(Service.name)).all()
    return render_template("admin/services.html", services=rows)


@bp.get("/users")
@role_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    rows = paginate(sa.select(User).order_by(User.full_name, User.id), per_page=50)
    return render_template("admin/users.html", page=rows)
