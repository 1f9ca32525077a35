"""`flask seed-load`: bulk data for benchmarks that still keeps every invariant of the app."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking.domain.status import FINAL, HOLDS_TIME
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, Provider, Service, User, WorkingHours, provider_services
from booking.services import bulk
from booking.services.passwords import verify_password

PASSWORD = "bench-password"


def load(runner, providers: int, appointments: int, patients: int, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=[
        "seed-load", "--providers", str(providers), "--appointments", str(appointments),
        "--patients", str(patients), *extra,
    ])


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def overlapping_pairs(column: str) -> int:
    """Pairs of appointments of one provider (or one patient) whose times overlap, whatever their status."""
    a, b = aliased(Appointment), aliased(Appointment)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(a).join(
            b,
            sa.and_(
                getattr(a, column) == getattr(b, column), a.id < b.id,
                a.start_at < b.end_at, b.start_at < a.end_at,
            ),
        )
    )


def check_invariants(expected_appointments: int, providers: int, patients: int) -> None:
    db.session.rollback()
    now = datetime.now(timezone.utc)
    # exact counts
    assert count(User, User.email.like("load-staff%@load.test"), User.role == "staff") == providers
    assert count(User, User.email.like("load-patient%@load.test"), User.role == "patient") == patients
    assert count(Provider) == providers
    assert count(Appointment) == expected_appointments
    assert count(AppointmentEvent) == expected_appointments
    events = db.session.execute(
        sa.select(AppointmentEvent.appointment_id, AppointmentEvent.kind, AppointmentEvent.actor_id,
                  AppointmentEvent.to_start_at)
    ).all()
    assert Counter(e.appointment_id for e in events) == Counter(
        db.session.scalars(sa.select(Appointment.id)).all()
    ), "one event per appointment"
    assert {e.kind for e in events} == {"created"}
    # spread evenly over the providers
    per_provider = db.session.execute(
        sa.select(Appointment.provider_id, sa.func.count()).group_by(Appointment.provider_id)
    ).all()
    sizes = [n for _, n in per_provider]
    assert len(sizes) == providers and max(sizes) - min(sizes) <= 1
    # nobody is in two places at once
    assert overlapping_pairs("provider_id") == 0
    assert overlapping_pairs("patient_id") == 0

    # accounts: verified, one password
    accounts = db.session.scalars(sa.select(User).where(User.email.like("%@load.test"))).all()
    assert all(u.email_verified and u.active for u in accounts)
    assert len({u.password_hash for u in accounts}) == 1
    assert verify_password(accounts[0].password_hash, PASSWORD)

    # the clinic: 2-3 services each, 15-60 minutes, one approves itself; Mon-Fri hours with lunch
    offered: dict[int, set[int]] = defaultdict(set)
    for provider_id, service_id in db.session.execute(sa.select(provider_services)):
        offered[provider_id].add(service_id)
    assert all(2 <= len(s) <= 3 for s in offered.values()) and len(offered) == providers
    services = {s.id: s for s in db.session.scalars(sa.select(Service))}
    assert all(15 <= s.duration_min <= 60 for s in services.values())
    assert any(s.auto_approve for s in services.values())
    hours: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    for wh in db.session.scalars(sa.select(WorkingHours)):
        hours[wh.provider_id][wh.weekday].append((wh.start_time, wh.end_time))
    for by_day in hours.values():
        assert sorted(by_day) == [0, 1, 2, 3, 4]
        assert all(sorted(blocks) == [(time(9), time(12)), (time(13), time(17))] for blocks in by_day.values())
    zones = dict(db.session.execute(sa.select(Provider.id, Provider.timezone)).all())

    past = future = 0
    for a in db.session.scalars(sa.select(Appointment)):
        assert a.service_id in offered[a.provider_id]
        assert a.end_at - a.start_at == timedelta(minutes=services[a.service_id].duration_min)
        # inside the provider's working hours, in its zone
        zone = ZoneInfo(zones[a.provider_id])
        start, end = a.start_at.astimezone(zone), a.end_at.astimezone(zone)
        assert start.date() == end.date()
        assert any(s <= start.time() and end.time() <= e for s, e in hours[a.provider_id][start.weekday()]), a
        # the past is settled, the future open and near
        if a.end_at <= now:
            past += 1
            assert a.status in FINAL, a
        else:
            future += 1
            assert a.start_at > now and a.status in HOLDS_TIME, a
            assert a.start_at < now + timedelta(days=60)
        if services[a.service_id].auto_approve:
            assert a.status not in ("pending", "rejected"), "a self-approving service never waits for staff"
        assert a.created_at <= now and a.created_at < a.start_at and a.created_at <= a.updated_at
    assert past and future
    assert future <= past


def test_seed_load_makes_consistent_data(runner):  # type: ignore[no-untyped-def]
    result = load(runner, 4, 403, 9)
    assert result.exit_code == 0, result.output
    assert "4 providers, 9 patients, 403 appointments" in result.output and " s." in result.output
    check_invariants(403, providers=4, patients=9)
    statuses = set(db.session.scalars(sa.select(Appointment.status).distinct()))
    assert {"completed", "cancelled", "approved"} <= statuses


def test_seed_load_in_batches_over_clock_changes(runner, app, monkeypatch):  # type: ignore[no-untyped-def]
    """Small batches, and months of history in a zone with daylight saving time."""
    monkeypatch.setattr(bulk, "BATCH_ROWS", 97)
    app.config["TIMEZONE"] = "America/New_York"
    result = load(runner, 2, 3001, 5)
    assert result.exit_code == 0, result.output
    check_invariants(3001, providers=2, patients=5)
    assert set(db.session.scalars(sa.select(Provider.timezone))) == {"America/New_York"}
    starts = db.session.scalars(sa.select(Appointment.start_at)).all()
    offsets = {s.astimezone(ZoneInfo("America/New_York")).utcoffset() for s in starts}
    assert len(offsets) == 2, "the history spans a clock change"
    upcoming = count(Appointment, Appointment.status.in_(["pending", "approved"]))
    assert 0.02 * 3001 <= upcoming <= 0.04 * 3001, "a few per cent are upcoming"


def test_seed_load_refuses_a_second_run(runner):  # type: ignore[no-untyped-def]
    assert load(runner, 2, 50, 2).exit_code == 0
    again = load(runner, 3, 60, 3)
    assert again.exit_code != 0 and "already" in again.output and "load-staff1@load.test" in again.output
    check_invariants(50, providers=2, patients=2)


def test_seed_load_refuses_bad_numbers_and_leaves_nothing(runner):  # type: ignore[no-untyped-def]
    fewer_patients = load(runner, 5, 50, 2)
    assert fewer_patients.exit_code != 0 and "at least as many patients" in fewer_patients.output
    weak = load(runner, 1, 1, 1, "--password", "short")
    assert weak.exit_code != 0 and "at least 10" in weak.output
    db.session.rollback()
    assert count(User) == 0 and count(Appointment) == 0


def test_seed_load_with_no_appointments(runner):  # type: ignore[no-untyped-def]
    result = load(runner, 3, 0, 3)
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert count(Appointment) == 0 and count(Provider) == 3 and count(WorkingHours) == 30


class MiddayJump(tzinfo):
    """A made-up zone whose clocks jump an hour forward at 10:30 on 2030-03-06 (a Wednesday)."""

    CHANGE_UTC = datetime(2030, 3, 6, 10, 30)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        assert dt is not None
        return timedelta(hours=1) if dt.replace(tzinfo=None) >= self.CHANGE_UTC else timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def fromutc(self, dt: datetime) -> datetime:
        naive = dt.replace(tzinfo=None)
        return (naive + (timedelta(hours=1) if naive >= self.CHANGE_UTC else timedelta(0))).replace(tzinfo=self)


def test_a_block_cut_by_a_clock_change_stays_empty() -> None:
    calendar = bulk._Calendar(MiddayJump())  # type: ignore[arg-type]
    morning, afternoon = calendar.blocks(date(2030, 3, 6))
    assert morning is None, "09:00-12:00 is not three hours long that day: no appointments in it"
    assert afternoon == datetime(2030, 3, 6, 12, 0, tzinfo=timezone.utc)  # 13:00 local, an hour ahead of UTC
    assert calendar.blocks(date(2030, 3, 5)) == (
        datetime(2030, 3, 5, 9, tzinfo=timezone.utc), datetime(2030, 3, 5, 13, tzinfo=timezone.utc)
    )
    assert calendar.blocks(date(2030, 3, 9)) == ()  # a Saturday


@pytest.mark.parametrize("wanted", [0, 1, 7, 10_000])
def test_upcoming_appointments_are_spread_and_capped(wanted: int) -> None:
    import random

    calendar = bulk._Calendar(ZoneInfo("Europe/London"))
    offered = [bulk._Offered(1, 30, False), bulk._Offered(2, 15, True)]
    plans = bulk._day_plans(random.Random(1), offered)
    days = [date(2030, 1, 1) + timedelta(days=n) for n in range(59)]
    counts = dict(bulk._future_counts(calendar, plans, days, wanted, random.Random(2)))
    weekdays = [d for d in days if d.weekday() < 5]
    assert sum(counts.values()) == min(wanted, bulk.FUTURE_PER_DAY * len(weekdays))
    assert all(counts[d] == 0 for d in days if d.weekday() >= 5)
    assert max(counts.values()) - min(counts[d] for d in weekdays) <= 1
