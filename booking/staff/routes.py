"""The staff workspace: the approval queue, the decisions, and the schedule."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
    url_for,
)
from flask_login import current_user

from booking import htmx
from booking.auth.access import role_required
from booking.domain.actions import Action
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment, Provider, User
from booking.models.queries import appointment_details, pending_count, pending_requests, provider_ids_of
from booking.models.types import utcnow
from booking.patient import params
from booking.services import decisions
from booking.services.availability import day_bounds
from booking.services.errors import ServiceError

bp = Blueprint("staff", __name__, url_prefix="/staff")


@dataclass
class RequestRow:
    appointment: Appointment
    waited: str
    problem: str | None  # why it no longer fits the schedule
    actions: frozenset[Action]  # what the row offers: decisions.available_actions
    message: str | None = None  # why the last action on it was refused


@bp.get("/requests")
@role_required(Role.STAFF, Role.ADMIN)
def requests():  # type: ignore[no-untyped-def]
    rows = [_row(a) for a in db.session.scalars(pending_requests(current_user)).all()]
    token = _digest(rows)
    if htmx.is_htmx() and request.args.get("known") == token:
        return Response(status=204)
    if htmx.wants_fragment() and htmx.target() == "request-rows":
        return render_template("staff/_request_rows.html", rows=rows, token=token, oob_badge=True,
                               pending_count=len(rows))
    return render_template("staff/requests.html", rows=rows, token=token)


@bp.post("/appointments/<id:appointment_id>/approve")
@role_required(Role.STAFF, Role.ADMIN)
def approve(appointment_id: int):  # type: ignore[no-untyped-def]
    return _act(appointment_id, lambda: decisions.approve(current_user.id, appointment_id), "Approved.")


@bp.post("/appointments/<id:appointment_id>/reject")
@role_required(Role.STAFF, Role.ADMIN)
def reject(appointment_id: int):  # type: ignore[no-untyped-def]
    reason = request.form.get("reason")
    return _act(appointment_id, lambda: decisions.reject(current_user.id, appointment_id, reason),
                "Rejected; the patient will see your reason.")


@bp.post("/appointments/<id:appointment_id>/complete")
@role_required(Role.STAFF, Role.ADMIN)
def complete(appointment_id: int):  # type: ignore[no-untyped-def]
    return _act(appointment_id, lambda: decisions.complete(current_user.id, appointment_id), "Marked completed.",
                row="schedule")


@bp.post("/appointments/<id:appointment_id>/no-show")
@role_required(Role.STAFF, Role.ADMIN)
def no_show(appointment_id: int):  # type: ignore[no-untyped-def]
    return _act(appointment_id, lambda: decisions.no_show(current_user.id, appointment_id), "Marked as no-show.",
                row="schedule")


@bp.post("/appointments/<id:appointment_id>/cancel")
@role_required(Role.STAFF, Role.ADMIN)
def cancel(appointment_id: int):  # type: ignore[no-untyped-def]
    reason = request.form.get("reason")
    return _act(appointment_id, lambda: decisions.cancel_by_staff(current_user.id, appointment_id, reason),
                "Cancelled; the patient will see your reason.", row="schedule")


@bp.get("/schedule")
@role_required(Role.STAFF, Role.ADMIN)
def schedule():  # type: ignore[no-untyped-def]
    """The day or week as a timeline, in the provider's zone (the clinic's for admins)."""
    zone = _schedule_zone()
    view = request.args.get("view", "day")
    if view not in ("day", "week"):
        view = "day"
    today = datetime.now(ZoneInfo(zone)).date()
    day = params.day(params.single("date")) or today
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    days = [first + timedelta(days=n) for n in range(7 if view == "week" else 1)]
    start, _ = day_bounds(days[0], zone)
    _, end = day_bounds(days[-1], zone)
    query = (
        sa.select(Appointment)
        .where(Appointment.start_at < end, Appointment.end_at > start)
        .options(*appointment_details())
        .order_by(Appointment.start_at)
    )
    ids = provider_ids_of(current_user)
    if ids is not None:
        query = query.where(Appointment.provider_id.in_(ids))
    by_day: dict = {d: [] for d in days}
    now, viewer = utcnow(), current_user._get_current_object()
    offered: dict[int, frozenset[Action]] = {}
    for appointment in db.session.scalars(query):
        local_day = appointment.start_at.astimezone(ZoneInfo(zone)).date()
        by_day.setdefault(local_day, []).append(appointment)
        offered[appointment.id] = decisions.available_actions(appointment, viewer, now)
    step = timedelta(days=7 if view == "week" else 1)
    return render_template(
        "staff/schedule.html", view=view, zone=zone, day=day, today=today, by_day=by_day, offered=offered,
        previous=(day - step).isoformat(), following=(day + step).isoformat(),
    )


# --- helpers --------------------------------------------------------------------------------------


def _row(appointment: Appointment, message: str | None = None) -> RequestRow:
    return RequestRow(appointment, decisions.waited(appointment),
                      decisions.schedule_problem(appointment.provider, appointment),
                      decisions.available_actions(appointment, current_user._get_current_object()), message)


def _schedule_item(appointment: Appointment, message: str | None = None) -> str:
    return render_template("staff/_schedule_item.html", a=appointment, message=message,
                           actions=decisions.available_actions(appointment, current_user._get_current_object()))


SCHEDULE_ITEM = "schedule-item-"  # the id prefix of a schedule item, which htmx sends as HX-Target


def _digest(rows: list[RequestRow]) -> str:
    shown = [(r.appointment.id, r.appointment.status, r.waited, r.problem) for r in rows]
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def _schedule_zone() -> str:
    provider = db.session.scalar(sa.select(Provider).where(Provider.user_id == current_user.id))
    return provider.timezone if provider is not None else current_app.config["TIMEZONE"]


def _act(appointment_id: int, decide, done: str, row: str = "request"):  # type: ignore[no-untyped-def]
    """Run a decision; answer the row inline for htmx, or redirect back.

    In the queue a decided request leaves the table; on the schedule the item is drawn again with its
    new status. Which of the two asked is told by the target (`row` is the route's usual one).
    """
    target = htmx.target() or ""
    if target.startswith(SCHEDULE_ITEM):
        row = "schedule"
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not decisions.may_decide(current_user, appointment):
        abort(404)
    try:
        decide()
    except ServiceError as error:
        if not htmx.wants_fragment():
            abort(error.status, error.message)
        db.session.rollback()
        appointment = db.session.get(Appointment, appointment_id)
        if row == "schedule":
            body = _schedule_item(appointment, error.message)
        else:
            body = render_template("staff/_request_row.html", row=_row(appointment, error.message))
        response = make_response(body, error.status)
        return htmx.toast(response, error.message, "error")
    flash(done, "success")
    if not htmx.wants_fragment():
        return redirect(request.referrer if _same_site(request.referrer) else url_for("staff.requests"), 303)
    response = _decided_response(appointment_id, row)
    return htmx.add_trigger(response, "appointment-changed", {"id": appointment_id})


def _decided_response(appointment_id: int, row: str):  # type: ignore[no-untyped-def]
    """The answer to a decision made with htmx: the badge out of band, and the changed item if shown."""
    badge = render_template("staff/_pending_badge.html", oob=True, pending_count=pending_count(current_user))
    if row == "schedule":
        db.session.rollback()
        item = _schedule_item(db.session.get(Appointment, appointment_id))
        return make_response(item + badge, 200)
    return make_response(badge, 200)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)  # type: ignore[union-attr]


@bp.get("/patients/<id:patient_id>")
@role_required(Role.STAFF, Role.ADMIN)
def patient_record(patient_id: int):  # type: ignore[no-untyped-def]
    """A patient's profile and full history: for admins, and for staff of a provider the patient booked."""
    patient = db.session.get(User, patient_id)
    if patient is None or patient.role != Role.PATIENT.value:
        abort(404)
    ids = provider_ids_of(current_user)
    history = sa.select(Appointment).where(Appointment.patient_id == patient.id)
    if ids is not None:
        seen_here = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(
            Appointment.patient_id == patient.id, Appointment.provider_id.in_(ids)))
        if not seen_here:
            abort(404)  # not one of this staff member's patients: not acknowledged to exist
    appointments = db.session.scalars(
        history.options(*appointment_details()).order_by(Appointment.start_at.desc())).all()
    return render_template("staff/patient.html", patient=patient, appointments=appointments)
