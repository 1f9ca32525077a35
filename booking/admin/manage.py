"""Admin management pages: users, services, specialties (the edit-row pattern for inline changes)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.admin.routes import bp
from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Service, Specialty, User
from booking.patient import params
from booking.services import accounts, management
from booking.services.errors import Invalid, ServiceError
from booking.views import paginate

PRICE = re.compile(r"^\d{1,7}(\.\d{1,2})?$")


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    """Search accounts; create staff and admin accounts (patients register themselves)."""
    message = None
    if request.method == "POST":
        role = request.form.get("role", "")
        if role not in (Role.STAFF.value, Role.ADMIN.value):
            abort(422, "New accounts here are staff or admins.")
        try:
            created = accounts.create_user(email=request.form.get("email", ""), full_name=request.form.get("full_name", ""),
                                           role=role, password=request.form.get("password", ""), verified=True)
        except ServiceError as error:
            message = error.message
        else:
            flash(f"Account created for {created.full_name}.", "success")
            return redirect(url_for("admin.users"), 303)
    q = (params.single("q") or "")[:100]
    query = sa.select(User).order_by(User.full_name, User.id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(User.full_name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")))
    page = paginate(query, per_page=50)
    status = 422 if message else 200
    if htmx.wants_fragment() and htmx.target() == "user-table":
        return render_template("admin/_user_table.html", page=page, q=q), status
    return render_template("admin/users.html", page=page, q=q, message=message, form=request.form), status


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
    message = None
    if request.method == "POST":
        try:
            management.save_specialty(None, request.form.get("name", ""))
        except ServiceError as error:
            message = error.message
        else:
            flash("Specialty added.", "success")
            return redirect(url_for("admin.specialties"), 303)
    rows = db.session.scalars(sa.select(Specialty).order_by(Specialty.name)).all()
    return render_template("admin/specialties.html", specialties=rows, message=message), 422 if message else 200


@bp.post("/specialties/<id:specialty_id>")
@role_required(Role.ADMIN)
def rename_specialty(specialty_id: int):  # type: ignore[no-untyped-def]
    try:
        management.save_specialty(specialty_id, request.form.get("name", ""))
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
        if not PRICE.match(price):
            raise Invalid("Give the price like 45 or 45.50.", field="price")
        saved = management.save_service(
            existing.id if existing else None, name=form.get("name", ""), duration_min=duration,
            price_cents=round(float(price) * 100), description=form.get("description"),
            auto_approve=form.get("auto_approve") == "yes", active=form.get("active", "yes") == "yes",
        )
    except ServiceError as error:
        db.session.rollback()
        if htmx.wants_fragment() and existing is not None:
            return render_template("admin/_service_edit.html", s=existing, form=form, message=error.message), 422
        rows = db.session.scalars(sa.select(Service).order_by(Service.name)).all()
        return render_template("admin/services.html", services=rows, message=error.message, form=form), 422
    flash(f"Saved {saved.name}.", "success")
    if htmx.wants_fragment() and existing is not None:
        return render_template("admin/_service_row.html", s=db.session.get(Service, saved.id))
    return redirect(url_for("admin.services"), 303)
