"""Forgotten passwords: a signed link by e-mail that works once, for 30 minutes, and tells no one
whether an address has an account. Also the expiry of e-mail confirmation links, on a moved clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import User
from booking.services.tokens import make_token
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.mailbox import bodies, link_in

NEW_PASSWORD = "a brand new passphrase"
RESET_SUBJECT = "Reset your password"


def ask_for_link(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/reset", data={"email": email}, follow_redirects=True)


def reset_link(box, email: str) -> str:  # type: ignore[no-untyped-def]
    return link_in(box, email, RESET_SUBJECT, "/auth/reset/")


def choose(client, link: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(link, data={"password": password, "password_confirm": password})


def logs_in(app, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    return app.test_client().post("/auth/login", data={"email": email, "password": password}).status_code == 303


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="known@example.com")
    known = ask_for_link(app.test_client(), "Known@Example.com ")
    unknown = ask_for_link(app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.request.path == unknown.request.path == "/auth/login"
    message = "If an account uses that address, we sent it a link"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert [m["Subject"] for m in box.to(user.email)] == [RESET_SUBJECT]
    assert box.to("nobody@example.com") == []
    text = bodies(box.to(user.email)[0])["text/plain"]
    assert "30 minutes" in text and "/auth/reset/" in text


def test_a_switched_off_account_gets_no_link(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    make_user(Role.PATIENT, email="off@example.com", active=False)
    assert ask_for_link(app.test_client(), "off@example.com").status_code == 200
    assert box.to("off@example.com") == []


def test_the_link_sets_a_new_password_once_and_ends_every_session(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    elsewhere = app.test_client()
    elsewhere.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    assert elsewhere.get("/me/appointments").status_code == 200

    ask_for_link(app.test_client(), user.email)
    link = reset_link(box, user.email)
    visitor = app.test_client()
    assert visitor.get(link).status_code == 200
    done = choose(visitor, link)
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"

    assert logs_in(app, user.email, NEW_PASSWORD) and not logs_in(app, user.email, DEFAULT_PASSWORD)
    assert elsewhere.get("/me/appointments").status_code == 302  # the old session and its cookie are dead
    assert [m["Subject"] for m in box.to(user.email)] == [RESET_SUBJECT, "Your password was changed"]

    again = choose(app.test_client(), link, "yet another passphrase")
    assert again.status_code == 400 and "was used already" in again.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 400
    assert logs_in(app, user.email, NEW_PASSWORD)


def test_a_link_dies_when_the_password_changes_another_way(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    ask_for_link(app.test_client(), user.email)
    link = reset_link(box, user.email)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    changed = client.post("/account/password", data={"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD,
                                                      "password_confirm": NEW_PASSWORD})
    assert changed.status_code == 303
    assert app.test_client().get(link).status_code == 400


@pytest.mark.parametrize("minutes, works", [(29, True), (31, False)])
def test_the_link_expires_after_thirty_minutes(mail_app, minutes, works):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    ask_for_link(app.test_client(), user.email)
    link = reset_link(box, user.email)
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=minutes)):
        response = choose(app.test_client(), link)
    assert response.status_code == (303 if works else 400)
    assert logs_in(app, user.email, NEW_PASSWORD) is works


@pytest.mark.parametrize("tamper", ["forged", "other-purpose", "other-user", "not-json"])
def test_a_tampered_link_is_refused(mail_app, tamper):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    victim = make_user(Role.ADMIN, email="admin@example.com")
    ask_for_link(app.test_client(), user.email)
    link = reset_link(box, user.email)
    token = link.rsplit("/", 1)[1]
    if tamper == "forged":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif tamper == "other-purpose":  # a confirmation link's signature is not a reset link's
        token = make_token("verify-email", {"id": user.id, "pw": "x"})
    elif tamper == "other-user":  # the payload is readable; swapping the id breaks the signature
        payload, rest = token.split(".", 1)
        import base64, json

        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["id"] = victim.id
        token = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=") + "." + rest
    else:
        token = "not-a-token-at-all"
    response = choose(app.test_client(), f"/auth/reset/{token}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert logs_in(app, user.email, DEFAULT_PASSWORD) and logs_in(app, victim.email, DEFAULT_PASSWORD)


def test_a_weak_or_mismatched_new_password_is_refused_and_the_link_still_works(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    ask_for_link(app.test_client(), user.email)
    link = reset_link(box, user.email)
    client = app.test_client()
    weak = choose(client, link, "short")
    assert weak.status_code == 422 and "at least 10 characters" in weak.get_data(as_text=True)
    mismatch = client.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.get_data(as_text=True)
    assert choose(client, link).status_code == 303


def test_a_reset_confirms_the_address(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    user = make_user(Role.PATIENT, email="me@example.com")
    user.email_verified_at = None
    db.session.commit()
    ask_for_link(app.test_client(), user.email)
    assert choose(app.test_client(), reset_link(box, user.email)).status_code == 303
    db.session.rollback()
    assert db.session.get(User, user.id).email_verified


@pytest.mark.parametrize("hours, works", [(47, True), (49, False)])
def test_a_confirmation_link_expires_after_48_hours(mail_app, hours, works):  # type: ignore[no-untyped-def]
    app, box = mail_app
    client = app.test_client()
    client.post("/auth/register", data={"full_name": "New Person", "email": "new@example.com",
                                        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    link = link_in(box, "new@example.com", "Confirm your e-mail address", "/auth/verify/")
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(hours=hours)):
        response = client.get(link)
    assert response.status_code == (303 if works else 400)
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified is works


def test_a_confirmation_link_does_nothing_the_second_time(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    client = app.test_client()
    client.post("/auth/register", data={"full_name": "New Person", "email": "new@example.com",
                                        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    link = link_in(box, "new@example.com", "Confirm your e-mail address", "/auth/verify/")
    assert client.get(link).status_code == 303
    db.session.rollback()
    first = db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified_at
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(hours=1)):
        second = client.get(link, follow_redirects=True)
    assert "already confirmed" in second.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")).email_verified_at == first
