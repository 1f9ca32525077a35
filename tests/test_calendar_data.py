"""The calendar's data layer (booking.services.availability), called directly with real rows: the
snapshots of a provider and its services that the booking pages compute from, the busy time read
around a range, a local day's bounds, and the first free times a provider's card shows."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking.domain.availability import Block, Interval
from booking.domain.status import Status
from booking.extensions import db
from booking.models import TimeOff
from booking.services import availability
from booking.services.availability import (
    ProviderInfo, ServiceInfo, busy_time, day_bounds, first_free_times, load_provider_info, provider_info,
    rules_for, service_info, slots_between,
)
from tests.booking_helpers import ZONE, everyday_provider
from tests.factories import make_appointment, make_service

UTC = timezone.utc
LOS_ANGELES = "America/Los_Angeles"
NOW = datetime(2027, 6, 7, 5, 0, tzinfo=UTC)  # Monday 06:00 in London, before the working day; no clock
TODAY = NOW.astimezone(ZoneInfo(ZONE)).date()  # change in London within the default 60-day horizon


def at(day: date, hh: int, mm: int = 0, zone: str = ZONE) -> datetime:
    return datetime.combine(day, time(hh, mm), ZoneInfo(zone))


def away(provider, start: datetime, end: datetime) -> None:  # type: ignore[no-untyped-def]
    db.session.add(TimeOff(provider_id=provider.id, start_at=start, end_at=end))
    db.session.commit()


def open_now(**settings):  # type: ignore[no-untyped-def]
    """A London provider working 09:00-17:00 every day, bookable without notice."""
    return everyday_provider(min_notice_min=0, **settings)


def first_times(provider, count: int = 3, now: datetime = NOW, ignore: int | None = None) -> list[datetime]:  # type: ignore[no-untyped-def]
    info = provider_info(provider)
    return first_free_times(info, info.service(None), now, count, ignore)


def comparable(info: ProviderInfo) -> ProviderInfo:
    """The record with its services and working hours in a fixed order (queries return them in any)."""
    return replace(info, services=tuple(sorted(info.services, key=lambda s: s.id)),
                   blocks=tuple(sorted(info.blocks, key=lambda b: (b.weekday, b.start))))


# --- the snapshots ---------------------------------------------------------------------------------


def test_a_providers_snapshot_carries_its_name_specialty_settings_and_services(app):  # type: ignore[no-untyped-def]
    """The booking transaction builds the record from the loaded model, the pages from three queries:
    both must describe the same provider, or a page would offer what the booking then refuses."""
    provider = everyday_provider(slot_step_min=15, buffer_before_min=5, buffer_after_min=10, min_notice_min=45,
                                 horizon_days=20)
    retired = make_service(name="Retired service")
    retired.active = False
    provider.services.append(retired)
    db.session.commit()

    info = provider_info(provider)
    assert info.id == provider.id
    assert info.name == provider.user.full_name
    assert info.specialty_name == provider.specialty.name
    assert info.timezone == ZONE
    assert info.bookable is True
    assert (info.buffer_before_min, info.buffer_after_min, info.slot_step_min) == (5, 10, 15)
    assert (info.min_notice_min, info.horizon_days) == (45, 20)
    assert sorted(s.id for s in info.services) == sorted(s.id for s in provider.services)
    assert set(info.blocks) == {Block(d, time(9), time(17)) for d in range(7)}
    assert comparable(info) == comparable(load_provider_info(provider.id))


def test_a_provider_without_a_specialty_has_no_specialty_name(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.specialty = None
    db.session.commit()
    assert provider_info(provider).specialty_name is None
    assert load_provider_info(provider.id).specialty_name is None


@pytest.mark.parametrize(("provider_active", "account_active", "bookable"), [
    (True, True, True), (True, False, False), (False, True, False),
])
def test_a_provider_is_bookable_only_while_it_and_its_staff_account_are_both_active(  # type: ignore[no-untyped-def]
        app, provider_active, account_active, bookable):
    """A deactivated staff account takes its provider off the booking pages even when the provider
    row itself is still marked active."""
    provider = everyday_provider()
    provider.active = provider_active
    provider.user.active = account_active
    db.session.commit()
    assert provider_info(provider).bookable is bookable
    assert load_provider_info(provider.id).bookable is bookable


def test_a_services_snapshot_carries_its_name_duration_price_and_approval_rule(app):  # type: ignore[no-untyped-def]
    service = make_service(name="Root canal treatment", duration_min=45, price_cents=12345, auto_approve=True)
    assert service_info(service) == ServiceInfo(service.id, "Root canal treatment", 45, 12345, True, True)
    plain = make_service(name="Check-up", price_cents=0, auto_approve=False)
    assert service_info(plain) == ServiceInfo(plain.id, "Check-up", 30, 0, False, True)


def provider_offering(*services: ServiceInfo) -> ProviderInfo:
    return ProviderInfo(1, "Dr Who", None, ZONE, True, 0, 0, None, 0, 60, services=services, blocks=())


def test_without_a_service_id_the_first_active_offered_service_by_name_is_chosen() -> None:
    """A calendar opened without a service shows the provider's first service in the list, which is
    sorted by name; a retired service is never chosen, however its name sorts."""
    zeta = ServiceInfo(1, "Zeta therapy", 30, 0, False, True)
    alpha = ServiceInfo(2, "Alpha check", 30, 0, False, True)
    retired = ServiceInfo(3, "Aardvark", 30, 0, False, False)
    provider = provider_offering(zeta, retired, alpha)
    assert provider.service(None) == alpha
    assert provider.service(1) == zeta
    assert provider.service(3) is None
    assert provider.service(4) is None


def test_a_provider_offering_no_active_service_has_none_to_choose() -> None:
    assert provider_offering().service(None) is None
    assert provider_offering(ServiceInfo(3, "Retired", 30, 0, False, False)).service(None) is None


def test_a_providers_step_and_buffers_reach_the_availability_rules(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider(slot_step_min=15, buffer_before_min=5, buffer_after_min=10, min_notice_min=45,
                                 horizon_days=20)
    info = provider_info(provider)
    rules = rules_for(info, info.service(None))
    assert rules.step == timedelta(minutes=15)
    assert (rules.buffer_before, rules.buffer_after) == (timedelta(minutes=5), timedelta(minutes=10))
    assert (rules.min_notice, rules.horizon_days, rules.duration) == (timedelta(minutes=45), 20, timedelta(minutes=30))
    assert rules_for(replace(info, slot_step_min=None), info.service(None)).step is None  # the duration's grid


def test_a_providers_own_step_sets_the_slot_grid(app):  # type: ignore[no-untyped-def]
    provider = open_now(slot_step_min=15)
    info = provider_info(provider)
    day = slots_between(info, info.service(None), TODAY, TODAY, NOW)[TODAY]
    assert day[:3] == [at(TODAY, 9), at(TODAY, 9, 15), at(TODAY, 9, 30)]
    assert day[-1] == at(TODAY, 16, 30)


# --- local days and busy time ----------------------------------------------------------------------


def test_a_local_day_runs_from_its_midnight_to_the_next() -> None:
    start, end = day_bounds(date(2027, 6, 7), LOS_ANGELES)
    assert (start, end) == (datetime(2027, 6, 7, 7, tzinfo=UTC), datetime(2027, 6, 8, 7, tzinfo=UTC))
    start, end = day_bounds(date(2027, 3, 28), "Europe/London")  # clocks go forward: a 23-hour day
    assert (start, end) == (datetime(2027, 3, 28, 0, tzinfo=UTC), datetime(2027, 3, 28, 23, tzinfo=UTC))


def test_an_appointment_whose_buffers_reach_into_the_range_counts_as_busy(app):  # type: ignore[no-untyped-def]
    """Buffers keep 15 minutes before and 10 after each appointment, so an appointment that ends up to
    25 minutes before the range (or starts up to 25 minutes after it) still shapes the slots in it."""
    provider = open_now(buffer_before_min=15, buffer_after_min=10)
    service = provider.services[0]
    day = TODAY + timedelta(days=2)

    def held(start: datetime) -> Interval:
        make_appointment(provider=provider, service=service, start_at=start, status=Status.APPROVED)
        return Interval(start, start + timedelta(minutes=30))

    ends_just_before = held(at(day, 11, 10))  # ends 11:40, 20 minutes before the range
    starts_just_after = held(at(day, 13, 20))  # 20 minutes after it
    away(provider, at(day, 12, 15), at(day, 12, 45))
    appointments, time_off = busy_time(provider, at(day, 12), at(day, 13))
    assert sorted(appointments, key=lambda i: i.start) == [ends_just_before, starts_just_after]
    assert time_off == [Interval(at(day, 12, 15), at(day, 12, 45))]

    next_day = day + timedelta(days=1)
    held(at(next_day, 11, 5))  # ends 11:35: its buffer ends where a 12:00 slot's begins
    held(at(next_day, 13, 25))
    assert busy_time(provider, at(next_day, 12), at(next_day, 13)) == ([], [])


def test_the_slots_of_an_appointment_being_moved_are_free_to_it(app):  # type: ignore[no-untyped-def]
    """Rescheduling offers the appointment's own time (and the times its buffers would block) again."""
    provider = open_now()
    info = provider_info(provider)
    moving = make_appointment(provider=provider, start_at=at(TODAY, 10), status=Status.APPROVED)

    assert at(TODAY, 10) not in slots_between(info, info.service(None), TODAY, TODAY, NOW)[TODAY]
    assert at(TODAY, 10) in slots_between(info, info.service(None), TODAY, TODAY, NOW, moving.id)[TODAY]


