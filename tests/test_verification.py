"""E-mail verification: a signed, expiring link; an unconfirmed account neither logs in nor books."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Appointment, OutboxMessage, User
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.mailbox import link_in


def register(client, email="new@example.com"):  # type: ignore[no-untyped-def]
    return client.post("/auth/register", data={"full_name": "New Person", "email": email,
                                               "password": "correct horse battery", "password_confirm": "correct horse battery"})


def verify_link(box, email: str) -> str:  # type: ignore[no-untyped-def]
    return link_in(box, email, "Confirm your e-mail address", "/auth/verify/")


def log_in(client, email="new@example.com"):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", data={"email": email, "password": "correct horse battery"})


def test_register_confirm_log_in_then_book(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    client = app.test_client()
    registered = register(client)
    assert registered.status_code == 303 and registered.headers["Location"] == "/auth/register/check-email"
    assert log_in(client).status_code == 422, "not before the address is confirmed"

    confirmed = client.get(verify_link(box, "new@example.com"))
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/auth/login"
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified
    assert log_in(client).status_code == 303
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303


@pytest.fixture
def unconfirmed_patient(make_app):  # type: ignore[no-untyped-def]
    """A clinic that lets new accounts in unconfirmed: its app, a provider, and a new patient's logged-in client."""
    app = make_app(REQUIRE_VERIFIED_EMAIL=False)
    with app.app_context():
        provider = everyday_provider()
        client = app.test_client()
        register(client)
        assert log_in(client).status_code == 303
        yield app, provider, client


def test_a_session_begun_before_confirmation_was_asked_for_cannot_book(unconfirmed_patient):  # type: ignore[no-untyped-def]
    """A clinic that switches the requirement on: patients logged in unconfirmed browse but cannot book."""
    app, provider, client = unconfirmed_patient
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    assert "confirm your e-mail address to book" in client.get("/book/").get_data(as_text=True)
    refused = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)))
    assert refused.status_code == 403 and "confirm your e-mail address first" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0
    assert client.post("/auth/verify/resend").status_code == 303
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.subject == "Confirm your e-mail address")) == 2


@pytest.mark.parametrize("tamper", ["forged", "other-purpose", "expired"])
def test_a_bad_or_old_link_is_refused(mail_app, tamper):  # type: ignore[no-untyped-def]
    app, box = mail_app
    client = app.test_client()
    register(client)
    path = verify_link(box, "new@example.com")
    if tamper == "forged":
        path = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    elif tamper == "other-purpose":
        from booking.services.tokens import make_token

        user = db.session.scalar(sa.select(User).where(User.email == "new@example.com"))
        path = "/auth/verify/" + make_token("password-reset", {"id": user.id, "email": user.email})
    else:
        app.config["EMAIL_VERIFY_HOURS"] = 0
        time.sleep(1.1)
    response = client.get(path)
    assert response.status_code == 400 and "not valid or has expired" in response.get_data(as_text=True)
    db.session.rollback()
    assert not db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified


def test_registering_again_brings_a_new_link(mail_app):  # type: ignore[no-untyped-def]
    """The first e-mail was lost: registering again answers as ever, and the owner's e-mail (the one
    telling of an attempt on a taken address) carries a fresh confirmation link, since it was never used."""
    app, box = mail_app
    client = app.test_client()
    register(client)
    assert register(client).headers["Location"] == "/auth/register/check-email"
    link = link_in(box, "new@example.com", "Someone tried to register with your e-mail address", "/auth/verify/")
    assert client.get(link).status_code == 303
    assert log_in(client).status_code == 303


def test_the_requirement_can_be_switched_off(unconfirmed_patient):  # type: ignore[no-untyped-def]
    _, provider, client = unconfirmed_patient
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
