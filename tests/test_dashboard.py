"""The admin dashboard's numbers, checked against data made for them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import TimeOff
from booking.services.reports import dashboard, week_start
from tests.booking_helpers import ZONE, everyday_provider, local_day, wall
from tests.factories import make_appointment, make_user


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def test_counts_waiting_utilisation_and_weeks(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()  # 8 h a day, every day: 3,360 working minutes a week
    today_start = at(wall(0, 9))
    make_appointment(provider=provider, start_at=today_start, status=Status.APPROVED)  # 30 min
    old = make_appointment(provider=provider, start_at=today_start + timedelta(hours=1), status=Status.PENDING)
    old.created_at = datetime.now(timezone.utc) - timedelta(hours=30)
    make_appointment(provider=provider, start_at=today_start + timedelta(hours=2), status=Status.CANCELLED)
    make_appointment(provider=provider, start_at=today_start - timedelta(weeks=3), status=Status.COMPLETED)
    monday = week_start(local_day(0))
    off_start = datetime.combine(monday, datetime.min.time(), ZoneInfo(ZONE)).replace(hour=9)
    db.session.add(TimeOff(provider_id=provider.id, start_at=off_start, end_at=off_start + timedelta(hours=2)))
    db.session.commit()

    data = dashboard(ZONE, datetime.now(timezone.utc))

    assert data.today["approved"] == 1 and data.today["pending"] == 1 and data.today["cancelled"] == 1
    assert data.this_week["approved"] >= 1
    assert data.waiting_long == 1
    [row] = data.utilisation
    assert row.booked_min == 60  # the approved and the pending half hours; cancelled does not count
    assert row.working_min == 7 * 8 * 60 - 120  # minus the two hours off
    weeks = dict(data.weeks)
    assert len(weeks) == 12 and weeks[monday]["approved"] == 1
    assert weeks[monday - timedelta(weeks=3)]["completed"] == 1


def test_the_page_has_an_accessible_chart_and_the_same_numbers_as_a_table(app, client, auth):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    make_appointment(provider=provider, start_at=at(wall(0, 10)), status=Status.APPROVED)
    auth.login(make_user(Role.ADMIN).email)
    html = client.get("/admin/").get_data(as_text=True)
    assert 'role="img"' in html and "<title id=\"chart-title\">" in html
    titles = re.findall(r"<title>Week of ([^<]+)</title>", html)
    assert any(t.endswith("1 approved") for t in titles)
    assert "Utilisation this week" in html and "Waiting over 24 h" in html
    assert "<script" not in html.split("<main")[1]


def test_utilisation_counts_night_blocks_and_blocks_to_midnight(app):  # type: ignore[no-untyped-def]
    from datetime import time

    everyday_provider(zone="Asia/Tokyo", start=time(22), end=time(6))  # 8 h a night, into the next day
    everyday_provider(zone="Asia/Tokyo", start=time(0), end=time(0))  # the whole day
    data = dashboard(ZONE, datetime.now(timezone.utc))
    assert sorted(row.working_min for row in data.utilisation) == [7 * 8 * 60, 7 * 24 * 60]