# --- the first free times --------------------------------------------------------------------------


def test_the_first_free_times_pass_over_an_appointment_unless_it_is_the_one_being_moved(app):  # type: ignore[no-untyped-def]
    provider = open_now()
    moving = make_appointment(provider=provider, start_at=at(TODAY, 9), status=Status.PENDING)
    assert first_times(provider, 1) == [at(TODAY, 9, 30)]
    assert first_times(provider, 1, ignore=moving.id) == [at(TODAY, 9)]


def test_the_first_free_times_start_on_the_providers_own_today(app):  # type: ignore[no-untyped-def]
    """At 00:30 UTC it is already Tuesday in London but still Monday evening in Los Angeles, where a
    provider open until 23:00 has Monday's last slots to offer."""
    provider = everyday_provider(zone=LOS_ANGELES, start=time(9), end=time(23), min_notice_min=0)
    evening = datetime(2027, 6, 8, 0, 30, tzinfo=UTC)  # Monday 17:30 in Los Angeles
    monday = date(2027, 6, 7)
    assert first_times(provider, 2, now=evening) == [at(monday, 17, 30, zone=LOS_ANGELES),
                                                     at(monday, 18, zone=LOS_ANGELES)]


def test_the_first_free_times_are_the_earliest_few_across_days_each_once(app):  # type: ignore[no-untyped-def]
    """Away until 16:30 in 13 days: that day's last slot comes first, then the next day's first two."""
    provider = open_now()
    away(provider, NOW, at(TODAY + timedelta(days=13), 16, 30))
    day_13, day_14 = TODAY + timedelta(days=13), TODAY + timedelta(days=14)
    assert first_times(provider) == [at(day_13, 16, 30), at(day_14, 9), at(day_14, 9, 30)]


