"""Admin management pages: users, services, specialties (the edit-row pattern for inline changes)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.admin.routes import bp
from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.domain.timezones import zone_names
from booking.models import Provider, Service, Specialty, User
from booking.models.queries import contains
from booking.patient import params
from booking.request_limits import accepts_upload
from booking.profiles import PHOTO_BODY_MAX, uploaded_photo
from booking.services import accounts, management, photos
from booking.services.errors import Problems, ServiceError
from booking.views import paginate

PRICE = re.compile(r"^\d{1,7}(\.\d{1,2})?$")


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    """Search accounts; create staff and admin accounts (patients register themselves)."""
    messages: list[str] = []
    if request.method == "POST":
        role = request.form.get("role", "")
        if role not in (Role.STAFF.value, Role.ADMIN.value):
            abort(422, "New accounts here are staff or admins.")
        try:
            created = accounts.create_user(email=request.form.get("email", ""), full_name=request.form.get("full_name", ""),
                                           role=role, password=request.form.get("password", ""), verified=True)
        except ServiceError as error:
            messages = error.messages
        else:
            flash(f"Account created for {created.full_name}.", "success")
            return redirect(url_for("admin.users"), 303)
    q = (params.single("q") or "")[:100]
    query = sa.select(User).order_by(User.full_name, User.id)
    if q:
        query = query.where(sa.or_(contains(User.full_name, q), contains(User.email, q)))
    page = paginate(query, per_page=50)
    status = 422 if messages else 200
    if htmx.wants_fragment() and htmx.target() == "user-table":
        return render_template("admin/_user_table.html", page=page, q=q), status
    return render_template("admin/users.html", page=page, q=q, messages=messages, form=request.form), status


@bp.post("/users/<id:user_id>/deactivate")
@role_required(Role.ADMIN)
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    return _switch(user_id, False)


@bp.post("/users/<id:user_id>/activate")
@role_required(Role.ADMIN)
def activate(user_id: int):  # type: ignore[no-untyped-def]
    return _switch(user_id, True)


@bp.route("/services", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def services():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        return _save_service(None)
    rows = db.session.scalars(sa.select(Service).order_by(Service.name)).all()
    return render_template("admin/services.html", services=rows)


@bp.route("/services/<id:service_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def service(service_id: int):  # type: ignore[no-untyped-def]
    """GET: the row as an edit form (or read-only with ?view=1); POST: save it."""
    found = db.session.get(Service, service_id)
    if found is None:
        abort(404)
    if request.method == "POST":
        return _save_service(found)
    template = "admin/_service_row.html" if request.args.get("view") else "admin/_service_edit.html"
    if not htmx.wants_fragment():
        return render_template("admin/services.html", services=[found], editing=found.id)
    return render_template(template, s=found, form={})


@bp.route("/specialties", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def specialties():  # type: ignore[no-untyped-def]
    messages: list[str] = []
    if request.method == "POST":
        try:
            management.save_specialty(current_user.id, None, request.form.get("name", ""))
        except ServiceError as error:
            messages = error.messages
        else:
            flash("Specialty added.", "success")
            return redirect(url_for("admin.specialties"), 303)
    rows = db.session.scalars(sa.select(Specialty).order_by(Specialty.name)).all()
    return render_template("admin/specialties.html", specialties=rows, messages=messages), 422 if messages else 200


@bp.post("/specialties/<id:specialty_id>")
@role_required(Role.ADMIN)
def rename_specialty(specialty_id: int):  # type: ignore[no-untyped-def]
    try:
        management.save_specialty(current_user.id, specialty_id, request.form.get("name", ""))
    except ServiceError as error:
        abort(error.status, error.message)
    flash("Specialty renamed.", "success")
    return redirect(url_for("admin.specialties"), 303)


def _switch(user_id: int, active: bool):  # type: ignore[no-untyped-def]
    try:
        user = management.set_active(current_user.id, user_id, active)
    except ServiceError as error:
        abort(error.status, error.message)
    flash(f"{user.full_name} is now {'active' if active else 'switched off'}.", "success")
    if htmx.wants_fragment():
        return render_template("admin/_user_row.html", u=db.session.get(User, user_id))
    return redirect(url_for("admin.users"), 303)


def _save_service(existing: Service | None):  # type: ignore[no-untyped-def]
    form = request.form
    try:
        duration = int(form.get("duration_min", ""))
    except ValueError:
        duration = 0
    price = form.get("price", "").strip()
    try:
        problems = management.service_problems(form.get("name", ""), duration,
                                                round(float(price) * 100) if PRICE.match(price) else None,
                                                form.get("what_to_bring"))
        if not PRICE.match(price):
            problems.add("Give the price like 45 or 45.50.", "price")
        problems.raise_any()  # every field's fault at once; the service checks them again
        saved = management.save_service(
            current_user.id, existing.id if existing else None, name=form.get("name", ""), duration_min=duration,
            price_cents=round(float(price) * 100), description=form.get("description"),
            auto_approve=form.get("auto_approve") == "yes", active=form.get("active", "yes") == "yes",
            what_to_bring=form.get("what_to_bring"),
        )
    except ServiceError as error:
        db.session.rollback()
        if htmx.wants_fragment() and existing is not None:
            return render_template("admin/_service_edit.html", s=existing, form=form, messages=error.messages), 422
        rows = db.session.scalars(sa.select(Service).order_by(Service.name)).all()
        return render_template("admin/services.html", services=rows, messages=error.messages, form=form), 422
    flash(f"Saved {saved.name}.", "success")
    if htmx.wants_fragment() and existing is not None:
        return render_template("admin/_service_row.html", s=db.session.get(Service, saved.id))
    return redirect(url_for("admin.services"), 303)


@bp.route("/providers/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_provider():  # type: ignore[no-untyped-def]
    return _provider_form(None)


@bp.route("/providers/<id:provider_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_provider(provider_id: int):  # type: ignore[no-untyped-def]
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    return _provider_form(provider)


@bp.post("/providers/<id:provider_id>/photo")
@accepts_upload(PHOTO_BODY_MAX, photos.TOO_LARGE)
@role_required(Role.ADMIN)
def provider_photo(provider_id: int):  # type: ignore[no-untyped-def]
    """Upload a provider's photo: 303 back to the editor, or the editor again with what was wrong."""
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    try:
        photos.set_photo(current_user.id, provider_id, uploaded_photo())
    except ServiceError as error:
        db.session.rollback()
        return _provider_form(db.session.get(Provider, provider_id), photo_error=error)
    flash(f"New photo saved for {provider.name}.", "success")
    return redirect(url_for("admin.edit_provider", provider_id=provider_id), 303)


