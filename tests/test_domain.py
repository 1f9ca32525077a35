"""The pure core: the status machine and showing times in a zone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.status import FINAL, HOLDS_TIME, Status, TransitionError, can_transition, check_transition
from booking.domain.timezones import format_local, is_valid_zone

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

