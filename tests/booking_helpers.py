"""Shared setup for the booking tests: a provider who works every day, a logged-in patient, and
wall-clock slot names. Test modules import the fixtures they use from here."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider, WorkingHours
from tests.factories import make_provider, make_service, make_user

ZONE = "Europe/London"


def everyday_provider(zone: str = ZONE, start: time = time(9), end: time = time(17), **settings) -> Provider:  # type: ignore[no-untyped-def]
    """A provider with one 30-minute service and the same hours seven days a week."""
    provider = make_provider(services=[make_service(duration_min=30)], timezone_name=zone, weekdays=range(0))
    provider.working_hours = [WorkingHours(weekday=d, start_time=start, end_time=end) for d in range(7)]
    for name, value in settings.items():
        setattr(provider, name, value)
    db.session.commit()
    return provider


def local_day(days_ahead: int, zone: str = ZONE) -> date:
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=days_ahead)


def wall(days_ahead: int, hh: int, mm: int = 0, zone: str = ZONE) -> str:
    """The `start` a form sends: provider-local YYYY-MM-DDTHH:MM."""
    return f"{local_day(days_ahead, zone).isoformat()}T{hh:02d}:{mm:02d}"


def booking_form(provider: Provider, start: str, reason: str | None = None, **extra) -> dict:  # type: ignore[no-untyped-def]
    data = {"service_id": str(provider.services[0].id), "start": start, **extra}
    if reason is not None:
        data["reason"] = reason
    return data


@pytest.fixture
def patient(app, auth):  # type: ignore[no-untyped-def]
    user = make_user(Role.PATIENT)
    auth.login(user.email)
    return user


@pytest.fixture
def provider(app):  # type: ignore[no-untyped-def]
    return everyday_provider()


@pytest.fixture
def desk(app, auth):  # type: ignore[no-untyped-def]
    """A staff member logged in, working as a provider who works every day: (staff user, provider)."""
    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    auth.login(staff.email)
    return staff, provider
