"""Register, log in, log out."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from booking import htmx
from booking.auth.access import safe_next
from booking.auth.forms import LoginForm, RegisterForm
from booking.forms import attach_error
from booking.services import accounts
from booking.services.errors import ServiceError
from booking.views import home_url

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOGIN_FAILED = "The e-mail or password is not right."
ACCOUNT_INACTIVE = "This account has been switched off. Please contact the clinic."


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_url(current_user), 303)
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.AccountInactive:
            form.form_errors.append(ACCOUNT_INACTIVE)
        else:
            if user is not None:
                session.clear()  # a fresh session at login: no fixation, no leftovers
                login_user(user, remember=form.remember.data)
                flash(f"Welcome, {user.full_name}.", "success")
                return _go(next_url or home_url(user))
            form.form_errors.append(LOGIN_FAILED)
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/login.html", "auth/_login_form.html", status, form=form, next_url=next_url)


@bp.route("/register", methods=["GET", "POST"])
def register():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_url(current_user), 303)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_patient(
                full_name=form.full_name.data, email=form.email.data, password=form.password.data, phone=form.phone.data
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            session.clear()
            login_user(user)
            flash("Your account is ready. Welcome!", "success")
            return _go(home_url(user))
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/register.html", "auth/_register_form.html", status, form=form)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    accounts.end_sessions(current_user.id)
    session.clear()
    logout_user()  # after clear(): it leaves the note that deletes the remember-me cookie
    flash("You are logged out.", "info")
    return _go(url_for("auth.login"))


def _go(url: str):  # type: ignore[no-untyped-def]
    """Redirect after a successful POST: 303 for a classic form, HX-Redirect for htmx."""
    if htmx.wants_fragment():
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url, 303)
