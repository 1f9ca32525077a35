"""Register, log in, log out; confirm an e-mail address; reset a forgotten password."""
from __future__ import annotations

import logging
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from booking import htmx
from booking.auth.access import leave, safe_next
from booking.logs import fingerprint, security_event
from booking.ratelimit import login_limits, registration_limits, reset_limits
from booking.auth.forms import ForgotPasswordForm, LoginForm, NewPasswordForm, RegisterForm
from booking.forms import attach_error
from booking.extensions import db
from booking.models import User, write_transaction
from booking.services import accounts, notify
from booking.services.tokens import make_token, read_token
from booking.services.errors import Invalid, ServiceError
from booking.views import home_url, public_url

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOGIN_FAILED = "The e-mail or password is not right."
#: Said with every failed login, so that an unconfirmed account's refusal looks like any other.
LOGIN_FAILED_HINT = "A new account can log in once its e-mail address is confirmed with the link we sent."
CONFIRMED_EMAIL_KEY = "confirmed_email"  # the login form is filled in with it after a confirmation link
ACCOUNT_INACTIVE = "This account has been switched off. Please contact the clinic."


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_url(current_user), 303)
    form = LoginForm()
    if not form.is_submitted() and session.get(CONFIRMED_EMAIL_KEY):
        form.email.data = session.pop(CONFIRMED_EMAIL_KEY)
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.AccountInactive:
            security_event("login_refused", "login to a switched-off account", logging.WARNING,
                           account=fingerprint(form.email.data))
            form.form_errors.append(ACCOUNT_INACTIVE)
        except accounts.AccountUnconfirmed:
            security_event("login_refused", "login to an account not confirmed yet", logging.WARNING,
                           account=fingerprint(form.email.data))
            form.form_errors += [LOGIN_FAILED, LOGIN_FAILED_HINT]
        else:
            if user is not None:
                session.clear()  # a fresh session at login: no fixation, no leftovers
                login_user(user, remember=form.remember.data)
                security_event("login_succeeded", "logged in", user_id=user.id, remember=bool(form.remember.data))
                flash(f"Welcome, {user.full_name}.", "success")
                return htmx.go(next_url or home_url(user))
            security_event("login_failed", "wrong e-mail or password", logging.WARNING,
                           account=fingerprint(form.email.data))
            form.form_errors += [LOGIN_FAILED, LOGIN_FAILED_HINT]
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/login.html", "auth/_login_form.html", status, form=form, next_url=next_url,
                       inline=_inline())


