"""The patient's own appointments: /me/appointments..."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment
from booking.models.queries import patient_history, patient_upcoming
from booking.models.types import utcnow
from booking.patient import bp, calendar, params
from booking.patient.forms import CancelForm, RescheduleForm
from booking.services import booking
from booking.services.errors import Conflict, NotFound, ServiceError
from booking.services.ics import appointment_ics
from booking.services.visit import visit_for
from booking.views import MAX_PAGE, public_url


def cutoff() -> timedelta:
    return timedelta(hours=current_app.config["CANCEL_CUTOFF_HOURS"])


#: Upcoming appointments shown at most; booking rules (one request a day, the horizon) keep real lists short.
UPCOMING_MAX = 100


@bp.get("/me/appointments")
@role_required(Role.PATIENT)
def appointments():  # type: ignore[no-untyped-def]
    """What still stands first (soonest first), then everything else, newest first, a page at a time
    (booking.models.queries: `standing` says which is which). Each page costs two bounded queries,
    whatever the length of the history."""
    now = utcnow()
    number = _page_number()
    history = patient_history(current_user.id, now, number, current_app.config["PER_PAGE"])
    if number > 1 and not history.items:
        abort(404, "There is no such page of your appointments.")
    upcoming = patient_upcoming(current_user.id, now, UPCOMING_MAX + 1) if number == 1 else []
    token = _fingerprint([number, history.has_next, *[(a.id, a.status, a.status_reason, a.start_at)
                                                       for a in (*upcoming, *history.items)]])
    if _unchanged(token):
        return Response(status=204)
    return htmx.render("patient/appointments.html", "patient/_appointment_lists.html",
                       upcoming=upcoming[:UPCOMING_MAX], more_upcoming=len(upcoming) > UPCOMING_MAX,
                       history=history, token=token)


def _page_number() -> int:
    """`page` as a positive number: missing or not a number is the first page; past MAX_PAGE is a 404."""
    number = request.args.get("page", 1, type=int) or 1
    if number > MAX_PAGE:
        abort(404)
    return max(number, 1)


@bp.get("/me/appointments/<id:appointment_id>")
@role_required(Role.PATIENT)
def appointment(appointment_id: int):  # type: ignore[no-untyped-def]
    """The appointment's own page, where booking lands: a confirmation worth keeping (what, who, when,
    where, what to bring, until when it can change, what happens next, add to calendar)."""
    found = get_own_appointment(appointment_id)
    now = utcnow()
    can_change = booking.can_change(found, cutoff(), now)
    token = _fingerprint((found.status, found.status_reason, found.start_at, can_change, len(found.events),
                          [n.id for n in found.notes if n.visible_to_patient], found.service.what_to_bring))
    if _unchanged(token):
        return Response(status=204)
    details = visit_for(found, now, public_url("patient.appointment", appointment_id=found.id))
    return htmx.render(
        "patient/appointment.html", "patient/_appointment.html", appointment=found, can_change=can_change,
        visit=details, form=CancelForm(), token=token,
    )


@bp.get("/me/appointments/<id:appointment_id>/calendar.ics")
@role_required(Role.PATIENT)
def appointment_calendar(appointment_id: int):  # type: ignore[no-untyped-def]
    """The appointment for the patient's own calendar app: the very invitation its e-mails carry (same
    UID, sequence and times), so importing it and then getting an update by e-mail is one event."""
    found = get_own_appointment(appointment_id)
    return Response(appointment_ics(found), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="appointment-{found.id}.ics"',
        "Cache-Control": "private, no-store",
    })


@bp.route("/me/appointments/<id:appointment_id>/cancel", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def cancel(appointment_id: int):  # type: ignore[no-untyped-def]
    """GET asks "are you sure?"; POST cancels. Without JavaScript the question is its own page."""
    found = get_own_appointment(appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            booking.cancel_by_patient(current_user.id, found.id, form.reason.data, cutoff())
        except Conflict as error:
            abort(409, error.message)
        flash("Your appointment is cancelled.", "success")
        return redirect(url_for("patient.appointment", appointment_id=found.id), 303)
    if form.is_submitted():
        return render_template("patient/cancel.html", appointment=found, form=form), 422
    if not booking.can_change(found, cutoff()):
        abort(409, "This appointment can no longer be cancelled online.")
    return render_template("patient/cancel.html", appointment=found, form=form)


@bp.route("/me/appointments/<id:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(Role.PATIENT)
def reschedule(appointment_id: int):  # type: ignore[no-untyped-def]
    """GET opens the provider's calendar in moving mode; POST moves the appointment to `start`."""
    found = get_own_appointment(appointment_id)
    if not booking.can_change(found, cutoff()):
        abort(409, "This appointment can no longer be moved online.")
    target = url_for("patient.calendar_page", provider_id=found.provider_id, service=found.service_id,
                     reschedule=found.id)
    form = RescheduleForm()
    if not form.is_submitted():
        return redirect(target, 303)
    params.single("start", source="form")
    wall = params.wall_start(form.start.data) if form.validate() else None
    if wall is None:
        abort(422, "That is not a valid time.")
    try:
        booking.reschedule_by_patient(current_user.id, found.id, wall, cutoff())
    except booking.SlotTaken as error:
        return calendar.answer_with_slots(found.provider_id, found.service_id, wall.date(), error.message, 409, found)
    except NotFound as error:
        abort(404, error.message)
    except ServiceError as error:
        abort(error.status, error.message)
    flash("Your appointment has been moved.", "success")
    return redirect(url_for("patient.appointment", appointment_id=found.id), 303)


def _fingerprint(shown: object) -> str:
    """A short digest of what a patient's page shows; an open page sends it back when it polls."""
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def _unchanged(token: str) -> bool:
    """A live refresh of a page that already shows the current state gets 204: htmx swaps nothing."""
    return htmx.is_htmx() and request.args.get("known") == token


def get_own_appointment(appointment_id: int) -> Appointment:
    """The current patient's appointment, or 404: someone else's is not acknowledged to exist."""
    found = db.session.get(Appointment, appointment_id)
    if found is None or found.patient_id != current_user.id:
        abort(404)
    return found

