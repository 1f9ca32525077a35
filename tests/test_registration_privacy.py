"""Registration tells no one which addresses have accounts: a taken address and a new one get the same
status, headers, page and next page, for the same work; invalid input is answered alike for both, with
every field's messages and nothing written; the owner of a taken address is told by e-mail instead."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import OutboxMessage, User
from booking.models.types import utcnow
from tests.conftest import HTMX
from tests.factories import make_user
from tests.mailbox import arrived, bodies, link_in

PASSWORD = "correct horse battery"
OWNER = "owner@example.com"
WARNING = "Someone tried to register with your e-mail address"
CONFIRM = "Confirm your e-mail address"
#: Headers that differ between any two responses, whatever was asked: ids, dates, cookies; and the length,
#: since a refused form shows the address as typed (the bodies are compared without it).
VARYING = {"Set-Cookie", "X-Request-ID", "Date", "Content-Length"}
_numbers = itertools.count()
#: Each session's CSRF token, in the page's hx-headers and forms: random, so it differs per visitor.
CSRF_TOKEN = re.compile(r'(?<="X-CSRFToken": ")[^"]+|(?<=name="csrf_token" type="hidden" value=")[^"]+')


def register(client, email: str, password: str = PASSWORD, confirm: str | None = None,  # type: ignore[no-untyped-def]
             htmx: bool = False, name: str = "New Person"):
    return client.post("/auth/register", headers=HTMX if htmx else {}, data={
        "full_name": name, "email": email, "password": password,
        "password_confirm": password if confirm is None else confirm})


def shape(response, typed: str) -> tuple[int, dict[str, str], str]:  # type: ignore[no-untyped-def]
    """What the person registering sees, with the address they typed taken out (a refused form shows it)."""
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    body = response.get_data(as_text=True)
    body = CSRF_TOKEN.sub("<token>", body.replace(typed, "<typed>") if typed else body)
    return response.status_code, headers, body


def counts() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(sa.select(sa.func.count(User.id))),
            db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))))


def subjects_to(email: str) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == email)))


SHAPES = {  # how an address is typed, from its local part; the first two are well formed
    "plain": "{}@example.com",
    "cased-and-spaced": " {}@EXAMPLE.com ",
    "no-dot-in-domain": "{}@example",
    "nothing-after-at": "{}@",
    "no-at": "{}.example.com",
}
WELL_FORMED = ("plain", "cased-and-spaced")
PASSWORDS = {  # kind -> (password, confirmation)
    "good": (PASSWORD, PASSWORD),
    "short": ("short", "short"),
    "mismatch": (PASSWORD, PASSWORD + "!"),
    "common": ("password123", "password123"),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), st.booleans()), min_size=1, max_size=5),
       password=st.sampled_from(sorted(PASSWORDS)), htmx=st.booleans())
def test_any_mix_of_taken_new_and_malformed_addresses_gets_answers_that_tell_nothing(app, attempts, password,
                                                                                     htmx):
    """Registrations in any order, each with an address of some shape that is the taken one's or a new
    one's: addresses typed the same way get the same status, headers and page whether or not they are
    taken; only a well-formed new address with a good password gets an account; refused input writes
    nothing and shows every field's messages; the taken account is never touched."""
    if not db.session.scalar(sa.select(User.id).where(User.email == OWNER)):
        make_user(Role.PATIENT, email=OWNER)
    owner_hash = db.session.scalar(sa.select(User.password_hash).where(User.email == OWNER))
    chosen, confirm = PASSWORDS[password]
    seen: dict[str, tuple[bool, object]] = {}
    for shape_name, taken in attempts:
        local = "owner" if taken else f"new{next(_numbers)}"
        typed = SHAPES[shape_name].format(local.upper() if shape_name == "cased-and-spaced" else local)
        users_before, mails_before = counts()
        response = register(app.test_client(), typed, chosen, confirm, htmx)
        users_after, mails_after = counts()

        well_formed = shape_name in WELL_FORMED
        accepted = well_formed and password == "good"
        assert response.status_code == ((204 if htmx else 303) if accepted else 422)
        assert users_after - users_before == (1 if accepted and not taken else 0)
        if not accepted:
            html = response.get_data(as_text=True)
            assert mails_after == mails_before, "refused input writes nothing"
            assert ('id="email-errors"' in html) == (not well_formed), "the e-mail's message comes with the others"
            assert ('id="password-errors"' in html or 'id="password_confirm-errors"' in html) == (password != "good")
        assert db.session.scalar(sa.select(User.password_hash).where(User.email == OWNER)) == owner_hash

        answer = shape(response, typed.strip())
        if shape_name in seen:
            was_taken, earlier = seen[shape_name]
            assert answer == earlier, f"{shape_name}: taken={was_taken} and taken={taken} were answered differently"
        seen[shape_name] = (taken, answer)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_taken_and_a_new_address_get_the_same_answer_and_the_same_next_page(app, htmx):
    make_user(Role.PATIENT, email=OWNER)
    taken_client, new_client = app.test_client(), app.test_client()
    taken = register(taken_client, OWNER, htmx=htmx)
    new = register(new_client, "someone.new@example.com", htmx=htmx)

    assert shape(taken, OWNER) == shape(new, "someone.new@example.com")
    following = [(r.headers.get("Location") or r.headers["HX-Redirect"]) for r in (taken, new)]
    assert following == ["/auth/register/check-email"] * 2
    pages = [client.get(following[0]) for client in (taken_client, new_client)]
    assert shape(pages[0], "") == shape(pages[1], "")
    assert "Check your e-mail" in pages[0].get_data(as_text=True)
    for client in (taken_client, new_client):  # nobody is logged in either way
        with client.session_transaction() as session:
            assert "_user_id" not in session
        assert client.get("/me/appointments").status_code == 302


