"""Night clinics and day-long services from end to end: working hours that run past midnight or to
24:00, booked through the service and the booking form, on the right dates in the calendar, the slot
list, e-mails and calendar files, approved and flagged by staff, and London's clock-change nights."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, WorkingHours
from booking.models.outbox import OutboxMessage
from booking.models.types import utcnow
from booking.services.availability import load_provider_info, slots_between
from booking.services.booking import book_appointment
from booking.services.errors import Invalid
from tests.booking_helpers import booking_form, everyday_provider, local_day
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_service, make_user

TOKYO = "Asia/Tokyo"  # no clock changes: counts below hold whatever the date
LONDON = "Europe/London"


def night_clinic(zone: str = TOKYO, **settings):  # type: ignore[no-untyped-def]
    """A provider open every night from 22:00 to 06:00 the next morning, 30-minute service."""
    return everyday_provider(zone=zone, start=time(22), end=time(6), **settings)


def slot_starts(html: str) -> list[str]:
    return re.findall(r'data-slot-start="([^"]+)"', html)


def listed(client, provider, service, day: date) -> list[str]:  # type: ignore[no-untyped-def]
    """The slot starts the public slot list offers on `day`."""
    return slot_starts(client.get(f"/book/{provider.id}/slots?service={service.id}&date={day}").get_data(as_text=True))


def appointments() -> list[Appointment]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Appointment).order_by(Appointment.id)))


def instant(day: date, clock: str, zone: str = TOKYO) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), ZoneInfo(zone)).astimezone(timezone.utc)


def test_a_night_clinic_books_at_2330_and_0100_through_the_service(app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    service = provider.services[0]
    patient = make_user(Role.PATIENT)
    evening, morning = local_day(3, TOKYO), local_day(4, TOKYO)
    late = book_appointment(patient.id, provider.id, service.id, datetime.combine(evening, time(23, 30)), None)
    early = book_appointment(patient.id, provider.id, service.id, datetime.combine(morning, time(1)), None)
    booked = {a.id: a for a in appointments()}
    assert booked[late.appointment_id].start_at == instant(evening, "23:30")
    assert booked[late.appointment_id].end_at == instant(morning, "00:00")
    assert booked[early.appointment_id].start_at == instant(morning, "01:00")
    with pytest.raises(Invalid, match="does not work at that time"):
        book_appointment(patient.id, provider.id, service.id, datetime.combine(morning, time(6)), None)
    with pytest.raises(Invalid, match="does not work at that time"):
        book_appointment(patient.id, provider.id, service.id, datetime.combine(morning, time(21, 30)), None)


def test_a_night_clinic_books_at_2330_and_0100_through_the_booking_form(client, auth, app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    auth.login(make_user(Role.PATIENT).email)
    evening, morning = local_day(5, TOKYO), local_day(6, TOKYO)
    for start in (f"{evening}T23:30", f"{morning}T01:00"):
        confirm = client.get(f"/book/{provider.id}/confirm?service={provider.services[0].id}&start={start}")
        assert confirm.status_code == 200
        response = client.post(f"/book/{provider.id}", data=booking_form(provider, start, "Night shift"))
        assert response.status_code == 303, response.get_data(as_text=True)
    assert [a.start_at for a in appointments()] == [instant(evening, "23:30"), instant(morning, "01:00")]
    refused = client.post(f"/book/{provider.id}", data=booking_form(provider, f"{morning}T07:00"), headers=HTMX)
    assert refused.status_code == 422 and "does not work at that time" in refused.get_data(as_text=True)
    assert len(appointments()) == 2


def test_night_slots_are_listed_and_counted_on_the_date_they_start(client, auth, app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    service = provider.services[0]
    auth.login(make_user(Role.PATIENT).email)
    day = local_day(4, TOKYO)
    # the night from the day before until 06:00, then this day's own night from 22:00
    assert listed(client, provider, service, day) == [f"{day}T{h:02d}:{m:02d}" for h in range(6) for m in (0, 30)] + [
        f"{day}T{h}:{m:02d}" for h in (22, 23) for m in (0, 30)]
    page = client.get(f"/book/{provider.id}?service={service.id}&month={day:%Y-%m}").get_data(as_text=True)
    assert f'data-day="{day}"' in page and "16 free" in page


def test_a_day_long_service_in_a_block_to_24_00_can_be_offered_booked_and_approved(client, auth, app):  # type: ignore[no-untyped-def]
    provider = everyday_provider(zone=TOKYO, start=time(0), end=time(0))  # 00:00-24:00 every day
    whole_day = make_service(name="Round-the-clock monitoring", duration_min=1440)
    provider.services = [whole_day]
    db.session.commit()
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    day = local_day(3, TOKYO)
    slots = client.get(f"/book/{provider.id}/slots?service={whole_day.id}&date={day}").get_data(as_text=True)
    assert slot_starts(slots) == [f"{day}T00:00"]
    page = client.get(f"/book/{provider.id}?service={whole_day.id}&month={day:%Y-%m}").get_data(as_text=True)
    assert "1 free" in page
    response = client.post(f"/book/{provider.id}", data={"service_id": str(whole_day.id), "start": f"{day}T00:00"})
    assert response.status_code == 303, response.get_data(as_text=True)
    [booked] = appointments()
    assert (booked.start_at, booked.end_at) == (instant(day, "00:00"), instant(day + timedelta(days=1), "00:00"))
    # the next day is still free: the appointment ends exactly when that day's block starts
    following = client.get(f"/book/{provider.id}/slots?service={whole_day.id}&date={day + timedelta(days=1)}")
    assert slot_starts(following.get_data(as_text=True)) == [f"{day + timedelta(days=1)}T00:00"]
    staff = app.test_client()
    staff.post("/auth/login", data={"email": provider.user.email, "password": DEFAULT_PASSWORD})
    assert staff.post(f"/staff/appointments/{booked.id}/approve").status_code == 303
    assert appointments()[0].status == Status.APPROVED.value


def test_staff_approve_a_night_request_and_are_warned_when_the_night_is_cut_short(app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    patient = make_user(Role.PATIENT)
    staff = app.test_client()
    staff.post("/auth/login", data={"email": provider.user.email, "password": DEFAULT_PASSWORD})
    evening = local_day(3, TOKYO)
    fits = make_appointment(patient=patient, provider=provider, start_at=instant(evening, "23:45"),
                            status=Status.PENDING)
    late = make_appointment(patient=patient, provider=provider, start_at=instant(evening + timedelta(days=1), "01:00"),
                            status=Status.PENDING)
    queue = staff.get("/staff/requests").get_data(as_text=True)
    assert "no longer inside" not in queue
    assert staff.post(f"/staff/appointments/{fits.id}/approve").status_code == 303
    # That night now ends at midnight: the 01:00 request no longer fits, and the queue says so.
    block = db.session.scalar(sa.select(WorkingHours).where(WorkingHours.provider_id == provider.id,
                                                             WorkingHours.weekday == evening.weekday()))
    changed = staff.post(f"/staff/hours/{block.id}", data={"weekday": str(evening.weekday()), "start": "22:00",
                                                            "end": "24:00"})
    assert changed.status_code == 303
    queue = staff.get("/staff/requests").get_data(as_text=True)
    assert "no longer inside the provider" in queue
    refused = staff.post(f"/staff/appointments/{late.id}/approve")
    assert refused.status_code == 409
    statuses = {a.id: a.status for a in appointments()}
    assert statuses == {fits.id: Status.APPROVED.value, late.id: Status.PENDING.value}


def test_mails_and_calendar_files_of_a_night_booking_carry_the_date_it_starts(app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    patient = make_user(Role.PATIENT, email="night@example.com")
    morning = local_day(4, TOKYO)
    book_appointment(patient.id, provider.id, provider.services[0].id, datetime.combine(morning, time(1, 30)), None)
    db.session.rollback()
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == "night@example.com")).all()
    assert f"{morning:%a %d %b %Y}, 01:30 JST" in mail.text_body
    event = next(c for c in icalendar.Calendar.from_ical(mail.ics).walk("VEVENT"))
    assert event.decoded("DTSTART") == instant(morning, "01:30")
    assert event.decoded("DTEND") == instant(morning, "02:00")


def test_time_off_across_midnight_closes_both_dates(client, auth, app):  # type: ignore[no-untyped-def]
    provider = night_clinic()
    service = provider.services[0]
    staff = app.test_client()
    staff.post("/auth/login", data={"email": provider.user.email, "password": DEFAULT_PASSWORD})
    evening, morning = local_day(3, TOKYO), local_day(4, TOKYO)
    response = staff.post("/staff/time-off", data={"start": f"{evening}T23:00", "end": f"{morning}T02:00",
                                                   "reason": "Training"})
    assert response.status_code == 303
    auth.login(make_user(Role.PATIENT).email)
    first, second = listed(client, provider, service, evening), listed(client, provider, service, morning)
    assert [s for s in first if s > f"{evening}T20"] == [f"{evening}T22:00", f"{evening}T22:30"]
    assert [s for s in second if s < f"{morning}T06"] == [f"{morning}T{c}" for c in (
        "02:00", "02:30", "03:00", "03:30", "04:00", "04:30", "05:00", "05:30")]


def _next_london_change(month: int) -> date:
    """The Sunday of London's next clock change in `month` (3: forward at 01:00, 10: back at 02:00)."""
    zone, today = ZoneInfo(LONDON), utcnow().date()
    for year in (today.year, today.year + 1):
        last = date(year, month, 31)
        sunday = last - timedelta(days=(last.weekday() + 1) % 7)
        if sunday > today + timedelta(days=1):
            before = datetime.combine(sunday, time(0), zone).utcoffset()
            assert before != datetime.combine(sunday, time(4), zone).utcoffset()
            return sunday
    raise AssertionError("no clock change found")


