"""Staff keep their working hours and time off; clashes with approved appointments need a decision."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider, TimeOff, WorkingHours
from tests.booking_helpers import ZONE, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import make_appointment, make_user


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def blocks(provider_id: int) -> list[tuple[int, time, time]]:
    db.session.rollback()
    return [(b.weekday, b.start_time, b.end_time) for b in db.session.scalars(
        sa.select(WorkingHours).where(WorkingHours.provider_id == provider_id)
        .order_by(WorkingHours.weekday, WorkingHours.start_time))]


@pytest.fixture
def own(desk):  # type: ignore[no-untyped-def]
    """The logged-in staff member's own provider."""
    return desk[1]


def test_adding_changing_and_removing_blocks(client, own):  # type: ignore[no-untyped-def]
    assert client.post("/staff/hours", data={"weekday": "0", "start": "18:00", "end": "20:00"}).status_code == 303
    assert (0, time(18), time(20)) in blocks(own.id)
    block = db.session.scalar(sa.select(WorkingHours).where(WorkingHours.provider_id == own.id,
                                                             WorkingHours.start_time == time(18)))
    response = client.post(f"/staff/hours/{block.id}", data={"weekday": "0", "start": "18:30", "end": "20:00"},
                           headers=HTMX)
    assert response.status_code == 200 and 'id="hours"' in response.get_data(as_text=True)
    assert (0, time(18, 30), time(20)) in blocks(own.id)
    assert client.post(f"/staff/hours/{block.id}/delete").status_code == 303
    assert all(b[1] != time(18, 30) for b in blocks(own.id))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"weekday": "0", "start": "10:00", "end": "12:00"}, "overlaps Monday 09:00–17:00"),
        ({"weekday": "0", "start": "20:00", "end": "20:00"}, "must not end when it starts"),
        ({"weekday": "0", "start": "20:00", "end": "19:00"}, "overlaps Tuesday 09:00–17:00"),  # to Tuesday 19:00
        ({"weekday": "0", "start": "22:00", "end": "09:30"}, "overlaps Tuesday 09:00–17:00"),
        ({"weekday": "6", "start": "23:00", "end": "09:01"}, "overlaps Monday 09:00–17:00"),  # the week wraps
        ({"weekday": "0", "start": "24:00", "end": "06:00"}, "start time must look like 09:30"),
        ({"weekday": "0", "start": "20:00", "end": "24:30"}, "or 24:00 for midnight"),
        ({"weekday": "0", "start": "20:00", "end": "20:00:30"}, "or 24:00 for midnight"),
        ({"weekday": "7", "start": "20:00", "end": "21:00"}, "day of the week"),
        ({"weekday": "²", "start": "20:00", "end": "21:00"}, "day of the week"),  # a digit to isdigit() only
        ({"weekday": "0", "start": "8am", "end": "21:00"}, "must look like 09:30"),
    ],
)
def test_bad_blocks_are_refused(client, own, form, message):  # type: ignore[no-untyped-def]
    before = blocks(own.id)
    response = client.post("/staff/hours", data=form, headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert blocks(own.id) == before


def test_removed_hours_take_the_slots_with_them(app, client, own):  # type: ignore[no-untyped-def]
    day = local_day(3)
    for block in blocks_of(own.id, day.weekday()):
        assert client.post(f"/staff/hours/{block}/delete").status_code == 303
    patient = app.test_client()
    patient.post("/auth/login", data={"email": make_user(Role.PATIENT).email, "password": "correct horse battery"})
    slots = patient.get(f"/book/{own.id}/slots?service={own.services[0].id}&date={day}").get_data(as_text=True)
    assert "data-slot-start" not in slots


def blocks_of(provider_id: int, weekday: int) -> list[int]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(WorkingHours.id).where(
        WorkingHours.provider_id == provider_id, WorkingHours.weekday == weekday)))


def test_time_off_over_approved_appointments_needs_confirming(client, own):  # type: ignore[no-untyped-def]
    approved = make_appointment(provider=own, start_at=at(wall(3, 10)), status=Status.APPROVED)
    pending = make_appointment(provider=own, start_at=at(wall(3, 11)), status=Status.PENDING)
    form = {"start": wall(3, 9), "end": wall(3, 13), "reason": "Training day"}

    first = client.post("/staff/time-off", data=form, headers=HTMX)
    assert first.status_code == 409
    body = first.get_data(as_text=True)
    assert f'data-appointment-id="{approved.id}"' in body and "cancel these 1" in body
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(TimeOff.id))) == 0

    confirmed = client.post("/staff/time-off", data={**form, "confirm": "yes"}, headers=HTMX)
    assert confirmed.status_code == 200
    db.session.rollback()
    cancelled = db.session.get(Appointment, approved.id)
    assert (cancelled.status, cancelled.events[-1].reason) == ("cancelled", "Training day")
    assert db.session.get(Appointment, pending.id).status == "pending"  # the queue flags it instead
    assert db.session.scalar(sa.select(sa.func.count(TimeOff.id))) == 1


def test_confirmed_cancellations_need_a_reason(client, own):  # type: ignore[no-untyped-def]
    approved = make_appointment(provider=own, start_at=at(wall(3, 10)), status=Status.APPROVED)
    response = client.post("/staff/time-off", data={"start": wall(3, 9), "end": wall(3, 13), "confirm": "yes"})
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.get(Appointment, approved.id).status == "approved"


