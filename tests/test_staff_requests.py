"""Staff decide on requests inline: approve, reject with a reason, and the queue stays current."""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider, TimeOff
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user


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
    version = provider.schedule_version

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
    assert db.session.get(Provider, provider.id).schedule_version == version + 1
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
