"""The staff member's own public profile: the photo, bio and languages patients see on their card.

Staff change only the provider they work as, so no route here names a provider. Admins keep every
provider's profile in the provider editor and are sent there.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider
from booking.profiles import PHOTO_BODY_MAX, uploaded_photo
from booking.request_limits import accepts_upload
from booking.services import photos, provider_profiles
from booking.services.errors import ServiceError
from booking.staff.routes import bp


@bp.route("/profile", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def profile():  # type: ignore[no-untyped-def]
    if current_user.role == Role.ADMIN.value:
        flash("Admins edit each provider's profile in the provider editor.", "info")
        return redirect(url_for("admin.providers"), 303)
    provider = _own_provider()
    if request.method == "POST":
        try:
            provider_profiles.save_own_profile(current_user.id, provider.id, bio=request.form.get("bio"),
                                               languages=request.form.get("languages"))
        except ServiceError as error:
            db.session.rollback()
            return _page(_own_provider(), messages=error.messages, status=error.status, form=request.form)
        flash("Your profile is saved.", "success")
        return redirect(url_for("staff.profile"), 303)
    return _page(provider)


@bp.post("/profile/photo")
@accepts_upload(PHOTO_BODY_MAX, photos.TOO_LARGE)
@role_required(Role.STAFF)
def profile_photo():  # type: ignore[no-untyped-def]
    provider = _own_provider()
    try:
        photos.set_photo(current_user.id, provider.id, uploaded_photo())
    except ServiceError as error:
        db.session.rollback()
        return _page(_own_provider(), photo_messages=error.messages, status=error.status)
    flash("Your new photo is saved.", "success")
    return redirect(url_for("staff.profile"), 303)


@bp.post("/profile/photo/delete")
@role_required(Role.STAFF)
def remove_profile_photo():  # type: ignore[no-untyped-def]
    photos.remove_photo(current_user.id, _own_provider().id)
    flash("Your photo is removed; your initials are shown instead.", "success")
    return redirect(url_for("staff.profile"), 303)


def _own_provider() -> Provider:
    provider = db.session.scalar(sa.select(Provider).where(Provider.user_id == current_user.id))
    if provider is None:
        abort(404, "Your account does not work as a provider yet; an administrator links it.")
    return provider


def _page(provider: Provider, messages: list[str] | None = None, photo_messages: list[str] | None = None,
          status: int = 200, form=None):  # type: ignore[no-untyped-def]
    return render_template("staff/profile.html", provider=provider, messages=messages or [],
                           photo_messages=photo_messages or [], form=form,
                           clinic_address=current_app.config["CLINIC_ADDRESS"]), status
