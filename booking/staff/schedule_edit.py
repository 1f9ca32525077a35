"""Working hours and time off, edited by the staff member (their provider) or an admin (any)."""
from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider, TimeOff, User
from booking.models.types import utcnow
from booking.patient import params
from booking.services import schedule
from booking.services.errors import Problems, ServiceError
from booking.staff.routes import bp

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@bp.route("/hours", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def hours():  # type: ignore[no-untyped-def]
    provider = _provider() if request.method == "GET" else _provider_or_404()
    if provider is None:
        return _choose_provider("staff.hours")
    if request.method == "POST":
        problems = Problems()
        weekday, start, end = _weekday(problems), _clock("start", problems), _clock("end", problems)
        return _apply(provider, "hours", lambda: schedule.add_block(
            current_user.id, provider.id, weekday, start, end), "Working hours added.", problems)
    return _hours_page(provider)


@bp.post("/hours/<id:block_id>")
@role_required(Role.STAFF, Role.ADMIN)
def change_hours(block_id: int):  # type: ignore[no-untyped-def]
    provider = _provider_or_404()
    problems = Problems()
    weekday, start, end = _weekday(problems), _clock("start", problems), _clock("end", problems)
    return _apply(provider, "hours", lambda: schedule.change_block(
        current_user.id, provider.id, block_id, weekday, start, end), "Working hours changed.", problems)


@bp.post("/hours/<id:block_id>/delete")
@role_required(Role.STAFF, Role.ADMIN)
def remove_hours(block_id: int):  # type: ignore[no-untyped-def]
    provider = _provider_or_404()
    return _apply(provider, "hours", lambda: schedule.remove_block(current_user.id, provider.id, block_id), "Working hours removed.")


@bp.route("/time-off", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def time_off():  # type: ignore[no-untyped-def]
    provider = _provider() if request.method == "GET" else _provider_or_404()
    if provider is None:
        return _choose_provider("staff.time_off")
    if request.method == "POST":
        zone, problems = ZoneInfo(provider.timezone), Problems()
        start, end = _local("start", zone, problems), _local("end", zone, problems)
        confirm = request.form.get("confirm") == "yes"
        return _apply(provider, "time_off", lambda: schedule.add_time_off(
            current_user.id, provider.id, start, end, request.form.get("reason"), cancel_clashes=confirm,
            problems=problems), "Time off added.")
    return _time_off_page(provider)


@bp.post("/time-off/<id:time_off_id>/delete")
@role_required(Role.STAFF, Role.ADMIN)
def remove_time_off(time_off_id: int):  # type: ignore[no-untyped-def]
    provider = _provider_or_404()
    return _apply(provider, "time_off", lambda: schedule.remove_time_off(current_user.id, provider.id, time_off_id),
                  "Time off removed.")


# --- helpers --------------------------------------------------------------------------------------


def _provider() -> Provider | None:
    """Staff edit the provider they work as; admins name one with ?provider= (None: not chosen yet)."""
    if current_user.role == Role.ADMIN.value:
        provider_id = params.positive_id(params.single("provider") or request.form.get("provider"), "provider")
        if provider_id is None:
            return None
        found = db.session.get(Provider, provider_id)
    else:
        found = db.session.scalar(sa.select(Provider).where(Provider.user_id == current_user.id))
    if found is None:
        abort(404, "There is no such provider.")
    return found


def _provider_or_404() -> Provider:
    provider = _provider()
    if provider is None:
        abort(404, "Choose a provider.")
    return provider


def _choose_provider(endpoint: str):  # type: ignore[no-untyped-def]
    providers = db.session.scalars(sa.select(Provider).join(User, User.id == Provider.user_id).order_by(User.full_name)).all()
    return render_template("staff/choose_provider.html", providers=providers, endpoint=endpoint)


# Each reader notes what is wrong in `problems` and goes on, so the form is answered with every fault at once.


def _weekday(problems: Problems) -> int:
    raw = request.form.get("weekday", "")
    if raw not in ("0", "1", "2", "3", "4", "5", "6"):
        problems.add("Choose a day of the week.", "weekday")
        return 0
    return int(raw)


def _clock(name: str, problems: Problems) -> time:
    """HH:MM, whole minutes; an end may also be 24:00, stored as 00:00 (an end at or before the start
    ends the next day, so 18:00-24:00 runs to midnight and 00:00-24:00 is the whole day)."""
    raw = request.form.get(name, "").strip()
    if name == "end" and raw == "24:00":
        return time(0)
    match = CLOCK.match(raw)
    if not match:
        problems.add(f"The {name} time must look like 09:30" + (" (or 24:00 for midnight)." if name == "end" else "."),
                     name)
        return time(0)
    return time(int(match[1]), int(match[2]))


def _local(name: str, zone: ZoneInfo, problems: Problems) -> datetime | None:
    """`name` as one YYYY-MM-DDTHH:MM field, or as `name_date` and `name_time` (the form's two fields
    under a 24-hour locale, whose time is typed as hh:mm)."""
    raw = request.form.get(name, "").strip()
    split = not raw and (f"{name}_date" in request.form or f"{name}_time" in request.form)
    if split:
        raw = f"{request.form.get(f'{name}_date', '').strip()}T{request.form.get(f'{name}_time', '').strip()}"
    wall = params.wall_start(raw)
    if wall is None:
        problems.add(f"Give the {name} as a date and a time such as 09:30." if split else
                     f"The {name} must be a date and time like 2026-05-31T09:00.", name)
        return None
    return wall.replace(tzinfo=zone)


def _apply(provider: Provider, section: str, change, done: str,  # type: ignore[no-untyped-def]
           problems: Problems | None = None):
    """Make the change; answer the refreshed section (htmx) or redirect back, with the messages."""
    try:
        if problems is not None:
            problems.raise_any()  # fields that could not be read: told together, before the service is asked
        change()
    except schedule.TimeOffClashes as error:
        return _section(provider, section, 409, messages=error.messages, clashes=error.appointments)
    except ServiceError as error:
        return _section(provider, section, error.status, messages=error.messages)
    flash(done, "success")
    if not htmx.wants_fragment():
        return redirect(url_for(f"staff.{section}", provider=provider.id if current_user.role == "admin" else None), 303)
    return _section(provider, section, 200)


def _section(provider: Provider, section: str, status: int, **extra):  # type: ignore[no-untyped-def]
    db.session.rollback()
    provider = db.session.get(Provider, provider.id)
    page = _hours_page if section == "hours" else _time_off_page
    body = page(provider, fragment=htmx.wants_fragment(), **extra)
    return make_response(body, status)


def _hours_page(provider: Provider, fragment: bool = False, **extra):  # type: ignore[no-untyped-def]
    template = "staff/_hours.html" if fragment else "staff/hours.html"
    return render_template(template, provider=provider, weekdays=schedule.WEEKDAYS, **extra)


def _time_off_page(provider: Provider, fragment: bool = False, **extra):  # type: ignore[no-untyped-def]
    upcoming = db.session.scalars(sa.select(TimeOff).where(
        TimeOff.provider_id == provider.id, TimeOff.end_at > utcnow()).order_by(TimeOff.start_at)).all()
    template = "staff/_time_off.html" if fragment else "staff/time_off.html"
    return render_template(template, provider=provider, periods=upcoming, form=request.form, **extra)
