"""Add-to-calendar and map links (booking.services.calendar_links): each link, taken apart again with
urllib.parse as the receiving site would, carries the exact instants in UTC and every text unchanged."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from booking.services.calendar_links import CalendarEvent, google_calendar_url, map_url, outlook_calendar_url

LONDON = ZoneInfo("Europe/London")


def fields(url: str) -> tuple[str, dict[str, str]]:
    """The address without its query, and each query field once (a repeated field fails the test)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values()), query
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {name: values[0] for name, values in query.items()}


def event(**changes) -> CalendarEvent:  # type: ignore[no-untyped-def]
    values = dict(title="Consultation with Dr Amelia Hart",
                  start=datetime(2027, 7, 6, 9, 30, tzinfo=LONDON), end=datetime(2027, 7, 6, 10, 0, tzinfo=LONDON),
                  details="Your appointment: http://localhost/me/appointments/7\n\nWhat to bring: your letter",
                  location="1 River Street, London")
    return CalendarEvent(**{**values, **changes})


def test_a_google_calendar_link_carries_the_event_in_utc():  # type: ignore[no-untyped-def]
    """A summer morning in London (BST, UTC+1) is written as the UTC instant, start/end, so a calendar in
    any zone shows it at the right moment."""
    base, query = fields(google_calendar_url(event()))
    assert base == "https://calendar.google.com/calendar/render"
    assert query == {
        "action": "TEMPLATE",
        "text": "Consultation with Dr Amelia Hart",
        "dates": "20270706T083000Z/20270706T090000Z",
        "details": "Your appointment: http://localhost/me/appointments/7\n\nWhat to bring: your letter",
        "location": "1 River Street, London",
    }


def test_an_outlook_link_carries_the_event_in_utc():  # type: ignore[no-untyped-def]
    base, query = fields(outlook_calendar_url(event()))
    assert base == "https://outlook.live.com/calendar/0/action/compose"
    assert query == {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": "Consultation with Dr Amelia Hart",
        "startdt": "2027-07-06T08:30:00Z",
        "enddt": "2027-07-06T09:00:00Z",
        "body": "Your appointment: http://localhost/me/appointments/7\n\nWhat to bring: your letter",
        "location": "1 River Street, London",
    }


@pytest.mark.parametrize("zone, wall, utc", [
    ("Europe/London", datetime(2027, 1, 12, 9, 30), "20270112T093000Z"),  # GMT: the wall time is UTC
    ("America/New_York", datetime(2027, 7, 6, 9, 30), "20270706T133000Z"),  # EDT, UTC-4
    ("Asia/Kolkata", datetime(2027, 7, 6, 9, 30), "20270706T040000Z"),  # UTC+5:30, a half hour
    ("Australia/Sydney", datetime(2027, 1, 12, 23, 30), "20270112T123000Z"),  # AEDT: the day before in UTC
    ("UTC", datetime(2027, 1, 12, 9, 30, 15), "20270112T093015Z"),  # seconds are kept
])
def test_both_links_name_the_same_utc_instant_whatever_the_zone(zone, wall, utc):  # type: ignore[no-untyped-def]
    start = wall.replace(tzinfo=ZoneInfo(zone))
    end = start + timedelta(minutes=45)
    one = event(start=start, end=end)
    expected_end = end.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    assert fields(google_calendar_url(one))[1]["dates"] == f"{utc}/{expected_end}"
    _, outlook = fields(outlook_calendar_url(one))
    assert datetime.fromisoformat(outlook["startdt"].replace("Z", "+00:00")) == start
    assert datetime.fromisoformat(outlook["enddt"].replace("Z", "+00:00")) == end
    assert outlook["startdt"].endswith("Z") and outlook["enddt"].endswith("Z")


@pytest.fixture
def server_in_new_york(monkeypatch):  # type: ignore[no-untyped-def]
    """The process's own zone set to New York, as on a server whose clock is not UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_links_are_in_utc_whatever_zone_the_server_runs_in(server_in_new_york):  # type: ignore[no-untyped-def]
    """Only the instant counts: neither the server's zone nor the event's changes what the links say."""
    start = datetime(2027, 7, 6, 9, 30, tzinfo=LONDON)
    one = event(start=start, end=start + timedelta(minutes=30))
    assert fields(google_calendar_url(one))[1]["dates"] == "20270706T083000Z/20270706T090000Z"
    assert fields(outlook_calendar_url(one))[1]["startdt"] == "2027-07-06T08:30:00Z"


def test_texts_with_the_characters_a_query_uses_arrive_unchanged():  # type: ignore[no-untyped-def]
    """Ampersands, hashes, plus signs, equals signs and line breaks in a title or an address are the
    patient's text, not the link's structure."""
    tricky = "Check-up & scan #2 = 50% + more\nline two / ? ;"
    for url in (google_calendar_url(event(title=tricky, location=tricky, details=tricky)),
                outlook_calendar_url(event(title=tricky, location=tricky, details=tricky))):
        _, query = fields(url)
        assert sum(value == tricky for value in query.values()) == 3  # title, details and location


def test_spaces_travel_as_percent_20_which_no_reader_takes_for_a_plus():  # type: ignore[no-untyped-def]
    for url in (google_calendar_url(event()), outlook_calendar_url(event()), map_url("1 River Street")):
        query = urlsplit(url).query
        assert "%20" in query and "+" not in query


def test_empty_details_and_location_are_left_out():  # type: ignore[no-untyped-def]
    _, google = fields(google_calendar_url(event(details="", location="")))
    _, outlook = fields(outlook_calendar_url(event(details="", location="")))
    assert set(google) == {"action", "text", "dates"}
    assert set(outlook) == {"path", "rru", "subject", "startdt", "enddt"}


def test_a_map_link_searches_openstreetmap_for_the_address():  # type: ignore[no-untyped-def]
    base, query = fields(map_url("1 River Street, London & Co"))
    assert base == "https://www.openstreetmap.org/search"
    assert query == {"query": "1 River Street, London & Co"}


@pytest.mark.parametrize("start, end", [
    (datetime(2027, 7, 6, 9, 30), datetime(2027, 7, 6, 10, 0, tzinfo=LONDON)),
    (datetime(2027, 7, 6, 9, 30, tzinfo=LONDON), datetime(2027, 7, 6, 10, 0)),
])
def test_an_event_without_a_zone_is_refused(start, end):  # type: ignore[no-untyped-def]
    """A wall time without a zone would be read in the reader's own zone: hours off for anyone elsewhere."""
    with pytest.raises(ValueError) as refused:
        event(start=start, end=end)
    assert str(refused.value) == "a calendar event's start and end must be time-zone aware"


@pytest.mark.parametrize("minutes", [0, -30])
def test_an_event_that_does_not_end_after_it_starts_is_refused(minutes):  # type: ignore[no-untyped-def]
    start = datetime(2027, 7, 6, 9, 30, tzinfo=LONDON)
    with pytest.raises(ValueError) as refused:
        event(start=start, end=start + timedelta(minutes=minutes))
    assert str(refused.value) == "a calendar event must end after it starts"


def test_an_event_one_second_long_is_an_event():  # type: ignore[no-untyped-def]
    start = datetime(2027, 7, 6, 9, 30, tzinfo=LONDON)
    assert event(start=start, end=start + timedelta(seconds=1)).end > start
