"""Every form tells every field's fault in one answer: nobody corrects a form in rounds.

Each case posts a form with several fields wrong at once; the one 422 must carry every message, both
as a page and as the htmx fragment, and nothing may be saved.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import IntakeQuestion, Provider, Service, TimeOff, User, WorkingHours
from booking.services.accounts import password_fingerprint
from booking.services.tokens import make_token
from tests.booking_helpers import everyday_provider
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_service, make_user

SHORT = "Use at least 10 characters."
MISMATCH = "The passwords do not match."


@dataclass
class Case:
    role: Role | None  # who is logged in (None: nobody)
    path: Callable[[User], str]
    data: dict[str, Any]
    messages: list[str]
    unchanged: Callable[[User], object] = field(default=lambda user: None)  # what must not change


def reset_link(user: User) -> str:
    return "/auth/reset/" + make_token("password-reset", {"id": user.id, "pw": password_fingerprint(user)})


def password_hash(user: User) -> str:
    db.session.rollback()
    return db.session.get(User, user.id).password_hash


def count(model: type) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


CASES = {
    "register": Case(None, lambda u: "/auth/register", {
        "full_name": "", "email": "not-an-address", "phone": "call me", "password": "short",
        "password_confirm": "other"},
        ["This field is required.", "An email address must have an @-sign.",
         "Enter a phone number: digits, spaces and + ( ) - only.", SHORT, MISMATCH],
        lambda u: count(User)),
    "change password": Case(Role.PATIENT, lambda u: "/account/password", {
        "current_password": "not my password", "password": "short", "password_confirm": "other"},
        ["Your current password is not right.", SHORT, MISMATCH], password_hash),
    "reset password": Case(Role.PATIENT, reset_link, {"password": "short", "password_confirm": "other"},
                           [SHORT, MISMATCH], password_hash),
    "delete account": Case(Role.PATIENT, lambda u: "/account/delete", {"password": "not my password"},
                           ["Your password is not right.", "Tick the box to confirm."],
                           lambda u: db.session.get(User, u.id).deleted_at),
    "profile": Case(Role.PATIENT, lambda u: "/account/", {
        "full_name": "", "phone": "call me", "date_of_birth": "2999-01-01", "address": "x" * 501,
        "timezone": "Mars/Olympus_Mons"},
        ["This field is required.", "Enter a phone number: digits, spaces and + ( ) - only.",
         "Enter a date of birth in the past.", "Field cannot be longer than 500 characters.",
         "Choose a time zone from the list."],
        lambda u: db.session.get(User, u.id).full_name),
    "admin: new staff account": Case(Role.ADMIN, lambda u: "/admin/users", {
        "role": "staff", "full_name": "", "email": "not-an-address", "password": "short"},
        ["An email address must have an @-sign.", "Enter a name.", SHORT], lambda u: count(User)),
    "admin: new service": Case(Role.ADMIN, lambda u: "/admin/services", {
        "name": "", "duration_min": "0", "price": "lots"},
        ["Give the service a name of up to 120 characters.", "A service lasts between 5 and 1440 minutes (a day).",
         "Give the price like 45 or 45.50."], lambda u: count(Service)),
    "admin: new provider": Case(Role.ADMIN, lambda u: "/admin/providers/new", {
        "timezone": "Mars/Olympus_Mons", "buffer_before_min": "ten", "horizon_days": "0", "fee": "lots",
        "license_number": "L" * 65},
        ["Choose a time zone from the list.", "buffer before min must be a whole number.",
         "horizon days must be between 1 and 730.", "Give the fee like 45 or 45.50, or leave it empty.",
         "Keep the licence number to 64 characters."], lambda u: count(Provider)),
    "admin: new intake question": Case(Role.ADMIN, lambda u: f"/admin/services/{make_service().id}/questions", {
        "prompt": "", "kind": "choice", "choices": "Only one"},
        ["Write the question in up to 200 characters.", "Give between 2 and 20 answers to choose from, one a line."],
        lambda u: count(IntakeQuestion)),
    "working hours": Case(Role.STAFF, lambda u: "/staff/hours", {"weekday": "9", "start": "9", "end": "25:00"},
                          ["Choose a day of the week.", "The start time must look like 09:30.",
                           "The end time must look like 09:30 (or 24:00 for midnight)."],
                          lambda u: count(WorkingHours)),
    "time off": Case(Role.STAFF, lambda u: "/staff/time-off", {"start": "soon", "end": "2026-05-31T09:00",
                                                                "reason": "r" * 201},
                     ["The start must be a date and time like 2026-05-31T09:00.",
                      "Please keep the reason to 200 characters."], lambda u: count(TimeOff)),
    "time off the wrong way round": Case(Role.STAFF, lambda u: "/staff/time-off", {
        "start": "2026-05-31T10:00", "end": "2026-05-31T09:00", "reason": "r" * 201},
        ["The time off must end after it starts.", "Please keep the reason to 200 characters."],
        lambda u: count(TimeOff)),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("name", list(CASES))
def test_every_wrong_field_is_told_in_one_answer(app, client, auth, name, htmx):  # type: ignore[no-untyped-def]
    case = CASES[name]
    user = make_user(case.role or Role.PATIENT)
    if case.role is Role.STAFF:
        everyday_provider().user_id = user.id
        db.session.commit()
    if case.role is not None:
        assert auth.login(user.email, DEFAULT_PASSWORD).status_code == 303
    before = case.unchanged(user)

    response = client.post(case.path(user), data=case.data, headers=HTMX if htmx else {})

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    missing = [message for message in case.messages if message not in body]
    assert missing == [], f"{name}: not told {missing}"
    assert case.unchanged(user) == before


def test_the_services_refuse_with_every_problem_too(app):  # type: ignore[no-untyped-def]
    """A caller without a form (the command line, the API later) hears of every fault at once as well."""
    from booking.services import accounts
    from booking.services.errors import Invalid

    with pytest.raises(Invalid) as refused:
        accounts.create_user(email="nope", full_name=" ", role=Role.STAFF, password="short", phone="1" * 40)
    assert {field for field, _ in refused.value.problems} == {"email", "full_name", "phone", "password"}

    user = make_user(Role.PATIENT)
    with pytest.raises(Invalid) as refused:
        accounts.change_password(user.id, "not my password", "short", "http://localhost/auth/reset")
    assert refused.value.problems == [("current_password", "Your current password is not right."),
                                      ("password", SHORT)]
