"""The patient's booking journey through the test client, classic and htmx, and every refusal."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, TimeOff
from tests.booking_helpers import booking_form, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import make_appointment, make_service, make_user


def appointments() -> list[Appointment]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Appointment).order_by(Appointment.id)))


def slot_starts(html: str) -> list[str]:
    return re.findall(r'data-slot-start="([^"]+)"', html)


# --- the journey ----------------------------------------------------------------------------------


def test_a_patient_finds_a_provider_picks_a_day_and_a_slot_and_books(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    listing = client.get("/book/").get_data(as_text=True)
    assert f'data-provider-id="{provider.id}"' in listing
    assert "Next free" in listing and len(slot_starts(listing)) == 3

    month = local_day(3).strftime("%Y-%m")
    page = client.get(f"/book/{provider.id}?service={service.id}&month={month}").get_data(as_text=True)
    assert f'data-day="{local_day(3).isoformat()}"' in page
    assert "16 free" in page  # 09:00 to 17:00 in 30-minute slots

    slots = client.get(f"/book/{provider.id}/slots?service={service.id}&date={local_day(3)}").get_data(as_text=True)
    assert wall(3, 10) in slot_starts(slots)
    assert "GMT" in slots or "BST" in slots

    confirm = client.get(f"/book/{provider.id}/confirm?service={service.id}&start={wall(3, 10)}")
    assert confirm.status_code == 200
    assert service.name in confirm.get_data(as_text=True)

    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10), "Sore throat"))

    [booked] = appointments()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/me/appointments/{booked.id}"
    assert (booked.status, booked.reason, booked.patient_id) == ("pending", "Sore throat", patient.id)
    assert [(e.kind, e.to_status) for e in booked.events] == [("created", "pending")]
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Request sent" in detail and f'data-appointment-id="{booked.id}"' in detail
    mine = client.get("/me/appointments").get_data(as_text=True)
    assert f'data-appointment-id="{booked.id}"' in mine
    after = client.get(f"/book/{provider.id}/slots?service={service.id}&date={local_day(3)}").get_data(as_text=True)
    assert wall(3, 10) not in slot_starts(after)


def test_the_same_journey_over_htmx_swaps_fragments(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    calendar = client.get(f"/book/{provider.id}?service={service.id}&month={local_day(3):%Y-%m}",
                          headers={**HTMX, "HX-Target": "calendar"})
    assert calendar.status_code == 200 and "<html" not in calendar.get_data(as_text=True)
    assert 'id="calendar"' in calendar.get_data(as_text=True)
    assert "HX-Request" in calendar.headers["Vary"]

    slots = client.get(f"/book/{provider.id}/slots?service={service.id}&date={local_day(3)}", headers=HTMX)
    assert 'id="slots"' in slots.get_data(as_text=True) and "<html" not in slots.get_data(as_text=True)

    confirm = client.get(f"/book/{provider.id}/confirm?service={service.id}&start={wall(3, 11)}", headers=HTMX)
    assert "<html" not in confirm.get_data(as_text=True) and "Confirm your booking" in confirm.get_data(as_text=True)

    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 11)), headers=HTMX)

    [booked] = appointments()
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert f'data-appointment-id="{booked.id}"' in body
    assert "Request sent" in response.headers["HX-Trigger"]


def test_a_service_that_approves_itself_is_booked_straight_away(client, patient, provider):  # type: ignore[no-untyped-def]
    provider.services[0].auto_approve = True
    db.session.commit()
    client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)))
    [booked] = appointments()
    assert booked.status == "approved"


def test_an_open_slot_list_is_answered_204_while_nothing_changes(app, client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    url = f"/book/{provider.id}/slots?service={service.id}&date={local_day(3)}"
    first = client.get(url, headers=HTMX).get_data(as_text=True)
    known = re.search(r"known=([0-9a-f]+)", first)[1]

    unchanged = client.get(f"{url}&known={known}", headers=HTMX)
    assert unchanged.status_code == 204 and unchanged.get_data() == b""

    other = app.test_client()
    other.post("/auth/login", data={"email": make_user(Role.PATIENT).email, "password": "correct horse battery"})
    assert other.post(f"/book/{provider.id}", data=booking_form(provider, wall(4, 10))).status_code == 303
    assert client.get(f"{url}&known={known}", headers=HTMX).status_code == 204  # another day: nothing to redraw

    third = app.test_client()
    third.post("/auth/login", data={"email": make_user(Role.PATIENT).email, "password": "correct horse battery"})
    assert third.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
    changed = client.get(f"{url}&known={known}", headers=HTMX)
    assert changed.status_code == 200
    assert wall(3, 10) not in slot_starts(changed.get_data(as_text=True))
    assert wall(3, 10, 30) in slot_starts(changed.get_data(as_text=True))


def test_the_calendar_pages_through_months(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    this_month = local_day(0).replace(day=1)
    following = (this_month + timedelta(days=32)).replace(day=1)
    page = client.get(f"/book/{provider.id}?service={service.id}").get_data(as_text=True)
    assert f"month={following:%Y-%m}" in page
    later = client.get(f"/book/{provider.id}?service={service.id}&month={following:%Y-%m}",
                       headers={**HTMX, "HX-Target": "calendar"})
    assert following.strftime("%B %Y") in later.get_data(as_text=True)
    past = client.get(f"/book/{provider.id}?service={service.id}&month=2001-01")
    assert past.status_code == 303 and f"month={this_month:%Y-%m}" in past.headers["Location"]  # never dead days


# --- the rules of booking -------------------------------------------------------------------------


def test_a_patient_cannot_be_in_two_places_at_once(client, patient, provider):  # type: ignore[no-untyped-def]
    elsewhere = everyday_provider()
    make_appointment(patient=patient, provider=elsewhere, service=elsewhere.services[0],
                     start_at=datetime.fromisoformat(wall(3, 10)).replace(tzinfo=_london()), status=Status.APPROVED)
    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10, 0)))
    assert response.status_code == 409
    assert "already have an appointment at that time" in response.get_data(as_text=True)
    assert len(appointments()) == 1


def test_one_pending_request_per_provider_and_day(client, patient, provider):  # type: ignore[no-untyped-def]
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
    second = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 14)))
    assert second.status_code == 409
    assert "already have a request waiting" in second.get_data(as_text=True)
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(4, 14))).status_code == 303


def test_a_taken_slot_answers_409_with_a_fresh_slot_list(client, patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(provider=provider, start_at=datetime.fromisoformat(wall(3, 10)).replace(tzinfo=_london()))
    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That time was just taken; please pick another." in body
    assert wall(3, 10) not in slot_starts(body) and wall(3, 11) in slot_starts(body)
    assert response.headers["HX-Retarget"] == "#slots"
    assert len(appointments()) == 1


def test_buffers_keep_time_around_appointments(client, patient, provider):  # type: ignore[no-untyped-def]
    provider.buffer_after_min = 10
    db.session.commit()
    make_appointment(provider=provider, start_at=datetime.fromisoformat(wall(3, 10)).replace(tzinfo=_london()))
    slots = client.get(f"/book/{provider.id}/slots?service={provider.services[0].id}&date={local_day(3)}")
    starts = slot_starts(slots.get_data(as_text=True))
    assert wall(3, 10, 30) not in starts and wall(3, 9, 30) not in starts and wall(3, 11) in starts


def _london():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


# --- refusals: a clear 4xx with a message, and nothing written -------------------------------------


def _setup(case: str, provider, patient):  # type: ignore[no-untyped-def]
    """Adjust the world for one refusal case; return the form to post and the expected status/message."""
    if case == "during-time-off":
        start = datetime.fromisoformat(wall(3, 9)).replace(tzinfo=_london())
        db.session.add(TimeOff(provider=provider, start_at=start, end_at=start + timedelta(hours=3), reason="Course"))
    elif case == "inside-notice":
        provider.min_notice_min = 60 * 24 * 5
    elif case == "beyond-horizon":
        provider.horizon_days = 2
    elif case == "inactive-service":
        provider.services[0].active = False
    db.session.commit()


REFUSALS = [
    ("not-a-time", {"start": "tomorrow at ten"}, 422, "not a valid time"),
    ("impossible-date", {"start": "2030-02-30T10:00"}, 422, "not a valid time"),
    ("off-grid", {"start": wall(3, 10, 10)}, 422, "start only at the times offered"),
    ("in-the-past", {"start": wall(-1, 10)}, 422, "already passed"),
    ("inside-notice", {"start": wall(3, 10)}, 422, "too soon"),
    ("beyond-horizon", {"start": wall(5, 10)}, 422, "too far ahead"),
    ("during-time-off", {"start": wall(3, 10)}, 422, "away at that time"),
    ("outside-working-hours", {"start": wall(3, 20)}, 422, "does not work at that time"),
    ("runs-past-closing", {"start": wall(3, 16, 45)}, 422, "start only at the times offered"),
    ("reason-too-long", {"start": wall(3, 10), "reason": "x" * 501}, 422, "500 characters"),
    ("missing-start", {"start": None}, 422, "required"),
    ("missing-service", {"service_id": None}, 422, "required"),
    ("unknown-service", {"service_id": "999999"}, 404, "cannot be booked"),
    ("huge-service-id", {"service_id": "9" * 400}, 422, "choose a service"),  # too big even for a float
    ("inactive-service", {}, 404, "cannot be booked"),
    ("year-zero", {"start": "0000-01-01T10:00"}, 422, "not a valid time"),
    ("year-99999", {"start": "99999-01-01T10:00"}, 422, "not a valid time"),
]


@pytest.mark.parametrize(("case", "changes", "status", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_bad_booking_is_refused_with_a_reason(client, patient, provider, case, changes, status, message):  # type: ignore[no-untyped-def]
    _setup(case, provider, patient)
    data = booking_form(provider, wall(3, 10))
    for name, value in changes.items():
        if value is None:
            data.pop(name)
        else:
            data[name] = value
    response = client.post(f"/book/{provider.id}", data=data)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert message.lower() in response.get_data(as_text=True).lower()
    assert appointments() == []


def test_a_service_the_provider_does_not_offer(client, patient, provider):  # type: ignore[no-untyped-def]
    other = make_service()
    response = client.post(f"/book/{provider.id}", data={"service_id": str(other.id), "start": wall(3, 10)})
    assert response.status_code == 422
    assert "does not offer" in response.get_data(as_text=True) or "choose a time again" in response.get_data(as_text=True).lower()
    assert appointments() == []


def test_a_time_inside_a_dst_gap_does_not_exist(client, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider(zone="America/New_York", start=__import__("datetime").time(0),
                                 end=__import__("datetime").time(6), horizon_days=3000)
    gap_day = _next_spring_forward("America/New_York")
    response = client.post(f"/book/{provider.id}", data=booking_form(provider, f"{gap_day}T02:30"))
    assert response.status_code == 422
    assert "does not exist" in response.get_data(as_text=True)
    assert appointments() == []


def _next_spring_forward(zone: str) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    day = datetime.now(timezone.utc).astimezone(tz).date() + timedelta(days=2)
    while True:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
        midnight = datetime(day.year, day.month, day.day, 0, tzinfo=tz)
        if noon.utcoffset() > midnight.utcoffset():
            return day.isoformat()
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/book/{pid}?service={sid}&month=0000-05", 400, "out of range"),
        ("/book/{pid}?service={sid}&month=99999-01", 400, "must look like"),
        ("/book/{pid}?service={sid}&month=2026-13", 400, "out of range"),
        ("/book/{pid}?service={sid}&month=may", 400, "must look like"),
        ("/book/{pid}/slots?service={sid}&date=2026-02-30", 400, "does not exist"),
        ("/book/{pid}/slots?service={sid}&date=0000-01-01", 400, "out of range"),
        ("/book/{pid}/slots?service={sid}", 400, "choose a date"),
        ("/book/{pid}/slots?service={sid}&date=2026-01-01&date=2026-01-02", 400, "more than once"),
        ("/book/{pid}?service=999999", 404, "does not offer"),
        ("/book/{pid}?service=abc", 400, "not valid"),
        ("/book/999999?service={sid}", 404, "not taking bookings"),
        ("/book/{pid}/confirm?service={sid}&start=nonsense", 400, "not a valid time"),
        ("/book/?specialty=abc", 400, "not valid"),
        ("/book/?specialty=%C2%B2", 400, "not valid"),  # "²" is a digit to isdigit(), not to int()
        ("/book/{pid}?service=%C2%B2", 400, "not valid"),
    ],
)
def test_bad_calendar_addresses_are_refused(client, patient, provider, url, status, message):  # type: ignore[no-untyped-def]
    response = client.get(url.format(pid=provider.id, sid=provider.services[0].id))
    assert response.status_code == status
    assert message.lower() in response.get_data(as_text=True).lower()


def test_a_repeated_field_is_refused(client, patient, provider):  # type: ignore[no-untyped-def]
    data = [("service_id", str(provider.services[0].id)), ("start", wall(3, 10)), ("start", wall(3, 11))]
    from werkzeug.datastructures import MultiDict

    response = client.post(f"/book/{provider.id}", data=MultiDict(data))
    assert response.status_code == 400
    assert "more than once" in response.get_data(as_text=True)
    assert appointments() == []


def test_an_inactive_provider_takes_no_bookings(client, patient, provider):  # type: ignore[no-untyped-def]
    provider.active = False
    db.session.commit()
    assert client.get(f"/book/{provider.id}").status_code == 404
    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)))
    assert response.status_code == 404
    assert appointments() == []
    assert f'data-provider-id="{provider.id}"' not in client.get("/book/").get_data(as_text=True)


# --- searching providers --------------------------------------------------------------------------


def test_providers_are_filtered_by_name_specialty_and_service(client, patient):  # type: ignore[no-untyped-def]
    first, second = everyday_provider(), everyday_provider()
    first.user.full_name, second.user.full_name = "Dr Ada Quill", "Dr Bo Reed"
    db.session.commit()

    def ids(url: str, **headers) -> set[int]:  # type: ignore[no-untyped-def]
        body = client.get(url, headers=headers).get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-provider-id="(\d+)"', body)}

    assert ids("/book/?q=quill") == {first.id}
    assert ids(f"/book/?specialty={second.specialty_id}") == {second.id}
    assert ids(f"/book/?service={first.services[0].id}") == {first.id}
    assert ids("/book/?q=%25") == set()  # a literal percent sign, not a wildcard
    fragment = client.get("/book/?q=reed", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True) and 'id="provider-list"' in fragment.get_data(as_text=True)


def test_many_providers_are_paginated(client, patient):  # type: ignore[no-untyped-def]
    for _ in range(13):
        everyday_provider()
    first = client.get("/book/").get_data(as_text=True)
    second = client.get("/book/?page=2").get_data(as_text=True)
    assert first.count("data-provider-id") == 12 and second.count("data-provider-id") == 1
    assert "Page 1 of 2" in first


def test_a_requested_swap_takes_the_focus_and_a_live_refresh_does_not(client, patient, provider):  # type: ignore[no-untyped-def]
    url = f"/book/{provider.id}/slots?service={provider.services[0].id}&date={local_day(3)}"
    requested = client.get(url, headers=HTMX).get_data(as_text=True)
    refreshed = client.get(f"{url}&known=stale", headers=HTMX)
    page = client.get(url).get_data(as_text=True)
    assert 'id="slots-title" tabindex="-1" autofocus' in requested
    assert refreshed.status_code == 200 and "autofocus" not in refreshed.get_data(as_text=True)
    assert "autofocus" not in page  # a whole page keeps the browser's own focus order
