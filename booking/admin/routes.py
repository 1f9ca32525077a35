"""The admin's tables: appointments, providers, services, users."""
from __future__ import annotations

import sqlalchemy as sa
import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking import htmx
from booking.admin import listing
from booking.domain.timezones import to_zone
from booking.models import Appointment, Provider, Specialty, User
from booking.admin import chart
from booking.models.types import utcnow
from booking.services import decisions, notes, reports
from booking.services.errors import ServiceError
from booking.models.queries import appointment_details
from booking.views import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required(Role.ADMIN)
def dashboard():  # type: ignore[no-untyped-def]
    """Today, this week, what waits too long, how full each provider is, and twelve weeks at a glance."""
    data = reports.dashboard(current_app.config["TIMEZONE"], utcnow())
    return render_template("admin/dashboard.html", data=data, chart=chart.weekly_bars(data.weeks),
                           statuses=list(Status))


@bp.get("/appointments")
@role_required(Role.ADMIN)
def appointments():  # type: ignore[no-untyped-def]
    """Every appointment, filtered and sorted; htmx swaps only the table, and the URL keeps the filters."""
    filters = listing.read_filters()
    page = paginate(listing.filtered(filters, current_app.config["TIMEZONE"]))
    context = dict(page=page, filters=filters, statuses=list(Status), **_choices())
    if htmx.wants_fragment() and htmx.target() == "appointment-table":
        return render_template("admin/_appointment_table.html", **context)
    return render_template("admin/appointments.html", **context)


@bp.get("/appointments.csv")
@role_required(Role.ADMIN)
def appointments_csv():  # type: ignore[no-untyped-def]
    """Exactly the filtered rows, streamed as UTF-8 CSV (with a BOM, so spreadsheets read it right)."""
    filters = listing.read_filters()
    query = listing.filtered(filters, current_app.config["TIMEZONE"]).execution_options(yield_per=500)

    def rows():  # type: ignore[no-untyped-def]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["id", "start", "end", "time zone", "status", "patient", "patient e-mail", "patient phone",
                         "provider", "service", "reason", "created", "intake answers"])
        yield "\ufeff" + buffer.getvalue()
        for a in db.session.scalars(query):
            buffer.seek(0)
            buffer.truncate()
            zone = a.provider.timezone
            writer.writerow([a.id, to_zone(a.start_at, zone).isoformat(), to_zone(a.end_at, zone).isoformat(), zone,
                             a.status, *map(_spreadsheet_safe, [
                                 a.patient.full_name, a.patient.email, a.patient.phone or "", a.provider.name,
                                 a.service.name, a.reason or ""]), a.created_at.isoformat(),
                             _spreadsheet_safe(_answers_cell(a))])
            yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=appointments.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/appointments/<id:appointment_id>")
@role_required(Role.ADMIN)
def appointment(appointment_id: int):  # type: ignore[no-untyped-def]
    """Details, history and notes: a row that opens in place (htmx), or a page of its own."""
    found = _appointment_or_404(appointment_id)
    template = "admin/_appointment_detail.html" if htmx.wants_fragment() else "admin/appointment.html"
    actions = decisions.available_actions(found, current_user._get_current_object())
    return render_template(template, a=found, actions=actions)


@bp.post("/appointments/<id:appointment_id>/notes")
@role_required(Role.ADMIN)
def add_note(appointment_id: int):  # type: ignore[no-untyped-def]
    found = _appointment_or_404(appointment_id)
    try:
        notes.add_note(current_user.id, found.id, request.form.get("body"), request.form.get("visible") == "yes")
    except ServiceError as error:
        if not htmx.wants_fragment():
            abort(error.status, error.message)
        return render_template("admin/_notes.html", a=found, message=error.message, body=request.form.get("body")), \
            error.status
    db.session.rollback()
    found = _appointment_or_404(appointment_id)
    if htmx.wants_fragment():
        response = make_response(render_template("admin/_notes.html", a=found))
        return htmx.toast(response, "Note added.", "success")
    flash("Note added.", "success")
    return redirect(url_for("admin.appointment", appointment_id=found.id), 303)


def _appointment_or_404(appointment_id: int) -> Appointment:
    found = db.session.scalar(sa.select(Appointment).where(Appointment.id == appointment_id).options(
        *appointment_details(), selectinload(Appointment.events), selectinload(Appointment.notes)))
    if found is None:
        abort(404)
    return found


def _choices() -> dict:  # type: ignore[type-arg]
    providers = db.session.scalars(sa.select(Provider).join(User, User.id == Provider.user_id)
                                   .options(selectinload(Provider.user)).order_by(User.full_name)).all()
    specialties = db.session.scalars(sa.select(Specialty).order_by(Specialty.name)).all()
    return {"providers": providers, "specialties": specialties}


def _answers_cell(appointment: Appointment) -> str:
    """Each intake answer on a line of its own, after the question as it was asked."""
    return "\n".join(f"{a.question}: {a.answer}" for a in appointment.intake_answers)


def _spreadsheet_safe(text: str) -> str:
    """A cell starting with = + - @ would run as a formula in a spreadsheet: prefix it with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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

