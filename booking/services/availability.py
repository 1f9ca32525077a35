"""Feeding the availability engine from the database: a provider's rules and busy time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.availability import Block, Interval, Rules, free_slots
from booking.domain.status import HOLDS_TIME
from booking.extensions import db
from booking.models import Appointment, Provider, Service, TimeOff

HOLDING = [s.value for s in HOLDS_TIME]
LONGEST_APPOINTMENT = timedelta(days=1)  # services are at most a day long (a database check)


def rules_for(provider: Provider, service: Service) -> Rules:
    return Rules(
        zone=provider.timezone,
        blocks=[Block(wh.weekday, wh.start_time, wh.end_time) for wh in provider.working_hours],
        duration=timedelta(minutes=service.duration_min),
        step=timedelta(minutes=provider.slot_step_min) if provider.slot_step_min else None,
        buffer_before=timedelta(minutes=provider.buffer_before_min),
        buffer_after=timedelta(minutes=provider.buffer_after_min),
        min_notice=timedelta(minutes=provider.min_notice_min),
        horizon_days=provider.horizon_days,
    )


def busy_time(
    provider: Provider, start: datetime, end: datetime, ignore_appointment_id: int | None = None
) -> tuple[list[Interval], list[Interval]]:
    """Time-holding appointments and time off of `provider` that touch [start, end), widened by buffers.

    The appointments query stays on the (provider_id, start_at) index: an appointment that ends after
    `start` began at most a day before it.
    """
    gap = timedelta(minutes=provider.buffer_before_min + provider.buffer_after_min)
    lo, hi = start - gap, end + gap
    query = sa.select(Appointment.start_at, Appointment.end_at).where(
        Appointment.provider_id == provider.id,
        Appointment.status.in_(HOLDING),
        Appointment.start_at < hi,
        Appointment.start_at > lo - LONGEST_APPOINTMENT,
        Appointment.end_at > lo,
    )
    if ignore_appointment_id is not None:
        query = query.where(Appointment.id != ignore_appointment_id)
    appointments = [Interval(s, e) for s, e in db.session.execute(query)]
    time_off = [
        Interval(s, e)
        for s, e in db.session.execute(
            sa.select(TimeOff.start_at, TimeOff.end_at).where(
                TimeOff.provider_id == provider.id, TimeOff.start_at < hi, TimeOff.end_at > lo
            )
        )
    ]
    return appointments, time_off


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (23 or 25 hours apart on DST days)."""
    tz = ZoneInfo(zone)
    return datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)


def slots_between(
    provider: Provider,
    service: Service,
    first_day: date,
    last_day: date,
    now: datetime,
    ignore_appointment_id: int | None = None,
) -> dict[date, list[datetime]]:
    """Free slots per local day from `first_day` to `last_day` inclusive."""
    start, _ = day_bounds(first_day, provider.timezone)
    _, end = day_bounds(last_day, provider.timezone)
    appointments, time_off = busy_time(provider, start, end, ignore_appointment_id)
    return free_slots(rules_for(provider, service), first_day, last_day, now, appointments, time_off)


def next_free_day(provider: Provider, service: Service, now: datetime) -> tuple[date, int] | None:
    """The first local day with a free slot within the horizon, and how many slots it has."""
    rules = rules_for(provider, service)
    day = now.astimezone(ZoneInfo(provider.timezone)).date()
    last = rules.last_bookable_day(now)
    while day <= last:
        chunk_end = min(day + timedelta(days=13), last)
        for found, slots in slots_between(provider, service, day, chunk_end, now).items():
            if slots:
                return found, len(slots)
        day = chunk_end + timedelta(days=1)
    return None
