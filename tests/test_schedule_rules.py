"""The rules of a provider's schedule, asked of the schedule service directly with real rows: which
blocks of working hours and which time off it accepts, what it answers when it refuses, what a change
leaves behind (the rows, the free times the calendar offers next, the audit trail and the patients'
mail), and that a refused change leaves everything as it was."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.availability import Block
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, OutboxMessage, Provider, TimeOff, User, WorkingHours
from booking.services import schedule
from booking.services.availability import load_provider_info, slots_between
from booking.services.errors import Invalid, InvalidFields, NotFound, Problems
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import make_appointment, make_user

WHOLE_DAY_HINT = "A block must not end when it starts. For the whole day, enter 00:00 to 24:00."
NO_SUCH_BLOCK = "There is no such block of working hours."


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def stored_blocks(provider_id: int) -> list[tuple[int, time, time]]:
    db.session.rollback()
    return [(b.weekday, b.start_time, b.end_time) for b in db.session.scalars(
        sa.select(WorkingHours).where(WorkingHours.provider_id == provider_id)
        .order_by(WorkingHours.weekday, WorkingHours.start_time))]


def block_id(provider_id: int, weekday: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(WorkingHours.id).where(
        WorkingHours.provider_id == provider_id, WorkingHours.weekday == weekday))


def offered(provider_id: int) -> tuple[datetime, ...]:
    """Every free time the provider's calendar offers over the next two weeks: what a change shows."""
    db.session.rollback()
    info = load_provider_info(provider_id)
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(info.timezone)).date()
    found = slots_between(info, info.service(None), today, today + timedelta(days=13), now)
    return tuple(slot for day in sorted(found) for slot in found[day])


def time_off_rows() -> list[tuple[int, datetime, datetime, str | None]]:
    db.session.rollback()
    return [tuple(row) for row in db.session.execute(
        sa.select(TimeOff.provider_id, TimeOff.start_at, TimeOff.end_at, TimeOff.reason).order_by(TimeOff.id))]


@pytest.fixture
def week(app):  # type: ignore[no-untyped-def]
    """(staff id, provider id): a provider working 09:00-17:00 every day, and its own staff member."""
    provider = everyday_provider()
    return provider.user_id, provider.id


@pytest.fixture
def weekdays_only(app):  # type: ignore[no-untyped-def]
    """(staff id, provider id): a provider working 09:00-17:00 Monday to Friday, the weekend free."""
    provider = everyday_provider()
    provider.working_hours = [b for b in provider.working_hours if b.weekday < 5]
    db.session.commit()
    return provider.user_id, provider.id


def refused_as(error: type[Exception], message: str, field: str | None, change) -> None:  # type: ignore[no-untyped-def]
    """`change` is refused with exactly this error, message and field."""
    with pytest.raises(error) as raised:
        change()
    assert type(raised.value) is error
    assert (raised.value.message, raised.value.field) == (message, field)


# --- blocks of working hours ----------------------------------------------------------------------


def test_a_block_may_start_on_any_day_from_monday_to_sunday(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    schedule.add_block(staff, provider, 5, time(10), time(12))
    schedule.add_block(staff, provider, 6, time(10), time(12))
    schedule.add_block(staff, provider, 0, time(18), time(20))
    assert {(5, time(10), time(12)), (6, time(10), time(12)), (0, time(18), time(20))} <= set(stored_blocks(provider))


@pytest.mark.parametrize("weekday", [-1, 7, 8])
def test_a_block_on_a_day_outside_the_week_is_refused(weekdays_only, weekday):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    before, monday = stored_blocks(provider), block_id(provider, 0)
    refused_as(Invalid, "Choose a day of the week.", "weekday",
               lambda: schedule.add_block(staff, provider, weekday, time(10), time(12)))
    refused_as(Invalid, "Choose a day of the week.", "weekday",
               lambda: schedule.change_block(staff, provider, monday, weekday, time(10), time(12)))
    assert stored_blocks(provider) == before


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (time(10, 0, 30), time(12), "start"),
        (time(10, 0, 0, 1), time(12), "start"),
        (time(10, tzinfo=timezone.utc), time(12), "start"),
        (time(10), time(12, 0, 30), "end"),
        (time(10), time(12, 0, 0, 1), "end"),
        (time(10), time(12, tzinfo=timezone.utc), "end"),
        (time(10, 0, 1), time(12, 0, 1), "start"),  # the first fault is told
    ],
)
def test_a_block_is_stored_in_whole_wall_clock_minutes_only(weekdays_only, start, end, field):  # type: ignore[no-untyped-def]
    """A start is named by its minute (a stored second would move every slot of the block), and a
    block is wall-clock time in the provider's own zone, so a time with a zone of its own is refused."""
    staff, provider = weekdays_only
    before, monday = stored_blocks(provider), block_id(provider, 0)
    message = f"The {field} time must be a whole minute, like 09:30."
    refused_as(Invalid, message, field, lambda: schedule.add_block(staff, provider, 5, start, end))
    refused_as(Invalid, message, field, lambda: schedule.change_block(staff, provider, monday, 5, start, end))
    assert stored_blocks(provider) == before


