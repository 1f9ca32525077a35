"""`GET /`: the clinic's public start page, for visitors without an account as much as for anyone.

Links that mean "start again" (the brand in the header, the error pages) lead a visitor here, not to
the login page: a mistyped address should not look like a demand to log in.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from booking.views import home_url

bp = Blueprint("home", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("home.html", clinic_address=current_app.config["CLINIC_ADDRESS"],
                           own_home_url=home_url(current_user))
