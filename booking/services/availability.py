"""Feeding the availability engine from the database: a provider's rules and busy time.

The calendar pages are the busiest in the app, so what they read is loaded with a few plain queries
into small immutable records (`ProviderInfo`, `ServiceInfo`) instead of ORM objects and lazy loads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.availability import Block, Interval, Rules, free_slots
from booking.domain.status import HOLDS_TIME
from booking.extensions import db
from booking.models import Appointment, Provider, Service, Specialty, TimeOff, User, WorkingHours, provider_services

HOLDING = [s.value for s in HOLDS_TIME]
LONGEST_APPOINTMENT = timedelta(days=1)  # services are at most a day long (a database check)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: int
    name: str
    duration_min: int
    price_cents: int
    auto_approve: bool
    active: bool


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    id: int
    name: str
    specialty_name: str | None
    timezone: str
    bookable: bool  # the provider and its staff account are active
    buffer_before_min: int
    buffer_after_min: int
    slot_step_min: int | None
    min_notice_min: int
    horizon_days: int
    services: tuple[ServiceInfo, ...]
    blocks: tuple[Block, ...]

    def service(self, service_id: int | None) -> ServiceInfo | None:
        """The active offered service with this id, or (with no id) the first by name."""
        offered = sorted((s for s in self.services if s.active), key=lambda s: s.name)
        if service_id is None:
            return offered[0] if offered else None
        return next((s for s in offered if s.id == service_id), None)


# The calendar's queries are built once, as plain Core statements with parameters: building a
# statement costs more than running it on these small indexed lookups, and the ORM layer adds more.
_p, _u, _sp = Provider.__table__.c, User.__table__.c, Specialty.__table__.c
_s, _ps, _wh = Service.__table__.c, provider_services.c, WorkingHours.__table__.c
_a, _t = Appointment.__table__.c, TimeOff.__table__.c

PROVIDER_ROW = (
    sa.select(_p.id, _u.full_name, _sp.name, _p.timezone, sa.and_(_p.active, _u.active), _p.buffer_before_min,
              _p.buffer_after_min, _p.slot_step_min, _p.min_notice_min, _p.horizon_days)
    .select_from(Provider.__table__.join(User.__table__, _u.id == _p.user_id)
                 .outerjoin(Specialty.__table__, _sp.id == _p.specialty_id))
    .where(_p.id == sa.bindparam("provider_id"))
)
PROVIDER_SERVICES = (
    sa.select(_s.id, _s.name, _s.duration_min, _s.price_cents, _s.auto_approve, _s.active)
    .select_from(Service.__table__.join(provider_services, _ps.service_id == _s.id))
    .where(_ps.provider_id == sa.bindparam("provider_id"))
)
PROVIDER_HOURS = sa.select(_wh.weekday, _wh.start_time, _wh.end_time).where(_wh.provider_id == sa.bindparam("provider_id"))
BUSY = sa.union_all(
    sa.select(sa.literal(0).label("kind"), _a.start_at, _a.end_at).where(
        _a.provider_id == sa.bindparam("provider_id"),
        _a.status.in_(HOLDING),
        _a.start_at < sa.bindparam("hi"),
        _a.start_at > sa.bindparam("lo_start"),
        _a.end_at > sa.bindparam("lo"),
        _a.id != sa.bindparam("ignore"),
    ),
    sa.select(sa.literal(1), _t.start_at, _t.end_at).where(
        _t.provider_id == sa.bindparam("provider_id"), _t.start_at < sa.bindparam("hi"), _t.end_at > sa.bindparam("lo")
    ),
)


def load_provider_info(provider_id: int) -> ProviderInfo | None:
    """Everything the booking pages show and compute about a provider, in three small queries."""
    connection = db.session.connection()
    key = {"provider_id": provider_id}
    row = connection.execute(PROVIDER_ROW, key).first()
    if row is None:
        return None
    services = tuple(ServiceInfo(*r) for r in connection.execute(PROVIDER_SERVICES, key))
    blocks = tuple(Block(*r) for r in connection.execute(PROVIDER_HOURS, key))
    return ProviderInfo(*row[:4], bool(row[4]), *row[5:], services=services, blocks=blocks)


def provider_info(provider: Provider) -> ProviderInfo:
    """The same record from a loaded model (inside the booking transaction)."""
    return ProviderInfo(
        provider.id, provider.name, provider.specialty.name if provider.specialty else None, provider.timezone,
        provider.active and provider.user.active, provider.buffer_before_min, provider.buffer_after_min,
        provider.slot_step_min, provider.min_notice_min, provider.horizon_days,
        services=tuple(service_info(s) for s in provider.services),
        blocks=tuple(Block(wh.weekday, wh.start_time, wh.end_time) for wh in provider.working_hours),
    )


def service_info(service: Service) -> ServiceInfo:
    return ServiceInfo(service.id, service.name, service.duration_min, service.price_cents, service.auto_approve,
                       service.active)


def rules_for(provider: ProviderInfo, service: ServiceInfo | Service) -> Rules:
    return Rules(
        zone=provider.timezone,
        blocks=provider.blocks,
        duration=timedelta(minutes=service.duration_min),
        step=timedelta(minutes=provider.slot_step_min) if provider.slot_step_min else None,
        buffer_before=timedelta(minutes=provider.buffer_before_min),
        buffer_after=timedelta(minutes=provider.buffer_after_min),
        min_notice=timedelta(minutes=provider.min_notice_min),
        horizon_days=provider.horizon_days,
    )


def busy_time(
    provider: ProviderInfo | Provider, start: datetime, end: datetime, ignore_appointment_id: int | None = None
) -> tuple[list[Interval], list[Interval]]:
    """Time-holding appointments and time off of `provider` that touch [start, end), in one query.

    The appointments part stays on the (provider_id, start_at) index: an appointment that ends after
    `start` began at most a day before it.
    """
    gap = timedelta(minutes=provider.buffer_before_min + provider.buffer_after_min)
    lo, hi = start - gap, end + gap
    held: list[Interval] = []
    away: list[Interval] = []
    rows = db.session.connection().execute(BUSY, {
        "provider_id": provider.id, "hi": hi, "lo": lo, "lo_start": lo - LONGEST_APPOINTMENT,
        "ignore": ignore_appointment_id if ignore_appointment_id is not None else 0,
    })
    for kind, s, e in rows:
        (away if kind else held).append(Interval(s, e))
    return held, away


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (23 or 25 hours apart on DST days)."""
    tz = ZoneInfo(zone)
    return datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)


