"""The numbers on the admin dashboard, computed in the clinic's zone."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider, TimeOff, User
from booking.services.availability import day_bounds

BOOKED = [Status.PENDING.value, Status.APPROVED.value, Status.COMPLETED.value, Status.NO_SHOW.value]


@dataclass
class Utilisation:
    provider: str
    booked_min: int
    working_min: int

    @property
    def share(self) -> float:
        return self.booked_min / self.working_min if self.working_min else 0.0


@dataclass
class Dashboard:
    today: Counter = field(default_factory=Counter)
    this_week: Counter = field(default_factory=Counter)
    waiting_long: int = 0
    utilisation: list[Utilisation] = field(default_factory=list)
    weeks: list[tuple[date, Counter]] = field(default_factory=list)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def dashboard(zone: str, now: datetime) -> Dashboard:
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    monday = week_start(today)
    result = Dashboard()
    result.today = _counts(*_span(today, today, zone))
    result.this_week = _counts(*_span(monday, monday + timedelta(days=6), zone))
    result.waiting_long = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(
        Appointment.status == Status.PENDING.value, Appointment.created_at < now - timedelta(hours=24))) or 0
    result.utilisation = _utilisation(monday, zone)
    first = monday - timedelta(weeks=11)
    start, end = _span(first, monday + timedelta(days=6), zone)
    buckets: dict[date, Counter] = {first + timedelta(weeks=n): Counter() for n in range(12)}
    for start_at, status in db.session.execute(
        sa.select(Appointment.start_at, Appointment.status).where(Appointment.start_at >= start, Appointment.start_at < end)
    ):
        buckets[week_start(start_at.astimezone(tz).date())][status] += 1
    result.weeks = sorted(buckets.items())
    return result


def _span(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    return day_bounds(first, zone)[0], day_bounds(last, zone)[1]


def _counts(start: datetime, end: datetime) -> Counter:
    rows = db.session.execute(sa.select(Appointment.status, sa.func.count(Appointment.id)).where(
        Appointment.start_at >= start, Appointment.start_at < end).group_by(Appointment.status))
    return Counter({status: count for status, count in rows})


def _utilisation(monday: date, zone: str) -> list[Utilisation]:
    """Booked minutes over working minutes this week; time off comes off the working minutes."""
    result = []
    providers = db.session.scalars(sa.select(Provider).join(User, User.id == Provider.user_id)
                                   .where(Provider.active.is_(True)).order_by(User.full_name)).all()
    for provider in providers:
        week_start_at, week_end_at = _span(monday, monday + timedelta(days=6), provider.timezone)
        working = []
        for offset in range(7):
            day = monday + timedelta(days=offset)
            for block in provider.working_hours:
                if block.weekday == day.weekday():
                    tz = ZoneInfo(provider.timezone)
                    end_day = day + timedelta(days=1) if block.ends_next_day else day  # a night, or to 24:00
                    working.append((datetime.combine(day, block.start_time, tz).astimezone(timezone.utc),
                                    datetime.combine(end_day, block.end_time, tz).astimezone(timezone.utc)))
        off = db.session.execute(sa.select(TimeOff.start_at, TimeOff.end_at).where(
            TimeOff.provider_id == provider.id, TimeOff.start_at < week_end_at, TimeOff.end_at > week_start_at)).all()
        working_min = sum(_minutes(s, e) - sum(_overlap(s, e, a, b) for a, b in off) for s, e in working)
        booked = db.session.execute(sa.select(Appointment.start_at, Appointment.end_at).where(
            Appointment.provider_id == provider.id, Appointment.status.in_(BOOKED),
            Appointment.start_at >= week_start_at, Appointment.start_at < week_end_at)).all()
        result.append(Utilisation(provider.name, sum(_minutes(s, e) for s, e in booked), max(0, working_min)))
    return result


def _minutes(start: datetime, end: datetime) -> int:
    """Real elapsed minutes (in UTC: one zone's datetimes subtract by wall clock)."""
    return int((end.astimezone(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() // 60)


def _overlap(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> int:
    return max(0, _minutes(max(start, other_start), min(end, other_end)))