@pytest.mark.parametrize(("month", "expected_night"), [
    (3, ["22:00 GMT", "23:00 GMT", "00:00 GMT", "02:00 BST", "03:00 BST", "04:00 BST", "05:00 BST"]),
    (10, ["22:00 BST", "23:00 BST", "00:00 BST", "01:00 BST", "02:00 GMT", "03:00 GMT", "04:00 GMT", "05:00 GMT"]),
])
def test_london_clock_change_nights_are_offered_and_booked_through_the_service(app, month, expected_night):  # type: ignore[no-untyped-def]
    provider = night_clinic(zone=LONDON, horizon_days=400)
    hourly = make_service(name=f"Hour {month}", duration_min=60)
    provider.services = [hourly]
    db.session.commit()
    sunday = _next_london_change(month)
    saturday = sunday - timedelta(days=1)
    info = load_provider_info(provider.id)
    found = slots_between(info, info.service(hourly.id), saturday, sunday, utcnow())
    night = [s for s in found[saturday] if s.hour >= 22] + [s for s in found[sunday] if s.hour < 6]
    assert [s.strftime("%H:%M %Z") for s in night] == expected_night
    assert all(s.date() == d for d, v in found.items() for s in v)
    patient = make_user(Role.PATIENT)
    if month == 3:
        with pytest.raises(Invalid, match="does not exist"):
            book_appointment(patient.id, provider.id, hourly.id, datetime.combine(sunday, time(1, 0)), None)
        booked = book_appointment(patient.id, provider.id, hourly.id, datetime.combine(sunday, time(0)), None)
        start = datetime.combine(sunday, time(0), ZoneInfo(LONDON))
    else:  # 01:00 is the first 01:00, BST: midnight UTC
        booked = book_appointment(patient.id, provider.id, hourly.id, datetime.combine(sunday, time(1)), None)
        start = datetime.combine(sunday, time(0), timezone.utc)
    [appointment] = [a for a in appointments() if a.id == booked.appointment_id]
    assert appointment.start_at == start.astimezone(timezone.utc)
    assert appointment.end_at - appointment.start_at == timedelta(hours=1)  # real time, whatever the clocks do


