"""The pure core: the status machine and showing times in a zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.status import FINAL, HOLDS_TIME, Status, TransitionError, can_transition, check_transition
from booking.domain.timezones import format_local, is_valid_zone, to_zone, zone_names

ALLOWED = {
    ("pending", "approved"), ("pending", "rejected"), ("pending", "cancelled"),
    ("approved", "completed"), ("approved", "no_show"), ("approved", "cancelled"),
}


@given(st.sampled_from(list(Status)), st.sampled_from(list(Status)))
def test_the_status_machine_allows_exactly_the_designed_transitions(current, target):  # type: ignore[no-untyped-def]
    allowed = (current.value, target.value) in ALLOWED
    assert can_transition(current, target) is allowed
    if allowed:
        assert check_transition(current, target) is target
    else:
        with pytest.raises(TransitionError, match="cannot become"):
            check_transition(current, target)


def test_only_pending_and_approved_hold_time_and_the_rest_are_final() -> None:
    assert HOLDS_TIME == {Status.PENDING, Status.APPROVED}
    assert FINAL == set(Status) - HOLDS_TIME


def test_an_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError):
        can_transition("pending", "maybe")


@pytest.mark.parametrize(
    ("instant", "zone", "shown"),
    [
        (datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc), "Europe/London", "Thu 15 Jan 2026, 09:30 GMT"),
        (datetime(2026, 7, 15, 9, 30, tzinfo=timezone.utc), "Europe/London", "Wed 15 Jul 2026, 10:30 BST"),
        (datetime(2026, 3, 29, 0, 59, tzinfo=timezone.utc), "Europe/London", "Sun 29 Mar 2026, 00:59 GMT"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), "Europe/London", "Sun 29 Mar 2026, 02:00 BST"),
        (datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc), "America/New_York", "Sun 01 Nov 2026, 01:30 EDT"),
        (datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc), "America/New_York", "Sun 01 Nov 2026, 01:30 EST"),
        (datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc), "Asia/Dubai", "Fri 01 May 2026, 12:00 Dubai time (UTC+04)"),
    ],
)
def test_times_are_shown_with_the_zone_in_force(instant, zone, shown):  # type: ignore[no-untyped-def]
    assert format_local(instant, zone) == shown


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)))
def test_every_instant_shows_with_a_label(instant):  # type: ignore[no-untyped-def]
    for zone in ("Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"):
        shown = format_local(instant, zone)
        assert shown.split(", ")[1][6:].strip()  # something after HH:MM


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_local(datetime(2026, 1, 1, 9, 0), "Europe/London")


@pytest.mark.parametrize(("zone", "valid"), [
    ("Europe/London", True), ("Mars/Olympus", False), ("", False), ("../etc", False),
    ("Europe", False), ("x" * 300, False),  # a directory of the zone database; a name too long for a file
])
def test_zone_names_are_checked(zone, valid):  # type: ignore[no-untyped-def]
    assert is_valid_zone(zone) is valid



@pytest.mark.parametrize(
    ("instant", "zone", "shown"),
    [
        # Zones whose abbreviation tzdata writes as an offset are named by the last part of their name,
        # underscores as spaces, with the offset: also for three-part names and 30/45-minute offsets.
        (datetime(2026, 5, 1, 15, 0, tzinfo=timezone.utc), "America/Argentina/Buenos_Aires",
         "Fri 01 May 2026, 12:00 Buenos Aires time (UTC-03)"),
        (datetime(2026, 5, 1, 6, 0, tzinfo=timezone.utc), "Asia/Kathmandu", "Fri 01 May 2026, 11:45 Kathmandu time (UTC+0545)"),
        (datetime(2026, 5, 1, 6, 0, tzinfo=timezone.utc), "Australia/Eucla", "Fri 01 May 2026, 14:45 Eucla time (UTC+0845)"),
        (datetime(2026, 7, 1, 6, 0, tzinfo=timezone.utc), "Pacific/Chatham", "Wed 01 Jul 2026, 18:45 Chatham time (UTC+1245)"),
        (datetime(2026, 7, 1, 6, 0, tzinfo=timezone.utc), "Asia/Kolkata", "Wed 01 Jul 2026, 11:30 IST"),
        (datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc), "America/St_Johns", "Thu 01 Jan 2026, 08:30 NST"),
        (datetime(2026, 1, 1, 6, 0, tzinfo=timezone.utc), "Australia/Adelaide", "Thu 01 Jan 2026, 16:30 ACDT"),
        # The autumn fold: the same wall time twice, told apart by the label.
        (datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), "Europe/London", "Sun 25 Oct 2026, 01:30 BST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), "Europe/London", "Sun 25 Oct 2026, 01:30 GMT"),
        # Lord Howe moves its clocks by half an hour: the fold is 30 minutes long, the offset shown changes.
        (datetime(2026, 4, 4, 14, 59, tzinfo=timezone.utc), "Australia/Lord_Howe",
         "Sun 05 Apr 2026, 01:59 Lord Howe time (UTC+11)"),
        (datetime(2026, 4, 4, 15, 0, tzinfo=timezone.utc), "Australia/Lord_Howe",
         "Sun 05 Apr 2026, 01:30 Lord Howe time (UTC+1030)"),
        # The spring gap: the clock jumps from 01:59 to 03:00; no time inside the gap is ever shown.
        (datetime(2026, 3, 29, 0, 59, 59, tzinfo=timezone.utc), "Europe/London", "Sun 29 Mar 2026, 00:59 GMT"),
        (datetime(2026, 3, 8, 7, 0, tzinfo=timezone.utc), "America/New_York", "Sun 08 Mar 2026, 03:00 EDT"),
        (datetime(2026, 3, 8, 6, 59, tzinfo=timezone.utc), "America/New_York", "Sun 08 Mar 2026, 01:59 EST"),
    ],
)
def test_labels_at_the_edges_name_the_zone_and_its_offset(instant, zone, shown):  # type: ignore[no-untyped-def]
    assert format_local(instant, zone) == shown


def test_a_custom_pattern_is_followed_by_the_label() -> None:
    assert format_local(datetime(2026, 5, 1, 6, 0, tzinfo=timezone.utc), "Asia/Kathmandu", "%H:%M") == \
        "11:45 Kathmandu time (UTC+0545)"


@pytest.mark.parametrize(("zone", "offset"), [
    ("Asia/Kathmandu", timedelta(hours=5, minutes=45)), ("Asia/Kolkata", timedelta(hours=5, minutes=30)),
    ("America/St_Johns", timedelta(hours=-3, minutes=-30)), ("UTC", timedelta(0)),
])
def test_converting_keeps_the_instant_and_gives_the_zones_offset(zone, offset):  # type: ignore[no-untyped-def]
    instant = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    local = to_zone(instant, zone)
    assert local == instant and local.utcoffset() == offset
    assert local.replace(tzinfo=None) == (instant + offset).replace(tzinfo=None)


def test_converting_through_the_fold_keeps_the_two_instants_apart() -> None:
    first = to_zone(datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), "Europe/London")
    second = to_zone(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), "Europe/London")
    assert first.replace(tzinfo=None) == second.replace(tzinfo=None) == datetime(2026, 10, 25, 1, 30)
    assert (first.fold, second.fold) == (0, 1) and second.timestamp() - first.timestamp() == 3600


def test_a_naive_instant_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError) as refused:
        to_zone(datetime(2026, 1, 1, 9, 0), "Europe/London")
    assert str(refused.value) == "an instant must be time-zone aware"


def test_the_offered_zones_are_every_valid_zone_in_order() -> None:
    names = zone_names()
    assert names == sorted(available_timezones()) and len(names) > 300
    assert {"Europe/London", "Asia/Kathmandu", "America/Argentina/Buenos_Aires", "UTC"} <= set(names)
    assert all(is_valid_zone(name) for name in names)