@bp.route("/register", methods=["GET", "POST"])
@registration_limits
def register():  # type: ignore[no-untyped-def]
    """A new address gets an account and a confirmation link, a taken one a warning to its owner; the
    person registering sees the same answer and the same next page either way, and is not logged in
    (they log in once the address is confirmed). Invalid input is answered alike for both, too."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user), 303)
    form = RegisterForm()
    # Registering on the way to a booking (the confirm step's form): the e-mails' links lead back there.
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            accounts.register_patient(
                full_name=form.full_name.data, email=form.email.data, password=form.password.data,
                phone=form.phone.data, send_verification=partial(send_verification, next_url=next_url),
                warn_owner=partial(warn_owner, next_url=next_url),
            )
        except ServiceError as error:
            attach_error(form, error)
        else:
            security_event("registration", "registration asked for", account=fingerprint(form.email.data))
            return htmx.go(url_for("auth.check_email", next=next_url))
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/register.html", "auth/_register_form.html", status, form=form, next_url=next_url,
                       inline=_inline())


def _inline() -> bool:
    """The form came back into the confirm step, beside the other one (see auth/_register_form.html)."""
    return request.args.get("inline") == "1" and htmx.wants_fragment()


@bp.get("/register/check-email")
def check_email():  # type: ignore[no-untyped-def]
    """Where every registration leads, whether the address was new or had an account."""
    return render_template("auth/check_email.html", hours=current_app.config["EMAIL_VERIFY_HOURS"],
                           next_url=safe_next(request.args.get("next")))


@bp.get("/verify/<token>")
def verify(token: str):  # type: ignore[no-untyped-def]
    """The link from the confirmation e-mail: signed, and valid for EMAIL_VERIFY_HOURS."""
    payload = read_token("verify-email", token, current_app.config["EMAIL_VERIFY_HOURS"] * 3600)
    user, confirmed = accounts.verify(payload["id"], payload["email"]) if isinstance(payload, dict) else (None, False)
    if user is None:
        abort(400, "This confirmation link is not valid or has expired. Log in and ask for a new one.")
    if confirmed:
        security_event("email_verified", "e-mail address confirmed", user_id=user.id)
        flash("Thank you: your e-mail address is confirmed.", "success")
    else:
        flash("Your e-mail address is already confirmed.", "info")
    if current_user.is_authenticated:
        return redirect(home_url(current_user), 303)
    # The link proves the mailbox, not the password: it fills in the login form but does not log in, so
    # a link opened by whoever it reaches (a mail scanner, someone else) never opens a session.
    session[CONFIRMED_EMAIL_KEY] = user.email
    flash("Log in with your password to continue.", "info")
    return redirect(url_for("auth.login", next=safe_next(payload.get("next"))), 303)


@bp.post("/verify/resend")
@login_required
def resend_verification():  # type: ignore[no-untyped-def]
    if current_user.email_verified:
        flash("Your e-mail address is already confirmed.", "info")
    else:
        with write_transaction():
            send_verification(db.session.get(User, current_user.id))
        flash("We sent you a new confirmation link.", "success")
    return redirect(home_url(current_user), 303)


def send_verification(user: User, next_url: str | None = None) -> None:
    """Queue the confirmation e-mail (inside the caller's transaction). `next_url`, a path inside the
    app such as the confirm step of a chosen time, is where the link leads after logging in."""
    notify.verify_email(user, _verify_link(user, next_url))


def warn_owner(user: User, next_url: str | None = None) -> None:
    """Queue the e-mail telling an address's owner that someone tried to register with it. Most often
    that is the owner, who forgot the account: its login link leads back to where they were going."""
    notify.registration_attempt(user, public_url("auth.login", next=next_url), public_url("auth.forgot_password"),
                                None if user.email_verified else _verify_link(user, next_url))


def _verify_link(user: User, next_url: str | None = None) -> str:
    payload: dict[str, object] = {"id": user.id, "email": user.email}
    if next_url:
        payload["next"] = next_url
    return public_url("auth.verify", token=make_token("verify-email", payload))


RESET_SENT = ("If an account uses that address, we sent it a link to choose a new password. "
              "It works once, for {minutes} minutes.")
RESET_PURPOSE = "password-reset"


@bp.route("/reset", methods=["GET", "POST"])
@reset_limits
def forgot_password():  # type: ignore[no-untyped-def]
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    if form.validate_on_submit():
        candidate = accounts.reset_candidate(form.email.data)
        security_event("password_reset_requested", "password reset asked for", account=fingerprint(form.email.data),
                       known=candidate is not None)
        with write_transaction():  # with or without an account: the same work, so the same time
            if candidate is not None:
                user = db.session.get(User, candidate.id)
                token = make_token(RESET_PURPOSE, {"id": user.id, "pw": accounts.password_fingerprint(user)})
                notify.password_reset(user, public_url("auth.reset_password", token=token), minutes)
        flash(RESET_SENT.format(minutes=minutes), "info")
        return htmx.go(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/forgot.html", "auth/_forgot_form.html", status, form=form, minutes=minutes)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    """The link from the reset e-mail: signed, valid for PASSWORD_RESET_MINUTES, and only once."""
    payload = read_token(RESET_PURPOSE, token, current_app.config["PASSWORD_RESET_MINUTES"] * 60)
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int) or not isinstance(payload.get("pw"), str):
        abort(400, accounts.RESET_LINK_INVALID)
    user = db.session.get(User, payload["id"])
    if user is None or accounts.reset_candidate(user.email) is None or accounts.password_fingerprint(user) != payload["pw"]:
        abort(400, accounts.RESET_LINK_INVALID)
    form = NewPasswordForm(email=user.email)  # the password's rules are told with the other fields
    if form.validate_on_submit():
        try:
            accounts.reset_password(user.id, payload["pw"], form.password.data,
                                    public_url("auth.forgot_password"))
        except Invalid as error:
            if error.field != "password":
                abort(400, error.message)
            attach_error(form, error)
        else:
            security_event("password_reset", "password set from a reset link", user_id=user.id)
            return leave("Your new password is set, and every session was logged out. Log in with it now.", "success")
    status = 422 if form.is_submitted() else 200
    return htmx.render("auth/reset.html", "auth/_reset_form.html", status, form=form, token=token, email=user.email)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    accounts.end_sessions(current_user.id)
    security_event("logout", "logged out everywhere")
    return leave("You are logged out.")

