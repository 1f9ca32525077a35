"""Time zones in words a patient understands: the place and its clock, said once per range, and the
patient's own clock beside the provider's when the two differ."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from booking.domain.roles import Role
from booking.domain.timezones import format_range, in_own_zone, zone_words
from booking.extensions import db
from booking.models import PatientProfile
from tests.booking_helpers import everyday_provider, local_day, wall
from tests.factories import make_user

WINTER = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
SUMMER = datetime(2026, 7, 7, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("zone", "instant", "words"), [
    ("Europe/London", WINTER, "London time (GMT)"),
    ("Europe/London", SUMMER, "London time (BST)"),
    ("America/New_York", WINTER, "New York time (EST)"),
    ("America/Argentina/Buenos_Aires", WINTER, "Buenos Aires time (UTC-03)"),
    ("Asia/Dubai", WINTER, "Dubai time (UTC+04)"),
    ("UTC", WINTER, "UTC"), ("UCT", WINTER, "UTC"), ("Universal", WINTER, "UTC"), ("Zulu", WINTER, "UTC"),
    ("Etc/UTC", WINTER, "UTC"), ("Etc/GMT-14", WINTER, "UTC+14"),
    ("Etc/GMT+5", WINTER, "UTC-05"),
])
def test_a_zone_is_named_by_its_place_and_the_clock_in_force(zone, instant, words):  # type: ignore[no-untyped-def]
    assert zone_words(zone, instant) == words


def test_a_range_says_its_zone_once_and_its_end_date_only_when_it_is_another_day():  # type: ignore[no-untyped-def]
    assert format_range(WINTER, WINTER + timedelta(minutes=30), "Europe/London") == "Mon 07 Dec 2026, 09:00–09:30 GMT"
    night = WINTER.replace(hour=22)
    assert format_range(night, night + timedelta(hours=8), "Europe/London") == "Mon 07 Dec 2026, 22:00 – Tue 08 Dec, 06:00 GMT"
    assert format_range(WINTER, WINTER + timedelta(hours=1), "Asia/Dubai") == "Mon 07 Dec 2026, 13:00–14:00 UTC+04"


def test_a_range_across_a_clock_change_labels_each_end_with_its_own_clock():  # type: ignore[no-untyped-def]
    start = datetime(2026, 10, 24, 23, 0, tzinfo=timezone.utc)  # 00:00 BST; the clocks go back at 02:00 BST
    assert format_range(start, start + timedelta(hours=4), "Europe/London") == "Sun 25 Oct 2026, 00:00 BST – 03:00 GMT"


def test_the_own_clock_is_shown_only_when_it_differs():  # type: ignore[no-untyped-def]
    assert in_own_zone(WINTER, "Europe/London", "Europe/Paris") == "10:00 Paris time (CET)"
    assert in_own_zone(WINTER, "Europe/London", "Pacific/Auckland") == "22:00 Auckland time (NZDT)"
    assert in_own_zone(WINTER.replace(hour=12), "Europe/London", "Pacific/Auckland") == "Tue 08 Dec, 01:00 Auckland time (NZDT)"
    assert in_own_zone(WINTER, "Europe/London", "America/Los_Angeles") == "01:00 Los Angeles time (PST)"
    for same in (None, "", "Europe/London", "Europe/Belfast"):  # Belfast keeps London's clock
        assert in_own_zone(WINTER, "Europe/London", same) is None
    assert in_own_zone(SUMMER, "Europe/London", "Europe/Lisbon") is None, "the same clock, under another name"
    assert in_own_zone(WINTER, "Europe/London", "Not/A_Zone") is None


def test_a_patient_abroad_sees_the_providers_clock_and_their_own(client, auth, app):  # type: ignore[no-untyped-def]
    provider = everyday_provider("Europe/London")
    patient = make_user(Role.PATIENT)
    profile = db.session.get(PatientProfile, patient.id) or PatientProfile(user_id=patient.id)
    profile.timezone = "Asia/Tokyo"
    db.session.add(profile)
    db.session.commit()
    service = provider.services[0].id
    day = local_day(3)
    visitor_slots = client.get(f"/book/{provider.id}/slots?service={service}&date={day}").get_data(as_text=True)
    assert re.search(r"Times are London time \((GMT|BST)\)\.", visitor_slots)
    assert "your own clock" not in visitor_slots
    auth.login(patient.email)
    slots = client.get(f"/book/{provider.id}/slots?service={service}&date={day}").get_data(as_text=True)
    assert re.search(r"On your own clock 09:00 is (18|17):00 Tokyo time \(JST\)\.", slots)
    confirm = client.get(f"/book/{provider.id}/confirm?service={service}&start={wall(3, 9)}").get_data(as_text=True)
    assert re.search(r"09:00–09:30 (GMT|BST)</strong> \(\d\d:00 Tokyo time \(JST\) on your clock\)", confirm)
    page = client.get(f"/book/{provider.id}?service={service}").get_data(as_text=True)
    assert "Europe/London" not in page and re.search(r"times are\s+London time", page)
