"""The month calendar through the test client: the chosen day and today are marked, a booking or a picked
day redraws the calendar out of band (so the day's count is the fresh one at once), and no month before
the current one is offered."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment
from tests.booking_helpers import booking_form, local_day, wall
from tests.conftest import HTMX
from tests.factories import make_user


def cells(html: str) -> dict[str, str]:
    """Each day's cell of the month grid (td and what is inside), by its ISO date."""
    found = {}
    for cell in re.findall(r"<td\b[^>]*>.*?</td>", html, re.S):
        day = re.search(r'data-day="([\d-]+)"', cell)
        if day:
            found[day[1]] = cell
    return found


def count(cell: str) -> int | None:
    match = re.search(r'<span class="day-count">(\d+) free', cell)
    return int(match[1]) if match else None


def slot_starts(html: str) -> list[str]:
    return re.findall(r'data-slot-start="([^"]+)"', html)


def oob_calendar(html: str) -> str | None:
    """The calendar sent out of band in a fragment response, if there is one."""
    match = re.search(r'<section id="calendar"[^>]*hx-swap-oob="true"[^>]*>.*?</section>', html, re.S)
    return match[0] if match else None


def test_a_booking_answer_redraws_the_calendar_with_the_days_new_count(client, patient, provider):  # type: ignore[no-untyped-def]
    day, start = local_day(3), wall(3, 10)
    page = client.get(f"/book/{provider.id}?service={provider.services[0].id}&date={day}").get_data(as_text=True)
    assert count(cells(page)[day.isoformat()]) == 16

    booked = client.post(f"/book/{provider.id}", data=booking_form(provider, start), headers=HTMX)
    assert booked.status_code == 200
    html = booked.get_data(as_text=True)
    assert 'id="booked-title"' in html
    calendar = oob_calendar(html)
    assert calendar is not None, "the booking answer carries no out-of-band calendar"
    cell = cells(calendar)[day.isoformat()]
    assert count(cell) == 15
    assert 'aria-selected="true"' in cell  # still the chosen day
    assert html.index('id="booked-title"') < html.index('id="calendar"')

    # The slot list of that day (asked for again) no longer offers the time, nor does its live refresh.
    times = client.get(f"/book/{provider.id}/slots?service={provider.services[0].id}&date={day}", headers=HTMX)
    assert start not in slot_starts(times.get_data(as_text=True))
    assert wall(3, 10, 30) in slot_starts(times.get_data(as_text=True))


def test_without_javascript_the_calendar_after_a_booking_shows_the_new_count(client, patient, provider):  # type: ignore[no-untyped-def]
    day, start = local_day(3), wall(3, 10)
    booked = client.post(f"/book/{provider.id}", data=booking_form(provider, start))
    assert booked.status_code == 303
    page = client.get(f"/book/{provider.id}?service={provider.services[0].id}&date={day}")
    html = page.get_data(as_text=True)
    assert count(cells(html)[day.isoformat()]) == 15
    assert start not in slot_starts(html)
    assert "no-store" in page.headers["Cache-Control"]  # the back button asks again instead of showing 16


