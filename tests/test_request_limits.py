"""Request size limits: an oversized body, an oversized field and too many fields answer 413, as a page
or as an htmx fragment with a toast, for anonymous and logged-in people, with CSRF checks on or off,
and nothing is written. Forms of the sizes people really send still work."""
from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from werkzeug.test import encode_multipart

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment, PatientProfile, User
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_user

MB = 1024 * 1024
TOO_MANY = 10_000


def oversized(form: dict[str, str], field: str) -> dict[str, tuple[dict[str, str], str | None]]:
    """Each way to be too large, as (form data, content type); urlencoded unless multipart."""
    many = {**form, **{f"extra{n}": "x" for n in range(TOO_MANY)}}
    return {
        "body": ({**form, field: "a" * (MB + 1)}, None),
        "field": ({**form, field: "a" * (65 * 1024)}, None),
        "parts": (many, None),
        "multipart field": ({**form, field: "a" * (65 * 1024)}, "multipart/form-data"),
        "multipart parts": (many, "multipart/form-data"),
    }


def assert_refused(response, fragment: bool, name: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 413, (name, fragment, response.status_code)
    body = response.get_data(as_text=True)
    if fragment:
        assert "<html" not in body and "HX-Request" in response.headers.get("Vary", "")
        [toast] = json.loads(response.headers["HX-Trigger"])["toast"]["messages"]
        assert toast["level"] == "error" and toast["text"]
    else:
        assert "<html" in body and "Too much at once" in body


def check_every_way(client, url: str, form: dict[str, str], field: str,  # type: ignore[no-untyped-def]
                    nothing_written: Callable[[], None]) -> None:
    for name, (data, content_type) in oversized(form, field).items():
        for fragment in (False, True):
            body: object = data
            extra = {}
            if content_type:  # encoded here: the test client would spool a large one to a file it leaves open
                boundary, body = encode_multipart(data)
                extra = {"content_type": f"{content_type}; boundary={boundary}"}
            response = client.post(url, data=body, headers=HTMX if fragment else {}, **extra)
            assert_refused(response, fragment, name)
            nothing_written()


@pytest.fixture(params=[False, True], ids=["csrf-off", "csrf-on"])
def app_for(request, make_app):  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=request.param)
    with app.app_context():
        yield app


def count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_anonymous_login_and_registration(app_for):  # type: ignore[no-untyped-def]
    client = app_for.test_client()
    users = count(User)

    def no_new_account() -> None:
        assert count(User) == users

    check_every_way(client, "/auth/login", {"email": "someone@example.test", "password": "x"}, "email", no_new_account)
    check_every_way(client, "/auth/register", {"full_name": "New Person", "email": "new@example.test",
                                               "password": DEFAULT_PASSWORD, "password_confirm": DEFAULT_PASSWORD},
                    "full_name", no_new_account)


def test_logged_in_booking_and_profile(make_app):  # type: ignore[no-untyped-def]
    app = make_app()
    with app.app_context():
        user = make_user(Role.PATIENT)
        provider = everyday_provider()
        form = booking_form(provider, wall(3, 10), reason="a knee")
        client = app.test_client()
        assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303

        def nothing_booked() -> None:
            assert count(Appointment) == 0

        check_every_way(client, f"/book/{provider.id}", form, "reason", nothing_booked)

        def profile_unchanged() -> None:
            db.session.commit()
            profile = db.session.scalar(sa.select(PatientProfile).where(PatientProfile.user_id == user.id))
            assert profile is not None and not profile.medical_notes

        profile = {"full_name": user.full_name, "medical_notes": "penicillin"}
        check_every_way(client, "/account/", profile, "medical_notes", profile_unchanged)

        # What people really send still goes through: the longest notes and a booking.
        assert client.post("/account/", data={**profile, "medical_notes": "é" * 2000}).status_code in (200, 303)
        assert client.post(f"/book/{provider.id}", data=form).status_code == 303 and count(Appointment) == 1


def test_the_limits_are_settings(make_app):  # type: ignore[no-untyped-def]
    ok = {"email": "a@b.test", "password": "x"}
    parts, field, body = (make_app(**setting).test_client() for setting in (
        {"MAX_FORM_PARTS": 5}, {"MAX_FORM_MEMORY_SIZE": 10}, {"MAX_CONTENT_LENGTH": 100}))
    assert parts.post("/auth/login", data={**ok, "a": "1", "b": "2", "c": "3"}).status_code == 422
    assert parts.post("/auth/login", data={**ok, "a": "1", "b": "2", "c": "3", "d": "4"}).status_code == 413
    assert field.post("/auth/login", data={**ok, "password": "x" * 10}).status_code == 422
    assert field.post("/auth/login", data={**ok, "password": "x" * 11}).status_code == 413
    assert body.post("/auth/login", data={**ok, "x": "y" * 60}).status_code == 422
    assert body.post("/auth/login", data={**ok, "x": "y" * 80}).status_code == 413
