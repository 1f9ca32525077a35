"""Finding a provider and booking a slot: /book/..."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.auth.access import public_page, role_required
from booking.auth.forms import LoginForm, RegisterForm
from booking.ratelimit import booking_limits
from booking.domain.availability import Problem, check_start
from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME
from booking.extensions import db, login_manager
from booking.forms import attach_error
from booking.models import Appointment, Provider, Service, Specialty, User
from booking.models.queries import active_providers, contains
from booking.models.types import utcnow
from booking.patient import bp, calendar, params
from booking.patient.directory import provider_cards
from booking.patient.forms import BookingForm
from booking.services import booking
from booking.services.availability import (
    ProviderInfo,
    ServiceInfo,
    busy_time,
    day_bounds,
    load_provider_info,
    first_free_times,
    rules_for,
)
from booking.services.errors import NotFound, ServiceError
from booking.views import paginate

STAFF_DO_NOT_BOOK = "Appointments are booked with a patient account; staff and admin accounts cannot book."
PROVIDERS_PER_PAGE = 12
SEARCH_MAX = 100


@bp.get("/book/")
@public_page
def providers():  # type: ignore[no-untyped-def]
    specialty_id = params.positive_id(params.single("specialty"), "specialty")
    service_id = params.positive_id(params.single("service"), "service")
    q = (params.single("q") or "")[:SEARCH_MAX]
    query = active_providers()
    if specialty_id:
        query = query.where(Provider.specialty_id == specialty_id)
    if service_id:
        query = query.where(Provider.services.any(sa.and_(Service.id == service_id, Service.active.is_(True))))
    if q:
        query = query.where(contains(User.full_name, q))
    page = paginate(query, per_page=PROVIDERS_PER_PAGE)
    cards = provider_cards(page.items, service_id, utcnow())
    context = dict(
        page=page, cards=cards, specialty_id=specialty_id, service_id=service_id, q=q,
        specialties=db.session.scalars(sa.select(Specialty).order_by(Specialty.name)).all(),
        services=db.session.scalars(sa.select(Service).where(Service.active.is_(True)).order_by(Service.name)).all(),
    )
    return htmx.render("patient/providers.html", "patient/_provider_list.html", **context)


@bp.get("/book/<id:provider_id>")
@public_page
def calendar_page(provider_id: int):  # type: ignore[no-untyped-def]
    provider, service, reschedule = _booking_subject(provider_id)
    selected = params.day(params.single("date"))
    month = params.month(params.single("month"))
    now = utcnow()
    if month is not None and month < calendar.current_month(provider, now):
        # Months gone by hold only past days: a stale link or an open page left over the month's end
        # gets the current month, at its own address.
        kept = {name: request.args[name] for name in ("service", "reschedule", "date") if request.args.get(name)}
        current = calendar.current_month(provider, now).strftime("%Y-%m")
        return redirect(url_for("patient.calendar_page", provider_id=provider.id, month=current, **kept), 303)
    grid_only = htmx.wants_fragment() and htmx.target() == "calendar"
    chosen_for_them = False
    if selected is None and not grid_only:
        # A calendar opens on its first day with free times, its times in view: one click fewer.
        first = first_free_times(provider, service, now, 1, reschedule.id if reschedule else None)
        if first and (month is None or (month.year, month.month) == (first[0].year, first[0].month)):
            selected, chosen_for_them = first[0].date(), True
    view = calendar.build(provider, service, month, selected, now, reschedule, with_slots=not grid_only)
    if grid_only and _unchanged(view.calendar_token):
        return Response(status=204)
    view.focus = _requested_swap()
    view.reveal = chosen_for_them and not htmx.is_htmx()
    if grid_only:
        return render_template("patient/_calendar.html", view=view)
    return render_template("patient/calendar.html", view=view)


@bp.get("/book/<id:provider_id>/slots")
@public_page
def slots(provider_id: int):  # type: ignore[no-untyped-def]
    provider, service, reschedule = _booking_subject(provider_id)
    selected = params.day(params.single("date"))
    if selected is None:
        abort(400, "Choose a date.")
    fragment = htmx.wants_fragment()
    # A day picked (not a live refresh) also redraws the calendar out of band, to mark the day chosen.
    with_month = not fragment or _requested_swap()
    view = calendar.build(provider, service, None, selected, utcnow(), reschedule, with_month=with_month)
    if _unchanged(view.slots_token):
        return Response(status=204)
    view.focus = _requested_swap()
    if fragment:
        return render_template("patient/_slots.html", view=view, calendar_oob=with_month)
    return render_template("patient/calendar.html", view=view)


@bp.get("/book/<id:provider_id>/confirm")
def confirm(provider_id: int):  # type: ignore[no-untyped-def]
    """The confirm step: what, with whom, when, for how much; the POST re-checks all of it.

    A visitor without an account is asked for one here, at the end, with the chosen time in view: the
    login and registration forms on this page come back to it. Staff and admin accounts do not book.
    """
    if current_user.is_authenticated and not current_user.has_role(Role.PATIENT):
        abort(403, STAFF_DO_NOT_BOOK)
    provider, service, reschedule = _booking_subject(provider_id)
    raw_start = params.single("start")
    wall = params.wall_start(raw_start)
    if wall is None:
        abort(400, Problem.NOT_A_TIME.value)
    around, _ = day_bounds(wall.date(), provider.timezone)
    appointments, time_off = busy_time(provider, around - timedelta(days=1), around + timedelta(days=2),
                                       reschedule.id if reschedule else None)
    start, problem = check_start(rules_for(provider, service), wall, utcnow(), appointments, time_off)
    if problem is not None:
        return calendar.answer_with_slots(provider.id, service.id, wall.date(), problem.value,
                                          409 if problem is Problem.TAKEN else 422, reschedule)
    form = BookingForm(formdata=None, service_id=service.id, start=raw_start)
    account: dict[str, object] = {}
    if not current_user.is_authenticated:
        # The forms come back here (a whole page, so not the fragment's own address) with the time chosen.
        here = url_for("patient.confirm", provider_id=provider.id, service=service.id, start=raw_start)
        account = dict(login_form=LoginForm(formdata=None), register_form=RegisterForm(formdata=None), next_url=here)
    return htmx.render("patient/confirm.html", "patient/_confirm.html", provider=provider, service=service,
                       start=start, form=form, reschedule=reschedule, focus=htmx.wants_fragment(), **account)


@bp.post("/book/<id:provider_id>")
@role_required(Role.PATIENT)
@booking_limits
def book(provider_id: int):  # type: ignore[no-untyped-def]
    for name in ("service_id", "start", "reason"):
        params.single(name, source="form")
    form = BookingForm()
    provider = _bookable_provider(provider_id)
    service_id = form.service_id.data if isinstance(form.service_id.data, int) else None
    if not form.validate():
        return _invalid_booking(form, provider)
    wall = params.wall_start(form.start.data)
    if wall is None:
        form.start.errors = [*form.start.errors, Problem.NOT_A_TIME.value]
        return _invalid_booking(form, provider)
    try:
        booked = booking.book_appointment(current_user.id, provider.id, service_id, wall, form.reason.data,
                                          form.intake_answers)
    except booking.SlotTaken as error:
        return calendar.answer_with_slots(provider.id, service_id, wall.date(), error.message, 409)
    except NotFound as error:
        abort(404, error.message)
    except ServiceError as error:
        attach_error(form, error)
        return _invalid_booking(form, provider, error.status)
    appointment = db.session.get(Appointment, booked.appointment_id)
    message = "Booked. See you then!" if booked.status.value == "approved" else "Request sent. We will confirm it soon."
    if htmx.wants_fragment():
        # The calendar comes along out of band: the day's count drops at once, not at the next refresh.
        day = wall.date()
        view = calendar.build(provider, provider.service(service_id), None, day, utcnow(), with_slots=False)
        response = current_app.make_response(render_template("patient/_booked.html", appointment=appointment,
                                                              view=view, calendar_oob=True))
        return htmx.toast(response, message, "success")
    flash(message, "success")
    return redirect(url_for("patient.appointment", appointment_id=appointment.id), 303)


# --- helpers --------------------------------------------------------------------------------------


def _requested_swap() -> bool:
    """A fragment the person asked for (not a live refresh): its heading takes the keyboard focus."""
    return htmx.wants_fragment() and request.args.get("known") is None


def _unchanged(token: str) -> bool:
    """A live refresh that already shows the current state gets 204: htmx swaps nothing, no rendering."""
    known = request.args.get("known")
    return htmx.is_htmx() and known is not None and known == token


def _bookable_provider(provider_id: int) -> ProviderInfo:
    provider = load_provider_info(provider_id)
    if provider is None or not provider.bookable:
        abort(404, booking.PROVIDER_UNAVAILABLE)
    return provider


def _booking_subject(provider_id: int) -> tuple[ProviderInfo, ServiceInfo, Appointment | None]:
    """The provider, the service and (when moving one) the patient's appointment a page is about."""
    provider = _bookable_provider(provider_id)
    reschedule = None
    reschedule_id = params.positive_id(params.single("reschedule"), "appointment")
    if reschedule_id is not None and not current_user.is_authenticated:
        abort(login_manager.unauthorized())  # moving an appointment is the patient's own business
    if reschedule_id is not None:
        reschedule = db.session.get(Appointment, reschedule_id)
        if (reschedule is None or reschedule.patient_id != current_user.id
                or reschedule.provider_id != provider.id):
            abort(404, "There is no such appointment.")
        if reschedule.status not in HOLDS_TIME:
            abort(409, "This appointment can no longer be moved.")
    wanted = params.positive_id(params.single("service"), "service")
    if reschedule is not None:
        wanted = reschedule.service_id
    service = provider.service(wanted)
    if service is None:
        abort(404, booking.SERVICE_UNAVAILABLE if wanted is None else f"{provider.name} does not offer that service.")
    return provider, service, reschedule


def _invalid_booking(form: BookingForm, provider: ProviderInfo, status: int = 422):  # type: ignore[no-untyped-def]
    service = provider.service(form.service_id.data) if isinstance(form.service_id.data, int) else None
    wall = params.wall_start(form.start.data)
    if service is None or wall is None:
        abort(422, " ".join(e for errors in form.errors.values() for e in errors) or "Please choose a time again.")
    start = wall.replace(tzinfo=ZoneInfo(provider.timezone))  # only to show what was asked for
    return htmx.render("patient/confirm.html", "patient/_confirm.html", status, provider=provider,
                       service=service, start=start, form=form, reschedule=None, focus=htmx.wants_fragment())