def test_a_lost_race_answer_redraws_the_calendar_too(client, patient, provider):  # type: ignore[no-untyped-def]
    day, start = local_day(3), wall(3, 10)
    other = make_user(Role.PATIENT)
    from booking.services import booking
    from datetime import datetime
    booking.book_appointment(other.id, provider.id, provider.services[0].id, datetime.fromisoformat(start), None)
    lost = client.post(f"/book/{provider.id}", data=booking_form(provider, start), headers=HTMX)
    assert lost.status_code == 409
    calendar = oob_calendar(lost.get_data(as_text=True))
    assert calendar is not None and count(cells(calendar)[day.isoformat()]) == 15
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_a_picked_day_is_marked_chosen_and_today_is_marked_today(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    today, day = local_day(0), local_day(3)
    base = f"/book/{provider.id}?service={service.id}"

    page = client.get(f"{base}&date={day}").get_data(as_text=True)
    grid = cells(page)
    assert [iso for iso, cell in grid.items() if 'aria-selected="true"' in cell] == [day.isoformat()]
    assert 'aria-current="date"' not in grid[day.isoformat()]
    if today.month == day.month:
        assert [iso for iso, cell in grid.items() if 'aria-current="date"' in cell] == [today.isoformat()]

    # A day picked with htmx: the slot list, and the calendar out of band marking that day.
    picked = client.get(f"/book/{provider.id}/slots?service={service.id}&date={day}", headers=HTMX)
    calendar = oob_calendar(picked.get_data(as_text=True))
    assert calendar is not None
    assert [iso for iso, cell in cells(calendar).items() if 'aria-selected="true"' in cell] == [day.isoformat()]
    assert 'autofocus' not in calendar  # the slot list's heading takes the focus, not the month's

    # A live refresh of the slot list leaves the calendar alone (it refreshes itself).
    known = re.search(r"known=([0-9a-f]+)", picked.get_data(as_text=True))[1]
    refreshed = client.get(f"/book/{provider.id}/slots?service={service.id}&date={day}&known=stale", headers=HTMX)
    assert refreshed.status_code == 200 and oob_calendar(refreshed.get_data(as_text=True)) is None
    unchanged = client.get(f"/book/{provider.id}/slots?service={service.id}&date={day}&known={known}", headers=HTMX)
    assert unchanged.status_code == 204


def test_the_calendar_refresh_keeps_the_chosen_day_and_answers_204_while_nothing_changes(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    day = local_day(3)
    page = client.get(f"/book/{provider.id}?service={service.id}&date={day}").get_data(as_text=True)
    poll = re.search(r'<section id="calendar"[^>]*hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    query = parse_qs(urlsplit(poll).query)
    assert query["date"] == [day.isoformat()] and query["month"] == [f"{day:%Y-%m}"]
    calendar = {**HTMX, "HX-Target": "calendar"}
    assert client.get(poll, headers=calendar).status_code == 204

    other = make_user(Role.PATIENT)
    from booking.services import booking
    from datetime import datetime
    booking.book_appointment(other.id, provider.id, service.id, datetime.fromisoformat(wall(3, 11)), None)
    changed = client.get(poll, headers=calendar)
    assert changed.status_code == 200
    cell = cells(changed.get_data(as_text=True))[day.isoformat()]
    assert count(cell) == 15 and 'aria-selected="true"' in cell


def test_no_month_before_the_current_one_is_offered(client, patient, provider):  # type: ignore[no-untyped-def]
    service = provider.services[0]
    this_month = local_day(0).replace(day=1)
    earlier = (this_month - timedelta(days=1)).replace(day=1)
    following = (this_month + timedelta(days=32)).replace(day=1)
    base = f"/book/{provider.id}?service={service.id}"

    current = client.get(base).get_data(as_text=True)
    assert this_month.strftime("%B %Y") in current
    assert 'rel="prev"' not in current
    assert f"month={earlier:%Y-%m}" not in current
    later = client.get(f"{base}&month={following:%Y-%m}").get_data(as_text=True)
    assert 'rel="prev"' in later and f"month={this_month:%Y-%m}" in later

    for month in (f"{earlier:%Y-%m}", "2001-01"):
        for headers in ({}, HTMX, {**HTMX, "HX-Target": "calendar"}):
            answer = client.get(f"{base}&month={month}&date={local_day(3)}", headers=headers)
            assert answer.status_code == 303, (month, headers)
            location = urlsplit(answer.headers["Location"])
            assert location.path == f"/book/{provider.id}"
            assert parse_qs(location.query) == {"service": [str(service.id)], "month": [f"{this_month:%Y-%m}"],
                                                "date": [local_day(3).isoformat()]}
    odd = client.get(f"{base}&month={earlier:%Y-%m}&provider_id=7&_external=1&known=x")  # only our own names
    assert odd.status_code == 303
    assert parse_qs(urlsplit(odd.headers["Location"]).query) == {"service": [str(service.id)],
                                                                 "month": [f"{this_month:%Y-%m}"]}
    followed = client.get(f"{base}&month={earlier:%Y-%m}", follow_redirects=True).get_data(as_text=True)
    assert this_month.strftime("%B %Y") in followed and "day-free" in followed