def slots_between(
    provider: ProviderInfo,
    service: ServiceInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    ignore_appointment_id: int | None = None,
) -> dict[date, list[datetime]]:
    """Free slots per local day from `first_day` to `last_day` inclusive.

    A slot belongs to the day it starts on, but a night's slot (or a day-long one) may end the next
    day: busy time is read up to the longest appointment past the range.
    """
    start, _ = day_bounds(first_day, provider.timezone)
    _, end = day_bounds(last_day, provider.timezone)
    appointments, time_off = busy_time(provider, start, end + LONGEST_APPOINTMENT, ignore_appointment_id)
    return free_slots(rules_for(provider, service), first_day, last_day, now, appointments, time_off)


def first_free_times(provider: ProviderInfo, service: ServiceInfo, now: datetime, count: int = 3,
                     ignore_appointment_id: int | None = None) -> list[datetime]:
    """The first `count` free slots within the horizon, in the provider's zone, earliest first; fewer
    when the horizon holds fewer. Searched two weeks at a time, so a busy provider costs one query."""
    rules = rules_for(provider, service)
    day = now.astimezone(ZoneInfo(provider.timezone)).date()
    last = rules.last_bookable_day(now)
    found: list[datetime] = []
    while day <= last and len(found) < count:
        chunk_end = min(day + timedelta(days=13), last)
        for _, slots in sorted(slots_between(provider, service, day, chunk_end, now, ignore_appointment_id).items()):
            found.extend(slots[:count - len(found)])
            if len(found) == count:
                break
        day = chunk_end + timedelta(days=1)
    return found
