"""Private calendar feeds: the right appointments for each person, zone-correct, revocable."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import User
from tests.booking_helpers import everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.suite_log import remember_secret


def logged_in(app, user: User):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    return client


def feed_path(client) -> str:  # type: ignore[no-untyped-def]
    """The feed address as the profile page shows it."""
    page = client.get("/account/").get_data(as_text=True)
    path = re.search(r'id="feed-url"[^>]*value="http://localhost(/calendar/([^"]+)\.ics)"', page)
    remember_secret(path[2])  # no log may ever show it
    return path[1]


def events(app, path: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "no-store" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.get_data())
    assert str(calendar["METHOD"]) == "PUBLISH"
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def at(days: int, hour: int, zone: str) -> datetime:
    return datetime.fromisoformat(wall(days, hour, zone=zone)).replace(tzinfo=ZoneInfo(zone))


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    kolkata = everyday_provider(zone="Asia/Kolkata")
    london = everyday_provider()
    patient, other = make_user(Role.PATIENT, full_name="Priya Shah"), make_user(Role.PATIENT, full_name="Tom Other")
    booked = {
        "pending": make_appointment(patient=patient, provider=kolkata, start_at=at(3, 10, "Asia/Kolkata")),
        "approved": make_appointment(patient=patient, provider=london, start_at=at(4, 9, "Europe/London"),
                                     status=Status.APPROVED),
        "cancelled": make_appointment(patient=patient, provider=london, start_at=at(5, 9, "Europe/London"),
                                      status=Status.CANCELLED),
        "other": make_appointment(patient=other, provider=kolkata, start_at=at(3, 11, "Asia/Kolkata"),
                                  status=Status.APPROVED),
    }
    return kolkata, london, patient, booked


def uid(appointment) -> str:  # type: ignore[no-untyped-def]
    return f"appointment-{appointment.id}@booking.invalid"


def test_a_patients_feed_lists_their_standing_appointments_in_the_providers_zone(app, clinic):  # type: ignore[no-untyped-def]
    kolkata, _, patient, booked = clinic
    shown = events(app, feed_path(logged_in(app, patient)))
    assert set(shown) == {uid(booked["pending"]), uid(booked["approved"])}  # not cancelled, not another's
    pending = shown[uid(booked["pending"])]
    start = pending.decoded("DTSTART")
    assert str(start.tzinfo) == "Asia/Kolkata" and (start.hour, start.minute) == (10, 0)
    assert start == booked["pending"].start_at
    assert pending.decoded("DTEND") == booked["pending"].end_at
    assert str(pending["STATUS"]) == "TENTATIVE" and str(shown[uid(booked["approved"])]["STATUS"]) == "CONFIRMED"
    assert kolkata.name in str(pending["SUMMARY"]) and "awaiting confirmation" in str(pending["SUMMARY"])


def test_a_staff_members_feed_lists_their_providers_appointments_with_patients(app, clinic):  # type: ignore[no-untyped-def]
    kolkata, _, _, booked = clinic
    shown = events(app, feed_path(logged_in(app, kolkata.user)))
    assert set(shown) == {uid(booked["pending"]), uid(booked["other"])}
    assert "Priya Shah" in str(shown[uid(booked["pending"])]["SUMMARY"])


def test_a_new_address_revokes_the_old_one(app, clinic):  # type: ignore[no-untyped-def]
    _, _, patient, _ = clinic
    client = logged_in(app, patient)
    old = feed_path(client)
    renewed = client.post("/account/calendar", headers={"HX-Request": "true"})
    assert renewed.status_code == 200 and 'id="calendar-feed"' in renewed.get_data(as_text=True)
    new = feed_path(client)
    assert new != old and new in renewed.get_data(as_text=True).replace("http://localhost", "")
    assert app.test_client().get(old).status_code == 404
    assert len(events(app, new)) == 2


@pytest.mark.parametrize("token", ["short", "x" * 43, "%00" * 40, "a" * 500])
def test_unknown_or_hostile_tokens_find_nothing(app, clinic, token):  # type: ignore[no-untyped-def]
    assert app.test_client().get(f"/calendar/{token}.ics").status_code in (400, 404)


def test_a_switched_off_account_has_no_feed(app, clinic):  # type: ignore[no-untyped-def]
    _, _, patient, _ = clinic
    path = feed_path(logged_in(app, patient))
    user = db.session.get(User, patient.id, populate_existing=True)
    user.active = False
    db.session.commit()
    assert app.test_client().get(path).status_code == 404
