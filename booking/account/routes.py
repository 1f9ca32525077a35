"""/account: the profile, e-mail choices, the calendar feed's address, the password, export and deletion."""
from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from wtforms.fields.choices import SelectChoice

from booking import htmx
from booking.account import bp
from booking.auth.access import leave
from booking.logs import security_event
from booking.account.forms import ChangePasswordForm, DeleteAccountForm, EmailPreferencesForm, ProfileForm
from booking.domain.roles import Role
from booking.domain.timezones import zone_names
from booking.extensions import db
from booking.forms import attach_error
from booking.models import User
from booking.models.types import utcnow
from booking.services import accounts, erasure, profile
from booking.services.errors import ServiceError
from booking.services.export import personal_data
from booking.services.notify import OPTIONAL_EMAILS, optional_emails_for
from booking.views import public_url


@bp.route("/account/", methods=["GET", "POST"])
@login_required
def profile_page():  # type: ignore[no-untyped-def]
    """The profile form; POST saves it (the fragment again for htmx, a redirect otherwise)."""
    user = _me()
    form = ProfileForm(obj=_ProfileValues(user))
    _zone_choices(form)
    if form.validate_on_submit():
        try:
            profile.save_profile(user.id, profile.ProfileFields(**{
                name: getattr(form, name).data for name in profile.ProfileFields.__dataclass_fields__
            }), today=utcnow().date())
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash("Your details are saved.", "success")
            if not htmx.wants_fragment():
                return redirect(url_for("account.profile_page"), 303)
            form = ProfileForm(obj=_ProfileValues(_me()), formdata=None)
            _zone_choices(form)
    status = 422 if form.errors or form.form_errors else 200
    if htmx.wants_fragment():
        return render_template("account/_profile_form.html", form=form, user=user), status
    return render_template("account/profile.html", form=form, user=user, emails=_email_form(user),
                           email_names=optional_emails_for(user.role)), status


@bp.post("/account/email")
@login_required
def email_preferences():  # type: ignore[no-untyped-def]
    user = _me()
    form = EmailPreferencesForm()  # CSRF is checked for every POST by CSRFProtect
    names = optional_emails_for(user.role)
    kept = {name for name in OPTIONAL_EMAILS if name not in names and getattr(user, name)}  # other roles' choices
    profile.save_email_preferences(user.id, {name for name in names if getattr(form, name).data} | kept)
    flash("Your e-mail choices are saved.", "success")
    if htmx.wants_fragment():
        return render_template("account/_email_form.html", emails=_email_form(_me()), email_names=names)
    return redirect(url_for("account.profile_page") + "#emails", 303)


@bp.post("/account/calendar")
@login_required
def renew_calendar():  # type: ignore[no-untyped-def]
    """A new secret address for the calendar feed; the old one stops working at once."""
    profile.renew_calendar_token(current_user.id)
    security_event("calendar_feed_renewed", "calendar feed address renewed")
    flash("Your calendar has a new address. Subscribe to it again; the old address no longer works.", "success")
    if htmx.wants_fragment():
        return render_template("account/_calendar_feed.html", user=_me())
    return redirect(url_for("account.profile_page") + "#calendar", 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm(user=_me())  # the current password is checked with the other fields
    if form.validate_on_submit():
        kept = bool(request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")))
        try:
            user = accounts.change_password(current_user.id, form.current_password.data, form.password.data,
                                            public_url("auth.forgot_password"))
        except ServiceError as error:
            attach_error(form, error)
        else:
            login_user(user, remember=kept)  # this session goes on under the new token; the others ended
            security_event("password_changed", "password changed", user_id=user.id)
            flash("Your password is changed. Other devices were logged out.", "success")
            return htmx.go(url_for("account.profile_page"))
    status = 422 if form.is_submitted() else 200
    return htmx.render("account/password.html", "account/_password_form.html", status, form=form)


@bp.get("/account/export")
@login_required
def export():  # type: ignore[no-untyped-def]
    """Everything we hold about the person, as a JSON download."""
    now = utcnow()
    body = json.dumps(personal_data(current_user.id, now), indent=2, ensure_ascii=False)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="my-data-{now:%Y-%m-%d}.json"',
        "Cache-Control": "no-store",
    })


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete():  # type: ignore[no-untyped-def]
    """Patients delete their own account (asked for the password); staff accounts are an admin's job."""
    if not current_user.has_role(Role.PATIENT):
        abort(403, "Staff and administrator accounts are closed by an administrator.")
    form = DeleteAccountForm(user=_me())
    if form.validate_on_submit():
        try:
            deleted_id = current_user.id
            erasure.delete_account(deleted_id, form.password.data)
        except ServiceError as error:
            if error.status == 409:
                abort(409, error.message)
            attach_error(form, error)
        else:
            security_event("account_deleted", "account deleted by its owner", user_id=deleted_id)
            return leave("Your account is deleted. Your future appointments were cancelled and the clinic was told.")
    status = 422 if form.is_submitted() else 200
    return htmx.render("account/delete.html", "account/_delete_form.html", status, form=form,
                       upcoming=erasure.future_appointment_count(current_user.id))


def _me() -> User:
    user = db.session.get(User, current_user.id)
    assert user is not None
    return user


class _ProfileValues:
    """The user and the patient profile as one object, for `Form(obj=...)`."""

    def __init__(self, user: User) -> None:
        self.full_name, self.phone = user.full_name, user.phone
        for name in ("date_of_birth", "address", "emergency_contact_name", "emergency_contact_phone",
                     "blood_group", "medical_notes", "timezone"):
            setattr(self, name, getattr(user.profile, name) if user.profile is not None else None)


def _zone_choices(form: ProfileForm) -> None:
    clinic_zone = current_app.config["TIMEZONE"]
    form.timezone.choices = [SelectChoice("", f"The clinic's ({clinic_zone})")] + [SelectChoice(z, z) for z in zone_names()]


def _email_form(user: User) -> EmailPreferencesForm:
    return EmailPreferencesForm(formdata=None, obj=user)

