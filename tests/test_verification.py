"""E-mail verification: a signed, expiring link; unverified patients browse but cannot book."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Appointment, User
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.mailbox import link_in


def register(client, email="new@example.com"):  # type: ignore[no-untyped-def]
    return client.post("/auth/register", data={"full_name": "New Person", "email": email,
                                               "password": "correct horse battery", "password_confirm": "correct horse battery"})


def verify_link(box, email: str) -> str:  # type: ignore[no-untyped-def]
    return link_in(box, email, "Confirm your e-mail address", "/auth/verify/")


def test_register_confirm_then_book(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    client = app.test_client()
    assert register(client).status_code == 303
    assert "confirm your e-mail address to book" in client.get("/book/").get_data(as_text=True)

    refused = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)))
    assert refused.status_code == 403 and "confirm your e-mail address first" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0

    confirmed = client.get(verify_link(box, "new@example.com"))
    assert confirmed.status_code == 303
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303


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


def test_a_new_link_can_be_asked_for(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    client = app.test_client()
    register(client)
    assert client.post("/auth/verify/resend").status_code == 303
    assert len([m for m in box.to("new@example.com") if m["Subject"] == "Confirm your e-mail address"]) == 2


def test_the_requirement_can_be_switched_off(make_app):  # type: ignore[no-untyped-def]
    app = make_app(REQUIRE_VERIFIED_EMAIL=False)
    with app.app_context():
        provider = everyday_provider()
        client = app.test_client()
        register(client)
        assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