def test_the_last_day_of_the_horizon_is_searched_and_fewer_times_are_shown_when_it_holds_fewer(app):  # type: ignore[no-untyped-def]
    """Booking opens 14 days ahead; away until 16:00 on that last day leaves two slots to show."""
    provider = open_now(horizon_days=14)
    last = TODAY + timedelta(days=14)
    away(provider, NOW, at(last, 16))
    assert first_times(provider, 3) == [at(last, 16), at(last, 16, 30)]
    assert first_times(provider, 1) == [at(last, 16)]


def test_the_first_free_times_read_busy_time_two_weeks_at_a_time_and_stop_once_found(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The directory shows a card per provider: a provider with free time soon costs one read of two
    weeks, a busier one a read per further two weeks, never the whole horizon."""
    reads: list[tuple[date, date]] = []
    real = availability.slots_between

    def counted(provider, service, first_day, last_day, *args):  # type: ignore[no-untyped-def]
        reads.append((first_day, last_day))
        return real(provider, service, first_day, last_day, *args)

    monkeypatch.setattr(availability, "slots_between", counted)
    free = open_now()
    assert len(first_times(free)) == 3
    assert reads == [(TODAY, TODAY + timedelta(days=13))]

    reads.clear()
    busy = open_now()
    away(busy, NOW, at(TODAY + timedelta(days=13), 16, 30))
    assert len(first_times(busy)) == 3
    assert reads == [(TODAY, TODAY + timedelta(days=13)), (TODAY + timedelta(days=14), TODAY + timedelta(days=27))]
