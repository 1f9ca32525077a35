"""What a row offers staff and admins is what the services accept: one rule, `available_actions`.

For every status, before and after the start, and every kind of viewer, the buttons drawn in the admin
row, the schedule item and the request queue are exactly the actions whose POST succeeds.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking.domain.actions import Action, Refusal, staff_actions, why_not
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User
from booking.services import decisions
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user

#: The URL word of each action (staff.no_show is /no-show).
URL_WORD = {Action.APPROVE: "approve", Action.REJECT: "reject", Action.COMPLETE: "complete",
            Action.NO_SHOW: "no-show", Action.CANCEL: "cancel"}
FROM_WORD = {word: action for action, word in URL_WORD.items()}
ADMIN, OWN_STAFF, OTHER_STAFF, PATIENT = "admin", "the provider's staff", "another provider's staff", "patient"


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def offered(html: str, appointment_id: int) -> set[Action]:
    """The actions whose forms a page draws for one appointment."""
    words = re.findall(rf'<form method="post" action="/staff/appointments/{appointment_id}/([a-z-]+)"', html)
    return {FROM_WORD[w] for w in words}


def log_in(app, user: User):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client


# --- the pure rule --------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
OPEN = {
    (Status.PENDING, False): {Action.APPROVE, Action.REJECT},
    (Status.PENDING, True): {Action.REJECT},  # an unanswered request still gets its answer
    (Status.APPROVED, False): {Action.CANCEL},
    (Status.APPROVED, True): {Action.COMPLETE, Action.NO_SHOW},
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("start, started", [(NOW + timedelta(minutes=1), False), (NOW, True),
                                            (NOW - timedelta(days=1), True)])
def test_the_rule_by_status_and_start(status, start, started):  # type: ignore[no-untyped-def]
    assert staff_actions(status, start, NOW) == OPEN.get((status, started), set())


def test_refusals_name_their_reason():  # type: ignore[no-untyped-def]
    future, past = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    assert why_not(Action.COMPLETE, Status.APPROVED, future, NOW) == (Refusal.TIME, "It has not started yet.")
    assert why_not(Action.APPROVE, Status.PENDING, past, NOW)[0] is Refusal.TIME
    assert why_not(Action.CANCEL, Status.APPROVED, past, NOW)[0] is Refusal.TIME
    assert why_not(Action.CANCEL, Status.PENDING, future, NOW)[0] is Refusal.RULE
    assert why_not(Action.APPROVE, Status.APPROVED, future, NOW)[0] is Refusal.STATUS
    assert why_not(Action.REJECT, Status.PENDING, past, NOW) is None


# --- offer equals acceptance, through the real pages and routes -----------------------------------------


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    staff, other_staff = make_user(Role.STAFF), make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    everyday_provider().user_id = other_staff.id
    db.session.commit()
    return {"provider": provider, ADMIN: make_user(Role.ADMIN), OWN_STAFF: staff, OTHER_STAFF: other_staff,
            PATIENT: make_user(Role.PATIENT)}


def drawn(app, clinic, viewer: str, appointment: Appointment) -> list[set[Action]]:
    """What each page that shows the appointment to this viewer offers on it."""
    client = log_in(app, clinic[viewer])
    day = appointment.start_at.astimezone(ZoneInfo(ZONE)).date().isoformat()
    pages = []
    if viewer == ADMIN:
        for headers in ({}, HTMX):
            page = client.get(f"/admin/appointments/{appointment.id}", headers=headers)
            assert page.status_code == 200
            pages.append(page.get_data(as_text=True))
    if viewer in (ADMIN, OWN_STAFF):
        schedule = client.get(f"/staff/schedule?date={day}").get_data(as_text=True)
        assert f'data-appointment-id="{appointment.id}"' in schedule
        pages.append(schedule)
        if appointment.status == Status.PENDING.value:
            queue = client.get("/staff/requests").get_data(as_text=True)
            assert f'data-appointment-id="{appointment.id}"' in queue
            pages.append(queue)
    return [offered(html, appointment.id) for html in pages]


@pytest.mark.parametrize("viewer", [ADMIN, OWN_STAFF, OTHER_STAFF, PATIENT])
@pytest.mark.parametrize("days", [3, -1], ids=["future", "past"])
@pytest.mark.parametrize("status", list(Status))
def test_what_a_row_offers_is_what_the_service_accepts(app, clinic, viewer, days, status):  # type: ignore
    provider = clinic["provider"]
    # One appointment per action, alike but for the hour, so each POST meets the appointment untouched.
    made = {action: make_appointment(provider=provider, start_at=at(wall(days, 10 + n)), status=status)
            for n, action in enumerate(Action)}
    sample = made[Action.APPROVE]
    shown = drawn(app, clinic, viewer, sample)
    expected = decisions.available_actions(sample, db.session.get(User, clinic[viewer].id))
    assert all(offer == expected for offer in shown), (shown, expected)

    client = log_in(app, clinic[viewer])
    accepted = set()
    for action, appointment in made.items():
        response = client.post(f"/staff/appointments/{appointment.id}/{URL_WORD[action]}", data={"reason": "Ill"})
        assert response.status_code in (303, 403, 404, 409), (action, response.status_code)
        if response.status_code == 303:
            accepted.add(action)
            db.session.rollback()
            assert db.session.get(Appointment, appointment.id).status == action.target.value
    assert accepted == expected
    if viewer in (ADMIN, OWN_STAFF):
        assert expected == OPEN.get((status, days < 0), set())  # and something is offered where it should be


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx row"])
def test_the_admin_row_of_a_future_approved_appointment_offers_no_outcome(app, clinic, headers):  # type: ignore
    appointment = make_appointment(provider=clinic["provider"], start_at=at(wall(2, 10)), status=Status.APPROVED)
    admin = log_in(app, clinic[ADMIN])
    body = admin.get(f"/admin/appointments/{appointment.id}", headers=headers).get_data(as_text=True)
    assert "Completed" not in body and "No-show" not in body
    assert offered(body, appointment.id) == {Action.CANCEL}


def test_a_decision_on_the_schedule_redraws_the_schedule_item(app, clinic):  # type: ignore[no-untyped-def]
    request = make_appointment(provider=clinic["provider"], start_at=at(wall(2, 10)), status=Status.PENDING)
    client = log_in(app, clinic[OWN_STAFF])
    response = client.post(f"/staff/appointments/{request.id}/approve",
                           headers={**HTMX, "HX-Target": f"schedule-item-{request.id}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="schedule-item-{request.id}"' in body and ">approved<" in body
    assert offered(body, request.id) == {Action.CANCEL}