def test_time_off_without_clashes_and_its_removal(client, own):  # type: ignore[no-untyped-def]
    assert client.post("/staff/time-off", data={"start": wall(5, 9), "end": wall(6, 17)}).status_code == 303
    db.session.rollback()
    off = db.session.scalar(sa.select(TimeOff))
    assert off.start_at == at(wall(5, 9))
    assert "Time off added." in client.get("/staff/time-off").get_data(as_text=True)
    assert client.post(f"/staff/time-off/{off.id}/delete").status_code == 303
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(TimeOff.id))) == 0


@pytest.mark.parametrize(
    ("form", "status"),
    [({"start": "soon", "end": "later"}, 422), ({"start": wall(5, 12), "end": wall(5, 9)}, 422)],
)
def test_bad_time_off_is_refused(client, own, form, status):  # type: ignore[no-untyped-def]
    assert client.post("/staff/time-off", data=form).status_code == status
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(TimeOff.id))) == 0


def test_an_admin_edits_any_provider_by_naming_it(app, auth, client):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    auth.login(make_user(Role.ADMIN).email)
    chooser = client.get("/staff/hours").get_data(as_text=True)
    assert f'data-provider-id="{provider.id}"' in chooser
    response = client.post(f"/staff/hours?provider={provider.id}", data={"weekday": "0", "start": "18:00", "end": "19:00"})
    assert response.status_code == 303
    assert (0, time(18), time(19)) in blocks(provider.id)


def test_staff_cannot_touch_another_providers_blocks(client, own):  # type: ignore[no-untyped-def]
    other = everyday_provider()
    other_block = blocks_of(other.id, 0)[0]
    assert client.post(f"/staff/hours/{other_block}/delete").status_code == 404
    assert client.post(f"/staff/hours/{other_block}", data={"weekday": "0", "start": "01:00", "end": "02:00"}).status_code == 404
    assert len(blocks_of(other.id, 0)) == 1


# --- nights and the end of the day -----------------------------------------------------------------


@pytest.fixture
def evenings_free(own):  # type: ignore[no-untyped-def]
    """The own provider, working 09:00-17:00 on weekdays only."""
    provider = db.session.get(Provider, own.id)
    provider.working_hours = [b for b in provider.working_hours if b.weekday < 5]
    db.session.commit()
    return provider


def test_a_night_block_and_one_to_midnight_are_stored_as_ends_next_day(client, evenings_free):  # type: ignore[no-untyped-def]
    response = client.post("/staff/hours", data={"weekday": "4", "start": "22:00", "end": "06:00"}, headers=HTMX)
    assert response.status_code == 200
    assert client.post("/staff/hours", data={"weekday": "5", "start": "18:00", "end": "24:00"}).status_code == 303
    assert client.post("/staff/hours", data={"weekday": "6", "start": "00:00", "end": "24:00"}).status_code == 303
    stored = blocks(evenings_free.id)
    assert (4, time(22), time(6)) in stored and (5, time(18), time(0)) in stored and (6, time(0), time(0)) in stored
    page = client.get("/staff/hours").get_data(as_text=True)
    assert page.count("data-ends-next-day") == 3
    assert "ends next day" in page and "midnight" in page and "end is at or before its start ends the next day" in page
    assert page.count('value="24:00"') == 2  # 18:00-24:00 and 00:00-24:00, shown as entered


@pytest.mark.parametrize(
    ("existing", "new", "overlapping"),
    [
        ((0, "22:00", "06:00"), (1, "05:00", "09:00"), "Monday 22:00–06:00 (ends next day)"),
        ((1, "05:00", "09:00"), (0, "22:00", "06:00"), "Tuesday 05:00–09:00"),
        ((6, "22:00", "06:00"), (0, "05:30", "06:30"), "Sunday 22:00–06:00 (ends next day)"),  # into next week
        ((5, "00:00", "24:00"), (5, "12:00", "13:00"), "Saturday 00:00–24:00"),
        ((5, "18:00", "24:00"), (5, "23:00", "01:00"), "Saturday 18:00–24:00"),
    ],
)
def test_overlaps_with_night_blocks_are_refused(client, evenings_free, existing, new, overlapping):  # type: ignore[no-untyped-def]
    day, start, end = existing
    assert client.post("/staff/hours", data={"weekday": str(day), "start": start, "end": end}).status_code == 303
    before = blocks(evenings_free.id)
    day, start, end = new
    response = client.post("/staff/hours", data={"weekday": str(day), "start": start, "end": end}, headers=HTMX)
    assert response.status_code == 422
    assert f"That overlaps {overlapping}." in response.get_data(as_text=True)
    assert blocks(evenings_free.id) == before


def test_a_night_that_only_touches_the_next_block_is_allowed(client, evenings_free):  # type: ignore[no-untyped-def]
    # Monday 09:00-17:00 exists; Sunday 22:00 to Monday 09:00 ends exactly when it starts.
    assert client.post("/staff/hours", data={"weekday": "6", "start": "22:00", "end": "09:00"}).status_code == 303
    assert client.post("/staff/hours", data={"weekday": "0", "start": "17:00", "end": "24:00"}).status_code == 303
    assert (6, time(22), time(9)) in blocks(evenings_free.id) and (0, time(17), time(0)) in blocks(evenings_free.id)


def test_the_service_stores_whole_minutes_only(app, desk):  # type: ignore[no-untyped-def]
    from booking.services import schedule
    from booking.services.errors import Invalid

    staff, provider = desk
    before = blocks(provider.id)
    for start, end, field in [(time(22, 0, 30), time(23), "start"), (time(20), time(21, 0, 0, 1), "end")]:
        with pytest.raises(Invalid) as refused:
            schedule.add_block(staff.id, provider.id, 6, start, end)
        assert refused.value.field == field and "whole minute" in refused.value.message
    assert blocks(provider.id) == before