def test_a_slot_list_sees_bookings_after_midnight_that_its_last_slots_run_into(client, auth, app):  # type: ignore[no-untyped-def]
    provider = night_clinic(slot_step_min=30)
    hour = make_service(name="Night hour", duration_min=60)
    provider.services = [hour]
    db.session.commit()
    evening, morning = local_day(3, TOKYO), local_day(4, TOKYO)
    make_appointment(patient=make_user(Role.PATIENT), provider=provider, service=hour,
                     start_at=instant(morning, "00:00"), status=Status.APPROVED)
    auth.login(make_user(Role.PATIENT).email)
    offered = listed(client, provider, hour, evening)
    assert f"{evening}T23:00" in offered  # ends at midnight, when the booking starts
    assert f"{evening}T23:30" not in offered  # would run to 00:30, into the booking


def test_a_night_booking_moves_past_midnight(app):  # type: ignore[no-untyped-def]
    from booking.services.booking import reschedule_by_patient

    provider = night_clinic()
    service = provider.services[0]
    patient = make_user(Role.PATIENT)
    evening, morning = local_day(3, TOKYO), local_day(4, TOKYO)
    booked = book_appointment(patient.id, provider.id, service.id, datetime.combine(evening, time(23, 30)), None)
    reschedule_by_patient(patient.id, booked.appointment_id, datetime.combine(morning, time(2)), timedelta(hours=24))
    [moved] = appointments()
    assert (moved.start_at, moved.end_at) == (instant(morning, "02:00"), instant(morning, "02:30"))