def test_every_fields_messages_come_at_once_taken_or_not(app):
    make_user(Role.PATIENT, email=OWNER)
    for typed in ("owner@", "nobody@"):
        response = register(app.test_client(), typed, "short", "shorter", name="")
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        for field in ("full_name", "email", "password", "password_confirm"):
            assert f'id="{field}-errors"' in html, (typed, field)
        assert "Use at least 10 characters." in html and "The passwords do not match." in html
    assert counts() == (1, 0)


def test_both_cases_hash_the_password_once(app, monkeypatch):
    """Hashing is most of a registration's time: a taken address does it too, so timing tells nothing."""
    from booking.services import accounts

    calls: list[str] = []
    real = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda password: calls.append(password) or real(password))
    make_user(Role.PATIENT, email=OWNER)
    register(app.test_client(), OWNER)
    taken = len(calls)
    register(app.test_client(), "fresh@example.com")
    assert taken == 1 and len(calls) == 2


def test_the_owner_is_told_by_mail_with_links_from_the_base_url_and_no_password(make_app, smtp):
    box, port = smtp
    app = make_app(BASE_URL="https://booking.clinic.example", TRUSTED_HOSTS="localhost",
                   MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        owner = make_user(Role.PATIENT, email=OWNER, full_name="Olive Owner")
        typed = "Stranger's-Secret-Pass 99"
        assert register(app.test_client(), OWNER, typed, name="Someone Else").status_code == 303

        [mail] = arrived(box, OWNER, WARNING)
        text, html = bodies(mail)["text/plain"], bodies(mail)["text/html"]
        assert "Hello Olive Owner" in text
        assert "https://booking.clinic.example/auth/login" in text
        assert "https://booking.clinic.example/auth/reset" in text and 'href="https://booking.clinic.example/auth/reset"' in html
        assert "/auth/verify/" not in text, "a confirmed owner needs no confirmation link"
        for secret in (typed, "Someone Else"):
            assert secret not in mail.as_string()
        assert db.session.get(User, owner.id).full_name == "Olive Owner"
        assert subjects_to(OWNER) == [WARNING]


def test_an_owner_who_never_confirmed_gets_a_working_confirmation_link(mail_app):
    app, box = mail_app
    client = app.test_client()
    register(client, "late@example.com")
    register(client, "late@example.com")
    link = link_in(box, "late@example.com", WARNING, "/auth/verify/")
    assert client.get(link).status_code == 303
    assert client.post("/auth/login", data={"email": "late@example.com", "password": PASSWORD}).status_code == 303


def test_the_owner_is_told_at_most_once_an_hour(app):
    make_user(Role.PATIENT, email=OWNER)
    for _ in range(3):
        assert register(app.test_client(), OWNER).status_code == 303
    assert subjects_to(OWNER) == [WARNING]
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1)):
        assert register(app.test_client(), OWNER).status_code == 303
    assert subjects_to(OWNER) == [WARNING, WARNING]


def test_a_switched_off_or_staff_owner_is_told_too_and_left_as_is(app):
    make_user(Role.PATIENT, email="off@example.com", active=False)
    make_user(Role.STAFF, email="doctor@example.com")
    for email in ("off@example.com", "doctor@example.com"):
        assert register(app.test_client(), email).headers["Location"] == "/auth/register/check-email"
        assert subjects_to(email) == [WARNING]
    db.session.rollback()
    assert db.session.scalar(sa.select(User.role).where(User.email == "doctor@example.com")) == "staff"
    assert not db.session.scalar(sa.select(User.active).where(User.email == "off@example.com"))


def test_registration_limits_count_taken_and_new_addresses_alike(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", REGISTRATIONS_PER_ADDRESS="2 per hour",
                   RATELIMIT_KEY_PREFIX=f"privacy-{next(_numbers)}")
    with app.app_context():
        make_user(Role.PATIENT, email=OWNER)
        statuses = [register(app.test_client(), email).status_code
                    for email in (OWNER, "one@example.com", OWNER, "two@example.com")]
        assert statuses == [303, 303, 429, 429]
        assert counts()[0] == 2
