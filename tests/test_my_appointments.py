"""The patient's own appointments: lists, details with history, cancelling and moving."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent
from tests.booking_helpers import ZONE, wall
from tests.factories import make_appointment


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def fresh(appointment_id: int) -> Appointment:
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def test_upcoming_and_past_are_listed_with_status_and_rejection_reason(client, patient, provider):  # type: ignore[no-untyped-def]
    upcoming = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    past = make_appointment(patient=patient, provider=provider, start_at=at(wall(-3, 10)), status=Status.COMPLETED)
    rejected = make_appointment(patient=patient, provider=provider, start_at=at(wall(4, 10)), status=Status.REJECTED)
    rejected.events.append(AppointmentEvent(kind="status", from_status="pending", to_status="rejected",
                                            reason="The doctor is at a conference"))
    db.session.commit()

    html = client.get("/me/appointments").get_data(as_text=True)

    upcoming_part, past_part = html.split('id="past-title"')
    assert f'data-appointment-id="{upcoming.id}"' in upcoming_part
    assert f'data-appointment-id="{past.id}"' in past_part
    assert "The doctor is at a conference" in html
    for status in ("approved", "completed", "rejected"):
        assert f"status-{status}" in html


def test_details_show_the_history(client, patient, provider):  # type: ignore[no-untyped-def]
    client.post(f"/book/{provider.id}", data={"service_id": provider.services[0].id, "start": wall(3, 10)})
    db.session.rollback()
    [appointment] = db.session.query(Appointment).all()
    html = client.get(f"/me/appointments/{appointment.id}").get_data(as_text=True)
    assert "History" in html and "requested" in html and "by you" in html


def test_another_patients_appointment_is_not_found(client, patient, provider):  # type: ignore[no-untyped-def]
    theirs = make_appointment(provider=provider, start_at=at(wall(3, 10)))
    for method, url in [("GET", f"/me/appointments/{theirs.id}"), ("GET", f"/me/appointments/{theirs.id}/cancel"),
                        ("POST", f"/me/appointments/{theirs.id}/cancel"),
                        ("GET", f"/me/appointments/{theirs.id}/reschedule"),
                        ("POST", f"/me/appointments/{theirs.id}/reschedule"),
                        ("GET", f"/book/{provider.id}?reschedule={theirs.id}")]:
        assert client.open(url, method=method, data={"start": wall(3, 11)}).status_code == 404, url
    assert fresh(theirs.id).status == "pending" and fresh(theirs.id).start_at == at(wall(3, 10))


def test_cancelling_asks_first_then_frees_the_time(client, patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    question = client.get(f"/me/appointments/{mine.id}/cancel")
    assert question.status_code == 200 and "Cancel this appointment?" in question.get_data(as_text=True)

    response = client.post(f"/me/appointments/{mine.id}/cancel", data={"reason": "Feeling better"})

    assert response.status_code == 303
    cancelled = fresh(mine.id)
    assert cancelled.status == "cancelled"
    assert (cancelled.events[-1].to_status, cancelled.events[-1].reason) == ("cancelled", "Feeling better")
    slots = client.get(f"/book/{provider.id}/slots?service={provider.services[0].id}&date={wall(3, 10)[:10]}")
    assert f'data-slot-start="{wall(3, 10)}"' in slots.get_data(as_text=True)


def test_after_the_cutoff_the_buttons_are_gone_and_posts_answer_409(client, patient, provider):  # type: ignore[no-untyped-def]
    soon = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(hours=5)
    mine = make_appointment(patient=patient, provider=provider, start_at=soon, status=Status.APPROVED)

    page = client.get(f"/me/appointments/{mine.id}").get_data(as_text=True)
    assert "Cancel appointment" not in page and "Move to another time" not in page
    assert "24 hours" in page

    cancel = client.post(f"/me/appointments/{mine.id}/cancel", data={})
    move = client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(4, 10)})
    assert (cancel.status_code, move.status_code) == (409, 409)
    assert "24 hours" in cancel.get_data(as_text=True)
    assert fresh(mine.id).status == "approved" and fresh(mine.id).start_at == soon


def test_a_finished_appointment_cannot_be_cancelled(client, patient, provider):  # type: ignore[no-untyped-def]
    done = make_appointment(patient=patient, provider=provider, start_at=at(wall(-2, 10)), status=Status.COMPLETED)
    assert client.post(f"/me/appointments/{done.id}/cancel", data={}).status_code == 409
    assert fresh(done.id).status == "completed"


@pytest.mark.parametrize(("auto_approve", "expected"), [(False, "pending"), (True, "approved")])
def test_moving_an_approved_appointment(client, patient, provider, auto_approve, expected):  # type: ignore[no-untyped-def]
    provider.services[0].auto_approve = auto_approve
    db.session.commit()
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)

    opened = client.get(f"/me/appointments/{mine.id}/reschedule")
    assert opened.status_code == 303 and f"reschedule={mine.id}" in opened.headers["Location"]
    calendar = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Move your appointment" in calendar
    slots = client.get(f"/book/{provider.id}/slots?date={wall(3, 10)[:10]}&reschedule={mine.id}").get_data(as_text=True)
    assert f'data-slot-start="{wall(3, 10)}"' in slots  # its own time does not block its neighbours
    confirm = client.get(f"/book/{provider.id}/confirm?start={wall(4, 14)}&reschedule={mine.id}")
    assert "Move your appointment?" in confirm.get_data(as_text=True)

    response = client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(4, 14)})

    assert response.status_code == 303
    moved = fresh(mine.id)
    assert (moved.start_at, moved.status) == (at(wall(4, 14)), expected)
    event = moved.events[-1]
    assert (event.kind, event.from_start_at, event.to_start_at) == ("rescheduled", at(wall(3, 10)), at(wall(4, 14)))
    free = client.get(f"/book/{provider.id}/slots?service={provider.services[0].id}&date={wall(3, 10)[:10]}")
    assert f'data-slot-start="{wall(3, 10)}"' in free.get_data(as_text=True)


def test_moving_by_half_an_hour_onto_its_own_time_is_allowed(client, patient, provider):  # type: ignore[no-untyped-def]
    """The appointment's own time does not count as taken when it moves a little."""
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    response = client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(3, 10, 30)})
    assert response.status_code == 303
    assert fresh(mine.id).start_at == at(wall(3, 10, 30))


@pytest.mark.parametrize(
    ("start", "status", "message"),
    [("not a time", 422, "not a valid time"), ("", 422, "not a valid time"),
     ("2020-01-01T10:00", 422, "already passed")],
)
def test_a_bad_new_time_changes_nothing(client, patient, provider, start, status, message):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    response = client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": start})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (fresh(mine.id).start_at, fresh(mine.id).status) == (at(wall(3, 10)), "approved")


def test_moving_onto_a_taken_time_answers_409_with_fresh_slots(client, patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    make_appointment(provider=provider, start_at=at(wall(4, 10)))
    response = client.post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(4, 10)})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "just taken" in body and f'data-slot-start="{wall(4, 11)}"' in body
    assert re.search(r"reschedule", body)
    assert fresh(mine.id).start_at == at(wall(3, 10))