@bp.post("/providers/<id:provider_id>/photo/delete")
@role_required(Role.ADMIN)
def remove_provider_photo(provider_id: int):  # type: ignore[no-untyped-def]
    try:
        provider = photos.remove_photo(current_user.id, provider_id)
    except ServiceError as error:
        abort(error.status, error.message)
    flash(f"Photo removed; {provider.name}'s initials are shown instead.", "success")
    return redirect(url_for("admin.edit_provider", provider_id=provider_id), 303)


def _provider_form(provider: Provider | None, photo_error: ServiceError | None = None):  # type: ignore[no-untyped-def]
    """The full provider form: every setting of DESIGN.md's provider; 422 with the message when refused.

    `photo_error`: a refused photo upload, said beside the photo (with its own status, 413 or 422).
    """
    messages: list[str] = []
    if request.method == "POST" and photo_error is None:
        try:
            saved = management.save_provider(current_user.id, provider.id if provider else None, _provider_fields())
        except ServiceError as error:
            db.session.rollback()
            messages = error.messages
        else:
            flash(f"Saved {saved.name}.", "success")
            return redirect(url_for("admin.providers"), 303)
    staff = db.session.scalars(sa.select(User).where(User.role == Role.STAFF.value).order_by(User.full_name)).all()
    context = dict(
        provider=provider, messages=messages, form=request.form if request.method == "POST" and photo_error is None else None,
        staff=staff,
        specialties=db.session.scalars(sa.select(Specialty).order_by(Specialty.name)).all(),
        services=db.session.scalars(sa.select(Service).order_by(Service.name)).all(), zones=zone_names(),
        photo_messages=photo_error.messages if photo_error else [], clinic_address=current_app.config["CLINIC_ADDRESS"],
    )
    status = photo_error.status if photo_error else 422 if messages else 200
    return render_template("admin/provider_form.html", **context), status


def _provider_fields() -> management.ProviderFields:
    """The posted provider form as fields, or Invalid naming every field that is wrong at once."""
    form = request.form
    problems = Problems()

    def number(name: str, default: int | None = None) -> int | None:
        raw = form.get(name, "").strip()
        if raw == "":
            return default
        if not re.fullmatch(r"\d{1,7}", raw):
            problems.add(f"{name.replace('_', ' ')} must be a whole number.", name)
            return default
        return int(raw)

    fee = form.get("fee", "").strip()
    if fee and not PRICE.match(fee):
        problems.add("Give the fee like 45 or 45.50, or leave it empty.", "fee")
        fee = ""
    fields = management.ProviderFields(
        user_id=number("user_id") or 0,
        specialty_id=number("specialty_id"),
        service_ids=[int(v) for v in form.getlist("service_ids") if re.fullmatch(r"[0-9]{1,9}", v)],
        timezone=form.get("timezone", "").strip(),
        buffer_before_min=number("buffer_before_min", 0) or 0,
        buffer_after_min=number("buffer_after_min", 0) or 0,
        slot_step_min=number("slot_step_min"),
        min_notice_min=number("min_notice_min", 120) or 0,
        horizon_days=number("horizon_days", 60) or 0,
        license_number=form.get("license_number"),
        years_experience=number("years_experience"),
        fee_cents=round(float(fee) * 100) if fee else None,
        bio=form.get("bio"),
        languages=form.get("languages"),
        location=form.get("location"),
        active=form.get("active", "yes") == "yes",
    )
    management.provider_problems(fields, problems).raise_any()
    return fields


@bp.get("/outbox")
@role_required(Role.ADMIN)
def outbox_view():  # type: ignore[no-untyped-def]
    """What the mail outbox holds: counts by status and the messages, failed ones first, with retry."""
    from booking.models import OutboxMessage
    from booking.services.outbox import pending_counts

    status = params.single("status") or ""
    query = sa.select(OutboxMessage).order_by(
        sa.case((OutboxMessage.status == "failed", 0), (OutboxMessage.status == "queued", 1), else_=2),
        OutboxMessage.id.desc())
    if status in ("queued", "sending", "sent", "failed"):
        query = query.where(OutboxMessage.status == status)
    return render_template("admin/outbox.html", page=paginate(query, per_page=50), counts=pending_counts(),
                           status=status)


@bp.post("/outbox/<id:message_id>/retry")
@role_required(Role.ADMIN)
def outbox_retry(message_id: int):  # type: ignore[no-untyped-def]
    from booking.models import OutboxMessage
    from booking.services.outbox import deliver, retry

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if message.status != "failed":
        abort(409, "Only a failed message can be retried.")
    retry(message_id)
    sent, _ = deliver([message_id])
    flash("Sent." if sent else "Queued again; it will be retried.", "success" if sent else "info")
    return redirect(url_for("admin.outbox_view"), 303)