def test_a_block_that_ends_when_it_starts_is_refused_unless_it_is_the_whole_day(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    monday = block_id(provider, 0)
    for start in (time(20), time(0, 1)):
        refused_as(Invalid, WHOLE_DAY_HINT, "end", lambda: schedule.add_block(staff, provider, 5, start, start))
        refused_as(Invalid, WHOLE_DAY_HINT, "end",
                   lambda: schedule.change_block(staff, provider, monday, 5, start, start))
    schedule.add_block(staff, provider, 5, time(0), time(0))
    assert (5, time(0), time(0)) in stored_blocks(provider)


def test_a_block_that_shares_time_with_another_is_refused_naming_the_other(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    before, offered_before = stored_blocks(provider), offered(provider)
    refused_as(Invalid, "That overlaps Wednesday 09:00–17:00.", "start",
               lambda: schedule.add_block(staff, provider, 2, time(16, 59), time(18)))
    refused_as(Invalid, "That overlaps Friday 09:00–17:00.", "start",
               lambda: schedule.add_block(staff, provider, 4, time(8), time(9, 1)))
    assert (stored_blocks(provider), offered(provider)) == (before, offered_before)


def test_a_block_changed_within_its_own_time_is_not_refused_as_overlapping_itself(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    monday = block_id(provider, 0)
    schedule.change_block(staff, provider, monday, 0, time(10), time(16))
    assert stored_blocks(provider)[0] == (0, time(10), time(16))


def test_a_changed_block_may_not_overlap_the_providers_other_blocks(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    monday = block_id(provider, 0)
    before, offered_before = stored_blocks(provider), offered(provider)
    refused_as(Invalid, "That overlaps Tuesday 09:00–17:00.", "start",
               lambda: schedule.change_block(staff, provider, monday, 0, time(20), time(9, 30)))
    assert (stored_blocks(provider), offered(provider)) == (before, offered_before)


def test_a_change_moves_the_block_to_its_new_day_and_times(weekdays_only):  # type: ignore[no-untyped-def]
    staff, provider = weekdays_only
    monday = block_id(provider, 0)
    schedule.change_block(staff, provider, monday, 6, time(22), time(6))
    db.session.rollback()
    moved = db.session.get(WorkingHours, monday)
    assert (moved.provider_id, moved.weekday, moved.start_time, moved.end_time) == (provider, 6, time(22), time(6))
    assert [b[0] for b in stored_blocks(provider)] == [1, 2, 3, 4, 6]


def test_every_change_of_the_hours_is_what_the_calendar_offers_next(weekdays_only):  # type: ignore[no-untyped-def]
    """No cache stands between an edit and the calendar: the next page shows the new hours."""
    staff, provider = weekdays_only
    start = offered(provider)
    assert not [s for s in start if s.weekday() == 5]
    schedule.add_block(staff, provider, 5, time(10), time(12))
    assert sorted({(s.hour, s.minute) for s in offered(provider) if s.weekday() == 5}) == [
        (10, 0), (10, 30), (11, 0), (11, 30)]
    saturday = block_id(provider, 5)
    schedule.change_block(staff, provider, saturday, 5, time(11), time(13))
    assert sorted({(s.hour, s.minute) for s in offered(provider) if s.weekday() == 5}) == [
        (11, 0), (11, 30), (12, 0), (12, 30)]
    schedule.remove_block(staff, provider, saturday)
    assert offered(provider) == start
    assert 5 not in [b[0] for b in stored_blocks(provider)]


def test_a_block_of_another_provider_or_none_at_all_is_not_found(weekdays_only):  # type: ignore[no-untyped-def]
    """Named through the wrong provider, a block does not exist, even to an admin: an edit never moves
    hours from one provider to another."""
    staff, provider = weekdays_only
    other = everyday_provider()
    theirs, other_id = other.working_hours[0].id, other.id
    admin = make_user(Role.ADMIN).id
    mine, others = stored_blocks(provider), stored_blocks(other_id)
    offers = offered(provider), offered(other_id)
    for actor in (staff, admin):
        for block in (theirs, 999_999):
            refused_as(NotFound, NO_SUCH_BLOCK, None,
                       lambda: schedule.change_block(actor, provider, block, 5, time(10), time(12)))
            refused_as(NotFound, NO_SUCH_BLOCK, None, lambda: schedule.remove_block(actor, provider, block))
    assert (stored_blocks(provider), stored_blocks(other_id)) == (mine, others)
    assert (offered(provider), offered(other_id)) == offers


def test_an_admin_edits_the_hours_of_any_provider(weekdays_only):  # type: ignore[no-untyped-def]
    _, provider = weekdays_only
    admin = make_user(Role.ADMIN).id
    schedule.add_block(admin, provider, 5, time(10), time(12))
    schedule.change_block(admin, provider, block_id(provider, 5), 5, time(10), time(13))
    schedule.remove_block(admin, provider, block_id(provider, 0))
    assert stored_blocks(provider) == [(d, time(9), time(17)) for d in range(1, 5)] + [(5, time(10), time(13))]


# --- a block in words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "start", "end", "words"),
    [
        (0, time(9), time(17), "Monday 09:00–17:00"),
        (4, time(22), time(6), "Friday 22:00–06:00 (ends next day)"),
        (6, time(18), time(0), "Sunday 18:00–24:00"),
        (5, time(0), time(0), "Saturday 00:00–24:00"),
        (2, time(9), time(9), "Wednesday 09:00–09:00 (ends next day)"),
        (3, time(9, 5), time(9, 4), "Thursday 09:05–09:04 (ends next day)"),
        (1, time(9, 4), time(9, 5), "Tuesday 09:04–09:05"),
    ],
)
def test_a_block_in_words(weekday, start, end, words):  # type: ignore[no-untyped-def]
    assert schedule.describe(weekday, start, end) == words


@given(st.integers(0, 6), st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_a_block_in_words_says_it_ends_next_day_exactly_when_it_runs_past_midnight(weekday, start, end):  # type: ignore[no-untyped-def]
    """The words agree with the availability engine: an end at or before the start ends the next day,
    but one at 00:00 is midnight and is written 24:00."""
    words = schedule.describe(weekday, start, end)
    assert words.startswith(f"{schedule.WEEKDAYS[weekday]} {start:%H:%M}–")
    assert words.endswith(" (ends next day)") == (Block(weekday, start, end).ends_next_day and end != time(0))
    assert ("24:00" in words.split("–")[1]) == (end == time(0))


# --- time off --------------------------------------------------------------------------------------


def test_time_off_needs_a_start_and_an_end(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    start = at(wall(5, 9))
    for first, last in [(None, start), (start, None), (None, None)]:
        refused_as(Invalid, "Give the start and the end of the time off.", "start",
                   lambda: schedule.add_time_off(staff, provider, first, last, "Away"))
    assert time_off_rows() == []


def test_a_time_the_caller_could_not_read_is_told_alone_rather_than_as_a_missing_one(week):  # type: ignore[no-untyped-def]
    """The route passes what it could not read; the service does not add that a time is missing on top."""
    staff, provider = week
    problems = Problems()
    problems.add("The start must be a date and time like 2026-05-31T09:00.", "start")
    refused_as(Invalid, "The start must be a date and time like 2026-05-31T09:00.", "start",
               lambda: schedule.add_time_off(staff, provider, None, at(wall(5, 9)), None, problems=problems))
    assert time_off_rows() == []


@pytest.mark.parametrize("minutes", [0, -1, -60 * 24])
def test_time_off_must_end_after_it_starts(week, minutes):  # type: ignore[no-untyped-def]
    staff, provider = week
    start = at(wall(5, 9))
    refused_as(Invalid, "The time off must end after it starts.", "end",
               lambda: schedule.add_time_off(staff, provider, start, start + timedelta(minutes=minutes), None))
    assert time_off_rows() == []


def test_time_off_ending_a_minute_after_it_starts_is_kept(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    start = at(wall(5, 9))
    schedule.add_time_off(staff, provider, start, start + timedelta(minutes=1), None)
    assert time_off_rows() == [(provider, start, start + timedelta(minutes=1), None)]


def test_a_time_off_reason_is_trimmed_and_an_empty_one_is_none(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    day = at(wall(5, 9))
    schedule.add_time_off(staff, provider, day, day + timedelta(hours=1), "  Training day \n")
    schedule.add_time_off(staff, provider, day + timedelta(hours=2), day + timedelta(hours=3), "   ")
    schedule.add_time_off(staff, provider, day + timedelta(hours=4), day + timedelta(hours=5), None)
    assert [row[3] for row in time_off_rows()] == ["Training day", None, None]


def test_a_time_off_reason_is_kept_to_200_characters_once_trimmed(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    day = at(wall(5, 9))
    refused_as(Invalid, "Please keep the reason to 200 characters.", "reason",
               lambda: schedule.add_time_off(staff, provider, day, day + timedelta(hours=1), "x" * 201))
    assert time_off_rows() == []
    schedule.add_time_off(staff, provider, day, day + timedelta(hours=1), " " + "x" * 200 + " ")
    assert [row[3] for row in time_off_rows()] == ["x" * 200]


def test_every_fault_of_a_time_off_is_told_at_once(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    start = at(wall(5, 9))
    with pytest.raises(InvalidFields) as raised:
        schedule.add_time_off(staff, provider, start, start - timedelta(hours=1), "x" * 201)
    assert raised.value.problems == [("end", "The time off must end after it starts."),
                                     ("reason", "Please keep the reason to 200 characters.")]
    problems = Problems()
    problems.add("The end must be a date and time like 2026-05-31T09:00.", "end")
    with pytest.raises(InvalidFields) as raised:
        schedule.add_time_off(staff, provider, start, None, "x" * 201, problems=problems)
    assert raised.value.problems == [("end", "The end must be a date and time like 2026-05-31T09:00."),
                                     ("reason", "Please keep the reason to 200 characters.")]
    assert time_off_rows() == []


def test_time_off_is_stored_for_its_provider_and_its_id_returned(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    before = offered(provider)
    start, end = at(wall(5, 9)), at(wall(6, 17))
    off_id = schedule.add_time_off(staff, provider, start, end, "Holiday")
    db.session.rollback()
    off = db.session.get(TimeOff, off_id)
    assert (off.provider_id, off.start_at, off.end_at, off.reason) == (provider, start, end, "Holiday")
    assert offered(provider) == tuple(s for s in before if not start <= s < end), "the calendar offers none of it"


@pytest.fixture
def booked(week):  # type: ignore[no-untyped-def]
    """The week's provider with appointments of 30 minutes in and around a time off of 10:00-12:00 five
    days ahead: names -> ids, the time off's start and end, and (staff id, provider id)."""
    staff, provider_id = week
    provider = db.session.get(Provider, provider_id)
    other = everyday_provider()
    ids = {
        "inside, later": make_appointment(provider=provider, start_at=at(wall(5, 11)), status=Status.APPROVED),
        "across its start": make_appointment(provider=provider, start_at=at(wall(5, 9, 45)), status=Status.APPROVED),
        "across its end": make_appointment(provider=provider, start_at=at(wall(5, 11, 45)), status=Status.APPROVED),
        "pending inside": make_appointment(provider=provider, start_at=at(wall(5, 10, 30)), status=Status.PENDING),
        "cancelled inside": make_appointment(provider=provider, start_at=at(wall(5, 10, 15)), status=Status.CANCELLED),
        "another provider's": make_appointment(provider=other, start_at=at(wall(5, 10)), status=Status.APPROVED),
    }
    ids = {name: appointment.id for name, appointment in ids.items()}
    return ids, at(wall(5, 10)), at(wall(5, 12)), (staff, provider_id)


COVERED = ["across its start", "inside, later", "across its end"]


def statuses(ids: dict[str, int]) -> dict[str, str]:
    db.session.rollback()
    return {name: db.session.get(Appointment, i).status for name, i in ids.items()}


def outbox() -> list[tuple[int | None, int | None, str]]:
    db.session.rollback()
    return [tuple(row) for row in db.session.execute(
        sa.select(OutboxMessage.user_id, OutboxMessage.appointment_id, OutboxMessage.text_body).order_by(OutboxMessage.id))]


def test_time_off_over_approved_appointments_is_refused_until_confirmed_naming_them_in_order(booked):  # type: ignore[no-untyped-def]
    """Only the provider's own approved appointments that share time with it clash (a pending request is
    left for the queue to flag, a cancelled one holds no time)."""
    ids, start, end, (staff, provider) = booked
    before, offered_before = statuses(ids), offered(provider)
    for confirm in ({}, {"cancel_clashes": False}):
        with pytest.raises(schedule.TimeOffClashes) as raised:
            schedule.add_time_off(staff, provider, start, end, "Training", **confirm)
        assert [a.id for a in raised.value.appointments] == [ids[name] for name in COVERED]
        assert raised.value.status == 409
        assert raised.value.message == ("3 approved appointment(s) fall in that time. "
                                        "Confirm to cancel them with your reason, or choose another time.")
    assert (statuses(ids), offered(provider), time_off_rows(), outbox()) == (before, offered_before, [], [])


def test_confirmed_time_off_cancels_each_covered_appointment_with_its_reason_and_tells_the_patient(booked):  # type: ignore[no-untyped-def]
    ids, start, end, (staff, provider) = booked
    before, offered_before = statuses(ids), offered(provider)
    staff_name = db.session.get(User, staff).full_name
    off_id = schedule.add_time_off(staff, provider, start, end, " Training ", cancel_clashes=True)
    assert statuses(ids) == {**before, **{name: "cancelled" for name in COVERED}}
    for name in COVERED:
        appointment = db.session.get(Appointment, ids[name])
        event = appointment.events[-1]
        assert (event.actor_id, event.kind, event.from_status, event.to_status, event.reason) == (
            staff, "status", "approved", "cancelled", "Training")
    untouched = [ids[name] for name in ids if name not in COVERED]
    assert not db.session.scalars(sa.select(AppointmentEvent).where(
        AppointmentEvent.appointment_id.in_(untouched), AppointmentEvent.kind == "status")).all()
    mails = outbox()
    assert sorted(appointment for _, appointment, _ in mails) == sorted(ids[name] for name in COVERED)
    for user_id, appointment_id, text in mails:
        assert user_id == db.session.get(Appointment, appointment_id).patient_id
        assert f"Cancelled by {staff_name}." in text and "Reason: Training" in text
    assert time_off_rows() == [(provider, start, end, "Training")]
    assert db.session.get(TimeOff, off_id).start_at == start
    assert not [s for s in offered(provider) if start <= s < end] and offered(provider) != offered_before


def test_an_admin_cancelling_by_time_off_is_named_as_the_one_who_cancelled(booked):  # type: ignore[no-untyped-def]
    ids, start, end, (_, provider) = booked
    admin = make_user(Role.ADMIN, full_name="Ada Admin").id
    schedule.add_time_off(admin, provider, start, end, "Closed", cancel_clashes=True)
    db.session.rollback()
    events = db.session.scalars(sa.select(AppointmentEvent).where(AppointmentEvent.kind == "status")).all()
    assert {e.actor_id for e in events} == {admin}
    assert all("Cancelled by Ada Admin." in text for _, _, text in outbox())


def test_confirmed_time_off_over_appointments_needs_a_reason_the_patients_will_read(booked):  # type: ignore[no-untyped-def]
    ids, start, end, (staff, provider) = booked
    before, offered_before = statuses(ids), offered(provider)
    for reason in (None, "", "  "):
        refused_as(Invalid, "Give a reason: the patients whose appointments are cancelled will see it.", "reason",
                   lambda: schedule.add_time_off(staff, provider, start, end, reason, cancel_clashes=True))
    assert (statuses(ids), offered(provider), time_off_rows(), outbox()) == (before, offered_before, [], [])


def test_time_off_over_no_approved_appointment_needs_no_reason_nor_confirmation(booked):  # type: ignore[no-untyped-def]
    ids, start, _, (staff, provider) = booked
    before = statuses(ids)
    schedule.add_time_off(staff, provider, start - timedelta(hours=3), start - timedelta(minutes=15), None)
    assert statuses(ids) == before
    assert time_off_rows() == [(provider, start - timedelta(hours=3), start - timedelta(minutes=15), None)]


def test_appointments_that_only_touch_the_time_off_do_not_clash_with_it(week):  # type: ignore[no-untyped-def]
    """Time off is [start, end): an appointment ending as it starts, or starting as it ends, keeps its time."""
    staff, provider_id = week
    provider = db.session.get(Provider, provider_id)
    before = make_appointment(provider=provider, start_at=at(wall(5, 9, 30)), status=Status.APPROVED).id
    after = make_appointment(provider=provider, start_at=at(wall(5, 12)), status=Status.APPROVED).id
    schedule.add_time_off(staff, provider_id, at(wall(5, 10)), at(wall(5, 12)), None)
    assert statuses({"before": before, "after": after}) == {"before": "approved", "after": "approved"}
    assert time_off_rows() == [(provider_id, at(wall(5, 10)), at(wall(5, 12)), None)]


def test_removing_time_off_takes_only_the_providers_own(week):  # type: ignore[no-untyped-def]
    staff, provider = week
    other = everyday_provider()
    other_staff, other_id = other.user_id, other.id
    start = at(wall(5, 9))
    mine = schedule.add_time_off(staff, provider, start, start + timedelta(hours=1), "Mine")
    theirs = schedule.add_time_off(other_staff, other_id, start, start + timedelta(hours=1), "Theirs")
    admin = make_user(Role.ADMIN).id
    before, offers = time_off_rows(), (offered(provider), offered(other_id))
    for actor in (staff, admin):
        for off in (theirs, 999_999):
            refused_as(NotFound, "There is no such time off.", None,
                       lambda: schedule.remove_time_off(actor, provider, off))
    assert (time_off_rows(), (offered(provider), offered(other_id))) == (before, offers)
    schedule.remove_time_off(staff, provider, mine)
    assert time_off_rows() == [(other_id, start, start + timedelta(hours=1), "Theirs")]
    assert [s for s in offered(provider) if start <= s < start + timedelta(hours=1)] == [
        start, start + timedelta(minutes=30)], "the hour is offered again"


def test_a_time_off_that_fails_midway_leaves_every_appointment_and_the_schedule_as_they_were(booked, monkeypatch):  # type: ignore[no-untyped-def]
    """One transaction per change: when telling the second patient fails, the first cancellation, its
    audit event and mail and the time off are all undone with it, and the calendar offers what it did."""
    ids, start, end, (staff, provider) = booked
    before, offered_before = statuses(ids), offered(provider)
    told = []

    def decided(appointment, actor, reason):  # type: ignore[no-untyped-def]
        told.append(appointment.id)
        if len(told) == 2:
            raise RuntimeError("the mail could not be queued")
        real_decided(appointment, actor, reason)

    real_decided = schedule.notify.decided
    monkeypatch.setattr(schedule.notify, "decided", decided)
    with pytest.raises(RuntimeError):
        schedule.add_time_off(staff, provider, start, end, "Training", cancel_clashes=True)
    assert told == [ids["across its start"], ids["inside, later"]]
    assert (statuses(ids), offered(provider), time_off_rows(), outbox()) == (before, offered_before, [], [])
    assert not db.session.scalars(sa.select(AppointmentEvent).where(AppointmentEvent.kind == "status")).all()
