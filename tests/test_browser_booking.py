"""In Chromium: a patient registers, confirms the e-mail, finds a provider, books, sees the request;
the same journey with JavaScript switched off."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Appointment, Specialty
from tests.booking_helpers import everyday_provider
from tests.live import PHONE, screenshot
from tests.mailbox import link_in

PASSWORD = "correct horse battery"


def clinic():  # type: ignore[no-untyped-def]
    """Two providers in two specialties, both working every day."""
    physio, skin = everyday_provider(), everyday_provider()
    physio.specialty = Specialty(name="Physiotherapy")
    skin.specialty = Specialty(name="Dermatology")
    physio.user.full_name, skin.user.full_name = "Dr Ada Physio", "Dr Sam Skin"
    db.session.commit()
    return physio.id, skin.id


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_a_patient_registers_confirms_finds_a_provider_and_books(live, browser, javascript):  # type: ignore[no-untyped-def]
    physio_id, skin_id = clinic()
    page = live.page(browser, java_script_enabled=javascript)
    email = f"ana{'-nojs' if not javascript else ''}@example.com"

    page.goto("/auth/register")
    page.fill("#full_name", "Ana Patient")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#register-form button[type=submit]")
    page.wait_for_url("**/auth/register/check-email")  # the page a taken address leads to as well
    assert "Check your e-mail" in page.inner_text("h1")

    page.goto(link_in(live.box, email, "Confirm your e-mail address", "/auth/verify/"))
    page.wait_for_url("**/auth/login")
    assert "your e-mail address is confirmed" in page.inner_text("#messages")
    assert page.input_value("#email") == email, "the login form comes filled in with the address"
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/book/")

    cards = page.locator("[data-provider-id]")
    assert cards.count() == 2
    page.select_option("#specialty", label="Physiotherapy")
    if not javascript:
        page.click("form.filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('[data-provider-id]').length === 1")
    assert page.get_attribute("[data-provider-id]", "data-provider-id") == str(physio_id)
    assert "specialty=" in page.url  # the filter is in the address: bookmarkable, back button works

    page.click("[data-provider-id] h2 a")
    page.wait_for_url(re.compile(rf"/book/{physio_id}\b"))
    this_month = page.inner_text("#calendar-title")
    page.click("#calendar a[rel=next]")
    page.wait_for_function("t => document.querySelector('#calendar-title').innerText !== t", arg=this_month)
    page.click("#calendar a[rel=prev]")
    page.wait_for_function("t => document.querySelector('#calendar-title').innerText === t", arg=this_month)
    page.click("#calendar a[rel=next]")  # next month has free days whatever today's date
    page.wait_for_function("t => document.querySelector('#calendar-title').innerText !== t", arg=this_month)

    day = page.locator("#calendar a[data-day]").nth(2)
    chosen_day = day.get_attribute("data-day")
    day.click()
    page.wait_for_selector("#slots [data-slot-start]")
    assert chosen_day[-2:].lstrip("0") in page.inner_text("#slots-title")
    slot = page.locator("#slots [data-slot-start]").first
    start = slot.get_attribute("data-slot-start")
    slot.click()
    page.wait_for_selector("#confirm-title")
    page.fill("textarea[name=reason]", "My knee hurts")
    page.click("form[action$='/book/%d'] button[type=submit]" % physio_id)
    if javascript:  # swapped in place, the booking's card
        page.wait_for_selector("#booked-title")
        assert page.inner_text("#booked-title") == "Request sent"
    else:  # the classic way: posted, redirected to the appointment's own page
        page.wait_for_url(re.compile(r"/me/appointments/\d+$"))
        assert "Request sent" in page.inner_text("#messages")
    screenshot(page, f"journey-booked-{'js' if javascript else 'nojs'}")

    page.goto("/me/appointments")
    card = page.locator("[data-appointment-id]").first
    assert "pending" in card.inner_text().lower() and "Dr Ada Physio" in card.inner_text()
    db.session.rollback()
    [booked] = db.session.scalars(sa.select(Appointment)).all()
    assert booked.status == "pending" and booked.reason == "My knee hurts"
    assert start.startswith(chosen_day)
    page.context.close()
