"""Staff decide on requests inline: approve, reject with a reason, and the queue stays current."""
from __future__ import annotations

import json
import re
import threading
import time as clock_time
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.actions import Action
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.domain.timezones import format_local
from booking.extensions import db
from booking.models import (
    Appointment, AppointmentEvent, OutboxMessage, Provider, TimeOff, User, WorkingHours, provider_transaction,
)
from booking.models.appointment import REASON_MAX
from booking.services import booking, decisions
from booking.services.errors import Conflict, Invalid, NotFound
from tests.booking_helpers import ZONE, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_provider, make_service, make_user


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def fresh(appointment_id: int) -> Appointment:
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-appointment-id="(\d+)"', html)]


def request_at(provider: Provider, days: int, hour: int, **kwargs) -> Appointment:  # type: ignore[no-untyped-def]
    return make_appointment(provider=provider, start_at=at(wall(days, hour)), status=Status.PENDING, **kwargs)


def test_the_queue_lists_requests_oldest_first_with_wait_and_zone(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    later = request_at(provider, 3, 10)
    earlier = request_at(provider, 4, 10)
    db.session.get(Appointment, earlier.id).created_at = datetime.now(timezone.utc) - timedelta(days=3)
    db.session.commit()
    html = client.get("/staff/requests").get_data(as_text=True)
    assert row_ids(html) == [earlier.id, later.id]
    assert "3 days" in html and ("GMT" in html or "BST" in html)
    assert re.search(r'id="pending-count"[^>]*>2<', html)


def test_approving_inline_removes_the_row_and_updates_the_badge(client, desk):  # type: ignore[no-untyped-def]
    staff, provider = desk
    first, second = request_at(provider, 3, 10), request_at(provider, 3, 11)
    response = client.post(f"/staff/appointments/{first.id}/approve", headers=HTMX)

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="pending-count"' in body and 'hx-swap-oob="true"' in body and ">1<" in body
    assert "<tr" not in body  # the row leaves the table
    toasts = [m["text"] for m in json.loads(response.headers["HX-Trigger"])["toast"]["messages"]]
    assert "Approved." in toasts
    approved = fresh(first.id)
    assert approved.status == "approved"
    assert (approved.events[-1].actor_id, approved.events[-1].to_status) == (staff.id, "approved")
    assert fresh(second.id).status == "pending"


def test_approving_without_javascript_redirects_back(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    pending = request_at(provider, 3, 10)
    response = client.post(f"/staff/appointments/{pending.id}/approve", headers={"Referer": "http://localhost/staff/requests"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/requests")
    assert "Approved." in client.get("/staff/requests").get_data(as_text=True)


def test_rejecting_needs_a_reason_which_the_patient_then_sees(app, client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    patient = make_user(Role.PATIENT)
    pending = request_at(provider, 3, 10, patient=patient)

    refused = client.post(f"/staff/appointments/{pending.id}/reject", data={"reason": "  "}, headers=HTMX)
    assert refused.status_code == 422
    assert "the patient sees the reason" in refused.get_data(as_text=True)
    assert f'data-appointment-id="{pending.id}"' in refused.get_data(as_text=True)
    assert fresh(pending.id).status == "pending"

    done = client.post(f"/staff/appointments/{pending.id}/reject", data={"reason": "Fully booked that week"},
                       headers=HTMX)
    assert done.status_code == 200
    rejected = fresh(pending.id)
    assert (rejected.status, rejected.events[-1].reason) == ("rejected", "Fully booked that week")
    patient_client = app.test_client()
    patient_client.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD})
    assert "Fully booked that week" in patient_client.get("/me/appointments").get_data(as_text=True)


def test_a_request_handled_a_moment_earlier_answers_409_and_says_by_whom(app, client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    pending = request_at(provider, 3, 10)
    admin = make_user(Role.ADMIN, full_name="Ada Admin")
    other = app.test_client()
    other.post("/auth/login", data={"email": admin.email, "password": DEFAULT_PASSWORD})
    assert other.post(f"/staff/appointments/{pending.id}/approve", headers=HTMX).status_code == 200

    late = client.post(f"/staff/appointments/{pending.id}/reject", data={"reason": "No"}, headers=HTMX)

    assert late.status_code == 409
    assert "already approved by Ada Admin" in late.get_data(as_text=True)
    assert fresh(pending.id).status == "approved"


def test_a_request_that_no_longer_fits_is_flagged_and_cannot_be_approved(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    pending = request_at(provider, 3, 10)
    db.session.add(TimeOff(provider_id=provider.id, start_at=at(wall(3, 9)), end_at=at(wall(3, 12)), reason="Course"))
    db.session.commit()

    queue = client.get("/staff/requests").get_data(as_text=True)
    assert "now away at that time" in queue

    response = client.post(f"/staff/appointments/{pending.id}/approve", headers=HTMX)
    assert response.status_code == 409
    assert "no longer fits" in response.get_data(as_text=True)
    assert fresh(pending.id).status == "pending"


def test_another_providers_request_is_not_found(client, desk):  # type: ignore[no-untyped-def]
    elsewhere = request_at(everyday_provider(), 3, 10)
    for action in ("approve", "reject", "complete", "no-show"):
        assert client.post(f"/staff/appointments/{elsewhere.id}/{action}", data={"reason": "x"}).status_code == 404
    assert fresh(elsewhere.id).status == "pending"
    assert elsewhere.id not in row_ids(client.get("/staff/requests").get_data(as_text=True))


def test_two_people_deciding_at_once_one_wins(app, desk):  # type: ignore[no-untyped-def]
    staff, provider = desk
    pending = request_at(provider, 3, 10)
    admin = make_user(Role.ADMIN)
    clients = []
    for user in (staff, admin):
        client = app.test_client()
        client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
        clients.append(client)
    approve_url, reject_url = f"/staff/appointments/{pending.id}/approve", f"/staff/appointments/{pending.id}/reject"
    barrier, statuses = threading.Barrier(2), []

    def act(client, url, data) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        statuses.append(client.post(url, data=data, headers=HTMX).status_code)

    threads = [threading.Thread(target=act, args=(clients[0], approve_url, {})),
               threading.Thread(target=act, args=(clients[1], reject_url, {"reason": "Duplicate"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 409]
    decided = fresh(pending.id)
    assert decided.status in ("approved", "rejected")
    assert [e.kind for e in decided.events].count("status") == 1


def test_completed_and_no_show_only_once_it_has_started(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    ahead = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    past = make_appointment(provider=provider, start_at=at(wall(-1, 10)), status=Status.APPROVED)
    other_past = make_appointment(provider=provider, start_at=at(wall(-1, 11)), status=Status.APPROVED)
    assert client.post(f"/staff/appointments/{ahead.id}/complete").status_code == 409
    assert client.post(f"/staff/appointments/{past.id}/complete").status_code == 303
    assert client.post(f"/staff/appointments/{other_past.id}/no-show").status_code == 303
    assert client.post(f"/staff/appointments/{past.id}/no-show").status_code == 409  # already completed
    assert (fresh(ahead.id).status, fresh(past.id).status, fresh(other_past.id).status) == (
        "approved", "completed", "no_show")


def test_the_queue_refreshes_itself_cheaply(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    request_at(provider, 3, 10)
    rows = client.get("/staff/requests", headers={**HTMX, "HX-Target": "request-rows"}).get_data(as_text=True)
    known = re.search(r"known=([0-9a-f]+)", rows)[1]
    assert client.get(f"/staff/requests?known={known}", headers={**HTMX, "HX-Target": "request-rows"}).status_code == 204

    newcomer = request_at(provider, 4, 10)
    update = client.get(f"/staff/requests?known={known}", headers={**HTMX, "HX-Target": "request-rows"})
    body = update.get_data(as_text=True)
    assert update.status_code == 200 and newcomer.id in row_ids(body)
    assert 'id="pending-count" class="badge" hx-swap-oob="true"' in body and ">2<" in body


def test_the_schedule_shows_the_day_and_the_week_with_statuses_in_words(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    today_item = make_appointment(provider=provider, start_at=at(wall(0, 16)), status=Status.APPROVED)
    later = make_appointment(provider=provider, start_at=at(wall(1, 10)), status=Status.PENDING)
    day = client.get("/staff/schedule").get_data(as_text=True)
    assert f'data-appointment-id="{today_item.id}"' in day and f'data-appointment-id="{later.id}"' not in day
    assert "(today)" in day and ">approved<" in day
    week = client.get(f"/staff/schedule?view=week&date={wall(1, 10)[:10]}").get_data(as_text=True)
    assert f'data-appointment-id="{later.id}"' in week
    assert client.get("/staff/schedule?date=2026-02-30").status_code == 400


def test_staff_cancel_from_the_schedule_with_a_reason(client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    booked = make_appointment(provider=provider, start_at=at(wall(2, 10)), status=Status.APPROVED)
    refused = client.post(f"/staff/appointments/{booked.id}/cancel", data={"reason": ""}, headers=HTMX)
    assert refused.status_code == 422 and fresh(booked.id).status == "approved"
    done = client.post(f"/staff/appointments/{booked.id}/cancel", data={"reason": "Doctor ill"}, headers=HTMX)
    assert done.status_code == 200 and ">cancelled<" in done.get_data(as_text=True)
    cancelled = fresh(booked.id)
    assert (cancelled.status, cancelled.events[-1].reason) == ("cancelled", "Doctor ill")


def test_patient_records_for_admins_and_the_patients_own_providers_only(app, client, desk):  # type: ignore[no-untyped-def]
    _, provider = desk
    mine = make_user(Role.PATIENT, full_name="Carla Mine")
    stranger = make_user(Role.PATIENT, full_name="Dan Stranger")
    seen = request_at(provider, 3, 10, patient=mine)
    elsewhere = make_appointment(patient=mine, provider=everyday_provider(), start_at=at(wall(5, 10)))
    make_appointment(patient=stranger, provider=everyday_provider(), start_at=at(wall(5, 11)))

    record = client.get(f"/staff/patients/{mine.id}")
    body = record.get_data(as_text=True)
    assert record.status_code == 200 and "Carla Mine" in body
    assert f'data-appointment-id="{seen.id}"' in body and f'data-appointment-id="{elsewhere.id}"' in body
    assert client.get(f"/staff/patients/{stranger.id}").status_code == 404
    assert client.get(f"/staff/patients/{provider.user_id}").status_code == 404  # not a patient

    admin = app.test_client()
    admin.post("/auth/login", data={"email": make_user(Role.ADMIN).email, "password": DEFAULT_PASSWORD})
    assert admin.get(f"/staff/patients/{stranger.id}").status_code == 200


# --- the decision rules, called on the service as the routes call it --------------------------------

WEDNESDAY = 2


def next_weekday(weekday: int, at_least: int = 3) -> date:
    day = local_day(at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), ZoneInfo(ZONE))


@pytest.fixture
def wednesdays(app):  # type: ignore[no-untyped-def]
    """A provider who works Wednesdays 09:00-12:00 only, 30-minute service, buffers 10 before and 5 after
    (so appointments keep 15 minutes apart); an admin who decides; the coming Wednesday."""
    provider = make_provider(services=[make_service(duration_min=30)], timezone_name=ZONE, weekdays=range(0))
    provider.working_hours = [WorkingHours(weekday=WEDNESDAY, start_time=time(9), end_time=time(12))]
    provider.buffer_before_min, provider.buffer_after_min = 10, 5
    db.session.commit()
    return provider, make_user(Role.ADMIN), next_weekday(WEDNESDAY)


def approving(provider: Provider, admin: User, start: datetime) -> str:
    """Ask to approve a request at `start`: "approved", or the refusal's words (the request is then
    rejected, so it holds no time for the next question)."""
    pending = make_appointment(provider=provider, start_at=start, status=Status.PENDING)
    try:
        decided = decisions.approve(admin.id, pending.id)
    except Conflict as refused:
        assert fresh(pending.id).status == "pending" and [e.kind for e in fresh(pending.id).events] == []
        decisions.reject(admin.id, pending.id, "Does not fit")
        return refused.message
    assert decided == decisions.Decided(pending.id, Status.APPROVED)
    return "approved"


def no_longer_fits(words: str) -> str:
    return f"This request no longer fits: {words} Reject it with a reason instead."


OUTSIDE = no_longer_fits("It is no longer inside the provider's working hours.")
TAKEN = no_longer_fits("Another appointment now holds that time.")
AWAY = no_longer_fits("The provider is now away at that time.")


def test_a_request_at_the_first_or_the_last_slot_of_a_block_is_approved(wednesdays):  # type: ignore[no-untyped-def]
    provider, admin, wednesday = wednesdays
    assert approving(provider, admin, local(wednesday, 9)) == "approved"
    assert approving(provider, admin, local(wednesday, 11, 30)) == "approved"


@pytest.mark.parametrize(("days", "hh", "mm"), [
    (0, 8, 30), (0, 8, 59), (0, 11, 31), (0, 11, 45), (0, 12, 0),  # starts before, or ends after, the block
    (1, 9, 0), (-1, 11, 30), (7 - 1, 10, 0),  # the block's hours on Thursday, Tuesday, the Tuesday after
])
def test_a_request_outside_the_block_or_on_another_weekday_is_not_approved(wednesdays, days, hh, mm):  # type: ignore[no-untyped-def]
    provider, admin, wednesday = wednesdays
    assert approving(provider, admin, local(wednesday + timedelta(days=days), hh, mm)) == OUTSIDE


def test_buffers_keep_an_approved_request_apart_from_its_neighbours(wednesdays):  # type: ignore[no-untyped-def]
    provider, admin, wednesday = wednesdays
    make_appointment(provider=provider, start_at=local(wednesday, 10), status=Status.APPROVED)  # 10:00-10:30
    assert approving(provider, admin, local(wednesday, 9, 16)) == TAKEN  # ends 09:46: 14 minutes before it
    assert approving(provider, admin, local(wednesday, 10, 44)) == TAKEN  # 14 minutes after it ends
    assert approving(provider, admin, local(wednesday, 9, 15)) == "approved"  # ends 09:45, 15 minutes before
    assert approving(provider, admin, local(wednesday, 10, 45)) == "approved"  # 15 minutes after it ends


def test_a_pending_neighbour_holds_its_time_and_a_cancelled_one_does_not(wednesdays):  # type: ignore[no-untyped-def]
    provider, admin, wednesday = wednesdays
    make_appointment(provider=provider, start_at=local(wednesday, 9), status=Status.PENDING)
    make_appointment(provider=provider, start_at=local(wednesday, 11), status=Status.CANCELLED)
    make_appointment(provider=provider, start_at=local(wednesday, 11), status=Status.REJECTED)
    assert approving(provider, admin, local(wednesday, 9, 40)) == TAKEN
    assert approving(provider, admin, local(wednesday, 11)) == "approved"


def test_time_off_that_touches_a_request_stops_its_approval_and_time_off_next_to_it_does_not(wednesdays):  # type: ignore[no-untyped-def]
    provider, admin, wednesday = wednesdays
    db.session.add(TimeOff(provider_id=provider.id, start_at=local(wednesday, 10), end_at=local(wednesday, 10, 30)))
    db.session.commit()
    assert approving(provider, admin, local(wednesday, 9, 45)) == AWAY
    assert approving(provider, admin, local(wednesday, 10, 29)) == AWAY
    assert approving(provider, admin, local(wednesday, 9, 30)) == "approved"  # ends as the time off starts
    assert approving(provider, admin, local(wednesday, 10, 30)) == "approved"  # starts as it ends


@pytest.fixture
def round_the_clock(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider(start=time(0), end=time(0))
    return provider, make_user(Role.ADMIN, full_name="Ada Admin")


def test_a_request_that_has_already_started_cannot_be_approved(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    started = make_appointment(provider=provider, start_at=now - timedelta(minutes=1), status=Status.PENDING)
    with pytest.raises(Conflict) as refused:
        decisions.approve(admin.id, started.id)
    assert refused.value.message == "It has already started; it can no longer be approved."
    assert fresh(started.id).status == "pending" and fresh(started.id).events == []
    soon = now + timedelta(minutes=33)
    local = soon.astimezone(ZoneInfo(provider.timezone))
    if (local + timedelta(minutes=30)).date() != local.date():  # keep inside one day's block of 00:00-24:00
        soon = datetime.combine(local.date() + timedelta(days=1), time(0), ZoneInfo(provider.timezone))
    about_to = make_appointment(provider=provider, start_at=soon, status=Status.PENDING)
    assert decisions.approve(admin.id, about_to.id).status is Status.APPROVED


def test_completing_before_the_start_is_refused_with_its_own_reason(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    ahead = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    for decide in (decisions.complete, decisions.no_show):
        with pytest.raises(Conflict) as refused:
            decide(admin.id, ahead.id)
        assert refused.value.message == "It has not started yet."
    with pytest.raises(Conflict) as refused:
        decisions.cancel_by_staff(admin.id, make_appointment(provider=provider, start_at=at(wall(3, 11))).id, "Ill")
    assert refused.value.message == "It is a request: reject it with a reason instead."
    assert fresh(ahead.id).status == "approved"


def test_deciding_twice_says_what_happened_by_whom_and_when(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    pending = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    decisions.approve(admin.id, pending.id)
    decided_at = fresh(pending.id).events[-1].created_at
    with pytest.raises(Conflict) as refused:
        decisions.reject(admin.id, pending.id, "Too late")
    clock = format_local(decided_at, ZONE, "%H:%M")
    assert refused.value.message == f"It was already approved by Ada Admin at {clock}."


def test_deciding_what_nobody_decided_in_the_app_says_only_its_status(round_the_clock):  # type: ignore[no-untyped-def]
    """An appointment with no history (imported), or whose last change has no person (the actor's account
    is gone): the refusal names no one and no time it cannot know."""
    provider, admin = round_the_clock
    imported = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    with pytest.raises(Conflict) as refused:
        decisions.approve(admin.id, imported.id)
    assert refused.value.message == "It was already approved."
    nobody = make_appointment(provider=provider, start_at=at(wall(3, 11)), status=Status.CANCELLED)
    nobody.events.append(AppointmentEvent(actor_id=None, kind="status", from_status="pending", to_status="cancelled"))
    db.session.commit()
    clock = format_local(fresh(nobody.id).events[-1].created_at, ZONE, "%H:%M")
    with pytest.raises(Conflict) as refused:
        decisions.approve(admin.id, nobody.id)
    assert refused.value.message == f"It was already cancelled at {clock}."


def test_deciding_an_appointment_that_does_not_exist_is_not_found(round_the_clock):  # type: ignore[no-untyped-def]
    _, admin = round_the_clock
    for decide in (decisions.approve, decisions.complete, decisions.no_show):
        with pytest.raises(NotFound) as missing:
            decide(admin.id, 999_999)
        assert missing.value.message == "There is no such appointment."


def queued_to(address: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)))


def test_each_decision_is_recorded_and_the_patient_is_told_with_the_reason_and_by_whom(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    patient = make_user(Role.PATIENT)
    service = provider.services[0].name
    declined = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)))
    confirmed = make_appointment(patient=patient, provider=provider, start_at=at(wall(4, 10)))
    assert decisions.reject(admin.id, declined.id, "  Fully booked  ") == decisions.Decided(declined.id, Status.REJECTED)
    assert decisions.approve(admin.id, confirmed.id) == decisions.Decided(confirmed.id, Status.APPROVED)
    assert decisions.cancel_by_staff(admin.id, confirmed.id, "Doctor ill") == decisions.Decided(
        confirmed.id, Status.CANCELLED)

    [rejected] = fresh(declined.id).events
    assert (rejected.actor_id, rejected.kind, rejected.from_status, rejected.to_status, rejected.reason) == (
        admin.id, "status", "pending", "rejected", "Fully booked")
    approved, cancelled = fresh(confirmed.id).events
    assert (approved.actor_id, approved.from_status, approved.to_status, approved.reason) == (
        admin.id, "pending", "approved", None)
    assert (cancelled.actor_id, cancelled.from_status, cancelled.to_status, cancelled.reason) == (
        admin.id, "approved", "cancelled", "Doctor ill")
    mails = queued_to(patient.email)
    assert [m.subject.split(":")[0] for m in mails] == ["Request declined", "Confirmed", "Cancelled"]
    assert mails[0].subject == f"Request declined: {service}" and "Reason: Fully booked" in mails[0].text_body
    assert "Cancelled by Ada Admin." in mails[2].text_body and "Reason: Doctor ill" in mails[2].text_body


def test_completed_and_no_show_are_recorded_and_send_nothing(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    patient = make_user(Role.PATIENT)
    past = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    seen = make_appointment(patient=patient, provider=provider, start_at=past, status=Status.APPROVED)
    missed = make_appointment(patient=patient, provider=provider, start_at=past - timedelta(hours=1),
                              status=Status.APPROVED)
    assert decisions.complete(admin.id, seen.id) == decisions.Decided(seen.id, Status.COMPLETED)
    assert decisions.no_show(admin.id, missed.id) == decisions.Decided(missed.id, Status.NO_SHOW)
    assert [(e.actor_id, e.from_status, e.to_status) for e in fresh(seen.id).events] == [
        (admin.id, "approved", "completed")]
    assert [(e.actor_id, e.from_status, e.to_status) for e in fresh(missed.id).events] == [
        (admin.id, "approved", "no_show")]
    assert queued_to(patient.email) == []


@pytest.mark.parametrize(("reason", "problem"), [
    (None, "Say why: the patient sees the reason."),
    ("   ", "Say why: the patient sees the reason."),
    ("x" * (REASON_MAX + 1), f"Please keep the reason to {REASON_MAX} characters."),
])
def test_a_rejection_or_cancellation_needs_a_reason_of_at_most_the_maximum(round_the_clock, reason, problem):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    pending = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    approved = make_appointment(provider=provider, start_at=at(wall(3, 12)), status=Status.APPROVED)
    for decide, appointment in ((decisions.reject, pending), (decisions.cancel_by_staff, approved)):
        with pytest.raises(Invalid) as refused:
            decide(admin.id, appointment.id, reason)
        assert (refused.value.message, refused.value.field) == (problem, "reason")
    assert (fresh(pending.id).status, fresh(approved.id).status) == ("pending", "approved")


def test_a_reason_of_exactly_the_maximum_length_is_accepted(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    pending = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    longest = "y" * REASON_MAX
    decisions.reject(admin.id, pending.id, f" {longest} ")
    assert (fresh(pending.id).status, fresh(pending.id).events[-1].reason) == ("rejected", longest)


def test_nothing_is_offered_to_nobody_or_to_a_switched_off_account(round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    pending = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    assert decisions.available_actions(pending, None) == frozenset()
    assert decisions.available_actions(pending, admin) == {Action.APPROVE, Action.REJECT}
    admin.active = False
    db.session.commit()
    assert decisions.available_actions(fresh(pending.id), db.session.get(User, admin.id)) == frozenset()


@pytest.mark.parametrize(("waiting", "shown"), [
    (timedelta(0), "1 min"), (timedelta(seconds=59), "1 min"), (timedelta(seconds=150), "2 min"),
    (timedelta(minutes=50), "50 min"), (timedelta(seconds=3599), "59 min"), (timedelta(hours=1), "1 h"),
    (timedelta(minutes=90), "1 h"), (timedelta(hours=10), "10 h"), (timedelta(days=2, seconds=-1), "47 h"),
    (timedelta(days=2), "2 days"), (timedelta(days=3, hours=23), "3 days"), (timedelta(seconds=-30), "1 min"),
])
def test_how_long_a_request_has_waited_is_said_in_whole_units(round_the_clock, waiting, shown):  # type: ignore[no-untyped-def]
    provider, _ = round_the_clock
    pending = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    assert decisions.waited(pending, now=pending.created_at + waiting) == shown


# --- a decision meets a change made a moment earlier ------------------------------------------------


def test_approving_a_request_the_patient_cancelled_meanwhile_is_refused_with_who_and_when(app, round_the_clock):  # type: ignore[no-untyped-def]
    """The staff member's page (and this session) still shows it pending; the decision reads it again."""
    provider, admin = round_the_clock
    patient = make_user(Role.PATIENT, full_name="Pat Patient")
    pending = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)))
    seen = db.session.get(Appointment, pending.id)
    assert seen.status == "pending"  # loaded here, before the patient's cancel
    patient_client = app.test_client()
    patient_client.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD})
    assert patient_client.post(f"/me/appointments/{pending.id}/cancel", data={"reason": "Better"}).status_code == 303

    with pytest.raises(Conflict) as refused:
        decisions.approve(admin.id, pending.id)

    cancelled = fresh(pending.id)
    clock = format_local(cancelled.events[-1].created_at, ZONE, "%H:%M")
    assert refused.value.message == f"It was already cancelled by Pat Patient at {clock}."
    assert cancelled.status == "cancelled" and [e.to_status for e in cancelled.events] == ["cancelled"]


def race(app, *calls):  # type: ignore[no-untyped-def]
    """Run the calls at once, each in a thread with its own app context (session, connection)."""
    barrier, results, guard = threading.Barrier(len(calls)), {}, threading.Lock()

    def run(name, call) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            barrier.wait()
            try:
                outcome = call()
            except Exception as error:  # noqa: BLE001 - the refusal is the result
                outcome = error
            with guard:
                results[name] = outcome

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a decision hung"
    return [results[i] for i in range(len(calls))]


def test_a_rejection_racing_the_patients_cancel_one_wins_and_the_other_is_told(app, round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    admin_id = admin.id
    for round_ in range(3):
        patient = make_user(Role.PATIENT)
        pending = make_appointment(patient=patient, provider=provider, start_at=at(wall(3 + round_, 10)))
        patient_id, appointment_id = patient.id, pending.id

        rejected, cancelled = race(
            app,
            lambda: decisions.reject(admin_id, appointment_id, "Full"),
            lambda: booking.cancel_by_patient(patient_id, appointment_id, "Better", timedelta(hours=24)),
        )

        outcome = fresh(appointment_id)
        assert [e.to_status for e in outcome.events] == [outcome.status]  # exactly one change
        if outcome.status == "rejected":
            assert rejected == decisions.Decided(appointment_id, Status.REJECTED)
            assert isinstance(cancelled, Conflict) and "is rejected and cannot be cancelled" in cancelled.message
        else:
            assert (outcome.status, cancelled) == ("cancelled", None)
            assert isinstance(rejected, Conflict) and rejected.message.startswith("It was already cancelled by ")


def test_an_approval_racing_the_patients_cancel_never_leaves_a_cancelled_appointment_approved(app, round_the_clock):  # type: ignore[no-untyped-def]
    provider, admin = round_the_clock
    admin_id = admin.id
    for round_ in range(3):
        patient = make_user(Role.PATIENT)
        pending = make_appointment(patient=patient, provider=provider, start_at=at(wall(3 + round_, 11)))
        patient_id, appointment_id = patient.id, pending.id

        approved, cancelled = race(
            app,
            lambda: decisions.approve(admin_id, appointment_id),
            lambda: booking.cancel_by_patient(patient_id, appointment_id, "Better", timedelta(hours=24)),
        )

        outcome = fresh(appointment_id)
        assert cancelled is None and outcome.status == "cancelled"  # a patient may cancel either way
        chain = [(e.from_status, e.to_status) for e in outcome.events]
        if isinstance(approved, Conflict):
            assert chain == [("pending", "cancelled")] and approved.message.startswith("It was already cancelled by ")
        else:
            assert approved == decisions.Decided(appointment_id, Status.APPROVED)
            assert chain == [("pending", "approved"), ("approved", "cancelled")]


def test_an_appointment_gone_while_a_decision_waited_for_the_lock_is_not_found(app, round_the_clock):  # type: ignore[no-untyped-def]
    """The decision's first look finds the row; by the time it holds the provider's lock the row is gone."""
    provider, admin = round_the_clock
    admin_id, provider_id = admin.id, provider.id
    doomed = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    doomed_id = doomed.id
    results: list[object] = []
    looked = threading.Event()

    def decide() -> None:
        with app.app_context():
            assert db.session.get(Appointment, doomed_id) is not None
            looked.set()
            try:
                results.append(decisions.approve(admin_id, doomed_id))
            except Exception as error:  # noqa: BLE001 - the refusal is the result
                results.append(error)

    db.session.rollback()
    with provider_transaction(provider_id):
        db.session.execute(sa.delete(Appointment).where(Appointment.id == doomed_id))
        thread = threading.Thread(target=decide)
        thread.start()
        assert looked.wait(30)
        clock_time.sleep(0.5)  # let it reach the lock and wait there
    thread.join(timeout=60)

    [refused] = results
    assert isinstance(refused, NotFound) and refused.message == "There is no such appointment."
