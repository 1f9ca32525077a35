"""`GET /`: the clinic's public start page, for visitors without an account as much as for anyone.

It says who the clinic is and where (name, address with a map link, opening hours, phone and e-mail),
offers the search and the specialties of the directory, and lists providers with their first free
times, each a link to the confirm step: a visitor can book from here without another page between.

Links that mean "start again" (the brand in the header, the error pages) lead a visitor here, not to
the login page: a mistyped address should not look like a demand to log in.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from flask_login import current_user

from booking.auth.access import public_page
from booking.domain.opening_hours import read as read_opening_hours
from booking.extensions import db
from booking.models import Provider, Specialty
from booking.models.queries import active_providers, bookable_provider_ids
from booking.models.types import utcnow
from booking.patient.directory import provider_cards
from booking.seo import clinic_data
from booking.services.calendar_links import map_url
from booking.views import home_url

bp = Blueprint("home", __name__)

HOME_PROVIDERS = 6  # the directory lists the rest, a page at a time


@bp.get("/")
@public_page
def index():  # type: ignore[no-untyped-def]
    config = current_app.config
    shown = db.session.scalars(active_providers().limit(HOME_PROVIDERS + 1)).all()
    bookable = bookable_provider_ids().where(Provider.specialty_id == Specialty.id)
    specialties = db.session.scalars(sa.select(Specialty).where(bookable.exists()).order_by(Specialty.name)).all()
    opening_hours = read_opening_hours(config["CLINIC_OPENING_HOURS"])
    return render_template(
        "home.html", clinic_address=config["CLINIC_ADDRESS"], clinic_phone=config.get("CLINIC_PHONE"),
        clinic_email=config["CLINIC_EMAIL"], description=config["CLINIC_DESCRIPTION"],
        map_url=map_url(config["CLINIC_ADDRESS"]), opening_hours=opening_hours,
        cards=provider_cards(shown[:HOME_PROVIDERS], None, utcnow()), more_providers=len(shown) > HOME_PROVIDERS,
        specialties=specialties, own_home_url=home_url(current_user), clinic_data=clinic_data(opening_hours),
    )
