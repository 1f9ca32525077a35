"""The availability engine (booking.domain.availability): its rules one at a time, clock changes with
exact slot lists, and property tests against a slow reference written here from the module's rules."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from time import tzset
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings, strategies as st

from booking.domain import availability
from booking.domain.availability import (
    Block, Interval, Problem, Rules, blocks_overlap, check_start, fits_schedule, free_slots,
)

UTC = timezone.utc
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
MONDAY = date(2026, 6, 1)  # no clock change anywhere near it in the zones used below
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)  # a `now` before every day used in the unit tests
MINUTE = timedelta(minutes=1)


# --- helpers ---------------------------------------------------------------------------------------


def make_rules(
    blocks: list[Block] | None = None,
    *,
    zone: str = "UTC",
    duration: int = 30,
    step: int | None = None,
    before: int = 0,
    after: int = 0,
    notice: int = 0,
    horizon: int = 400,
) -> Rules:
    """Rules with minutes as plain numbers; by default Mondays 09:00-12:00 in UTC, 30 minutes, no notice."""
    return Rules(
        zone=zone,
        blocks=tuple(blocks if blocks is not None else [Block(0, time(9), time(12))]),
        duration=timedelta(minutes=duration),
        step=None if step is None else timedelta(minutes=step),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        min_notice=timedelta(minutes=notice),
        horizon_days=horizon,
    )


def hhmm(text: str) -> time:
    return time.fromisoformat(text)


def utc(day: date, clock: str) -> datetime:
    return datetime.combine(day, hhmm(clock), tzinfo=UTC)


def span(day: date, start: str, end: str, end_day: date | None = None) -> Interval:
    """A UTC interval on `day` (ending on `end_day` if given)."""
    return Interval(utc(day, start), utc(end_day or day, end))


def clocks(slots: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in slots]


def labels(slots: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M %Z") for s in slots]


def one_day(rules: Rules, day: date = MONDAY, now: datetime = LONG_AGO, **inputs: list[Interval]) -> list[datetime]:
    result = free_slots(rules, day, day, now, **inputs)
    assert list(result) == [day]
    return result[day]


def every(start: str, end: str, minutes: int) -> list[str]:
    """Clock times from start to end inclusive, `minutes` apart."""
    out, t = [], datetime.combine(MONDAY, hhmm(start))
    while t <= datetime.combine(MONDAY, hhmm(end)):
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=minutes)
    return out


# --- one rule at a time ----------------------------------------------------------------------------


def test_slots_start_at_the_block_start_and_step_by_the_duration_by_default() -> None:
    assert clocks(one_day(make_rules([Block(0, time(9), time(11))]))) == ["09:00", "09:30", "10:00", "10:30"]
    assert clocks(one_day(make_rules([Block(0, time(9), time(11))], duration=40))) == ["09:00", "09:40", "10:20"]


def test_an_explicit_step_gives_overlapping_candidate_starts() -> None:
    rules = make_rules([Block(0, time(9), time(10))], duration=30, step=15)
    assert clocks(one_day(rules)) == ["09:00", "09:15", "09:30"]


def test_the_grid_starts_at_each_block_start() -> None:
    rules = make_rules([Block(0, time(9, 10), time(10, 30)), Block(0, time(13, 5), time(14, 5))])
    assert clocks(one_day(rules)) == ["09:10", "09:40", "13:05", "13:35"]


def test_a_slot_must_end_by_its_block_end() -> None:
    assert clocks(one_day(make_rules([Block(0, time(9), time(10))]))) == ["09:00", "09:30"]  # ends exactly at 10:00
    assert clocks(one_day(make_rules([Block(0, time(9), time(10, 20))]))) == ["09:00", "09:30"]  # 10:00 would end 10:30
    assert clocks(one_day(make_rules([Block(0, time(9), time(10, 20))], step=20))) == ["09:00", "09:20", "09:40"]
    assert one_day(make_rules([Block(0, time(9), time(9, 20))])) == []  # shorter than the service


def test_slots_are_wall_clock_times_in_the_provider_zone() -> None:
    slots = one_day(make_rules([Block(0, time(9), time(10))], zone=LONDON))  # summer: BST, UTC+1
    assert [s.astimezone(UTC) for s in slots] == [utc(MONDAY, "08:00"), utc(MONDAY, "08:30")]
    assert all(isinstance(s.tzinfo, ZoneInfo) and s.tzinfo.key == LONDON for s in slots)
    assert labels(slots) == ["09:00 BST", "09:30 BST"]


def test_several_blocks_a_day_and_no_slot_spans_the_lunch_break() -> None:
    # Given out of order, with a one-hour service every half hour: nothing from 11:30 to 12:30.
    rules = make_rules([Block(0, time(13), time(15)), Block(0, time(9), time(12))], duration=60, step=30)
    assert clocks(one_day(rules)) == ["09:00", "09:30", "10:00", "10:30", "11:00", "13:00", "13:30", "14:00"]


def test_days_without_blocks_are_present_and_empty() -> None:
    rules = make_rules([Block(0, time(9), time(10)), Block(2, time(14), time(15))])
    result = free_slots(rules, MONDAY, MONDAY + timedelta(days=6), LONG_AGO)
    assert list(result) == [MONDAY + timedelta(days=n) for n in range(7)]
    assert {day.weekday(): clocks(slots) for day, slots in result.items()} == {
        0: ["09:00", "09:30"],
        1: [],
        2: ["14:00", "14:30"],
        3: [],
        4: [],
        5: [],
        6: [],
    }


def test_time_off_removes_the_slots_it_overlaps() -> None:
    slots = one_day(make_rules(), time_off=[span(MONDAY, "10:00", "11:00")])
    assert clocks(slots) == ["09:00", "09:30", "11:00", "11:30"]


@pytest.mark.parametrize(
    ("start", "end", "removed"),
    [
        ("09:20", "09:40", ["09:00", "09:30"]),  # over the end of one slot and the start of the next
        ("10:29:59", "10:30:01", ["10:00", "10:30"]),  # a two-second overlap still counts
        ("08:00", "09:00:00.000001", ["09:00"]),  # a microsecond into a slot
        ("09:59:59.999999", "10:15", ["09:30", "10:00"]),  # a microsecond before a slot ends
        ("08:00", "09:01", ["09:00"]),  # from before the block into its first slot
        ("11:59", "13:00", ["11:30"]),  # from its last slot to after the block
        ("10:00", "10:30", ["10:00"]),  # exactly one slot: the neighbours only touch it
        ("09:30", "10:00", ["09:30"]),
        ("10:10", "10:20", ["10:00"]),  # inside one slot
    ],
)
def test_time_off_partly_overlapping_a_slot_at_either_edge_removes_it(start: str, end: str, removed: list[str]) -> None:
    slots = one_day(make_rules(), time_off=[span(MONDAY, start, end)])
    assert clocks(slots) == [t for t in every("09:00", "11:30", 30) if t not in removed]


def test_time_off_spanning_several_days() -> None:
    rules = make_rules([Block(weekday, time(9), time(12)) for weekday in range(4)])
    off = span(MONDAY, "11:00", "09:45", end_day=MONDAY + timedelta(days=2))
    result = free_slots(rules, MONDAY, MONDAY + timedelta(days=3), LONG_AGO, time_off=[off])
    assert [clocks(slots) for slots in result.values()] == [
        ["09:00", "09:30", "10:00", "10:30"],
        [],
        ["10:00", "10:30", "11:00", "11:30"],
        every("09:00", "11:30", 30),
    ]


def test_appointments_remove_the_slots_they_overlap() -> None:
    appointments = [span(MONDAY, "10:15", "10:45"), span(MONDAY, "11:00", "11:30")]
    assert clocks(one_day(make_rules(), appointments=appointments)) == ["09:00", "09:30", "11:30"]
    touching = [span(MONDAY, "11:00", "11:30")]  # ends where a slot starts: no overlap, [start, end)
    assert clocks(one_day(make_rules(), appointments=touching)) == ["09:00", "09:30", "10:00", "10:30", "11:30"]


@pytest.mark.parametrize(("before", "after"), [(10, 5), (5, 10), (15, 0), (0, 15)])
def test_buffers_keep_before_plus_after_between_two_appointments_on_both_sides(before: int, after: int) -> None:
    # Each appointment occupies [start - before, end + after): whichever way round they are, a new slot
    # and an existing appointment 10:00-10:30 must be 15 minutes apart.
    rules = make_rules([Block(0, time(8), time(12))], step=5, before=before, after=after)
    slots = clocks(one_day(rules, appointments=[span(MONDAY, "10:00", "10:30")]))
    assert slots == every("08:00", "09:15", 5) + every("10:45", "11:30", 5)


def test_buffers_do_not_apply_against_time_off_or_block_edges() -> None:
    rules = make_rules([Block(0, time(9), time(12))], before=15, after=15)
    slots = one_day(rules, time_off=[span(MONDAY, "10:00", "10:30")])
    assert clocks(slots) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_minimum_notice_allows_a_start_exactly_at_now_plus_notice_but_not_a_second_earlier() -> None:
    rules = make_rules(notice=120)
    exactly = utc(MONDAY, "07:00")
    assert clocks(one_day(rules, now=exactly)) == every("09:00", "11:30", 30)
    assert check_start(rules, datetime(2026, 6, 1, 9), exactly) == (utc(MONDAY, "09:00"), None)
    for late in (exactly + timedelta(seconds=1), exactly + timedelta(microseconds=1)):
        assert clocks(one_day(rules, now=late)) == every("09:30", "11:30", 30)
        assert check_start(rules, datetime(2026, 6, 1, 9), late) == (None, Problem.TOO_SOON)


def test_the_horizon_counts_days_from_today_in_the_provider_zone_inclusive() -> None:
    # 02:00 UTC on 1 June is still 31 May in New York: the last bookable date is 3 June, not 4 June.
    rules = make_rules([Block(weekday, time(9), time(10)) for weekday in range(7)], zone=NEW_YORK, horizon=3)
    now = utc(MONDAY, "02:00")
    result = free_slots(rules, MONDAY, MONDAY + timedelta(days=6), now)
    assert list(result) == [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]
    assert clocks(result[date(2026, 6, 3)]) == ["09:00", "09:30"]
    assert free_slots(rules, date(2026, 6, 4), date(2026, 6, 10), now) == {}
    assert check_start(rules, datetime(2026, 6, 3, 9, 30), now)[1] is None
    assert check_start(rules, datetime(2026, 6, 4, 9), now) == (None, Problem.BEYOND_HORIZON)


def test_days_already_past_are_empty() -> None:
    rules = make_rules([Block(weekday, time(9), time(10)) for weekday in range(7)])
    result = free_slots(rules, MONDAY - timedelta(days=2), MONDAY, utc(MONDAY, "09:15"))
    assert [clocks(slots) for slots in result.values()] == [[], [], ["09:30"]]


def test_inputs_in_any_order_and_partly_or_wholly_outside_the_range() -> None:
    rules = make_rules([Block(weekday, time(9), time(12)) for weekday in range(7)])
    tuesday = MONDAY + timedelta(days=1)
    appointments = [
        span(tuesday, "11:00", "11:30"),
        span(MONDAY - timedelta(days=40), "09:00", "10:00"),  # long before the range
        span(MONDAY, "09:30", "10:00"),
        span(MONDAY + timedelta(days=30), "09:00", "12:00"),  # long after it
        span(MONDAY, "09:00", "09:30"),
    ]
    time_off = [
        span(tuesday, "11:30", "09:00", end_day=tuesday + timedelta(days=5)),  # runs past the range
        span(MONDAY - timedelta(days=3), "00:00", "09:30", end_day=MONDAY),  # starts before it
        span(MONDAY, "10:30", "11:30"),
        span(MONDAY, "10:45", "11:00"),  # inside the one above
    ]
    expected = {MONDAY: ["10:00", "11:30"], tuesday: ["09:00", "09:30", "10:00", "10:30"]}
    for order in (list, lambda xs: list(reversed(xs)), lambda xs: sorted(xs, key=lambda i: i.end)):
        result = free_slots(rules, MONDAY, tuesday, LONG_AGO, order(appointments), order(time_off))
        assert {day: clocks(slots) for day, slots in result.items()} == expected


def test_time_off_and_appointments_inside_one_another_keep_the_outer_ones_whole_span() -> None:
    """Busy spans nested in others (an appointment kept during time off, time off inside a long
    appointment): the outer span's time stays busy from its start to its end, the inner one adds none."""
    rules = make_rules()
    inner_appointment = {"appointments": [span(MONDAY, "10:00", "10:30")], "time_off": [span(MONDAY, "09:00", "11:00")]}
    inner_time_off = {"appointments": [span(MONDAY, "09:00", "11:00")], "time_off": [span(MONDAY, "10:00", "10:30")]}
    for inputs in (inner_appointment, inner_time_off):
        assert clocks(one_day(rules, **inputs)) == ["11:00", "11:30"]
    nested = [span(MONDAY, "09:00", "11:00"), span(MONDAY, "09:30", "10:00"), span(MONDAY, "10:15", "10:45")]
    assert clocks(one_day(rules, time_off=nested)) == ["11:00", "11:30"]

def test_check_start_accepts_a_good_start_and_returns_the_aware_instant() -> None:
    rules = make_rules(zone=LONDON)
    start, problem = check_start(rules, datetime(2026, 6, 1, 9, 30), LONG_AGO)
    assert problem is None
    assert start == datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    assert start.tzinfo == UTC and start.astimezone(ZoneInfo(LONDON)).strftime("%H:%M %Z") == "09:30 BST"


# check_start's rules: London, Mondays 09:00-10:20, 30 minutes, an hour's notice, ten days ahead; now is
# Monday 1 June at 08:30 BST, so the first start that is not too soon is 09:30 that day.
CHECK_RULES = make_rules([Block(0, time(9), time(10, 20))], zone=LONDON, notice=60, horizon=10)
CHECK_NOW = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)
NEXT_MONDAY = date(2026, 6, 8)


@pytest.mark.parametrize(
    ("wall", "inputs", "problem"),
    [
        pytest.param(datetime(2026, 6, 8, 9, tzinfo=UTC), {}, Problem.NOT_A_TIME, id="aware"),
        pytest.param(datetime(2026, 6, 8, 9, tzinfo=ZoneInfo(LONDON)), {}, Problem.NOT_A_TIME, id="aware-local"),
        pytest.param(datetime(2026, 3, 29, 1, 30), {}, Problem.DOES_NOT_EXIST, id="gap"),
        pytest.param(datetime(2026, 6, 1, 8, 0), {}, Problem.IN_THE_PAST, id="past"),
        pytest.param(datetime(2026, 5, 25, 9, 0), {}, Problem.IN_THE_PAST, id="last-week"),
        pytest.param(datetime(2026, 6, 1, 9, 0), {}, Problem.TOO_SOON, id="too-soon"),
        pytest.param(datetime(2026, 6, 15, 9, 0), {}, Problem.BEYOND_HORIZON, id="beyond-horizon"),
        pytest.param(datetime(2026, 6, 9, 9, 0), {}, Problem.OUTSIDE_HOURS, id="day-without-blocks"),
        pytest.param(datetime(2026, 6, 8, 8, 30), {}, Problem.OUTSIDE_HOURS, id="before-block"),
        pytest.param(datetime(2026, 6, 8, 10, 20), {}, Problem.OUTSIDE_HOURS, id="at-block-end"),
        pytest.param(datetime(2026, 6, 8, 13, 0), {}, Problem.OUTSIDE_HOURS, id="after-block"),
        pytest.param(datetime(2026, 6, 8, 10, 0), {}, Problem.OUTSIDE_HOURS, id="on-grid-runs-past-end"),
        pytest.param(datetime(2026, 6, 8, 9, 10), {}, Problem.OFF_GRID, id="off-grid"),
        pytest.param(datetime(2026, 6, 8, 9, 15), {}, Problem.OFF_GRID, id="off-grid-half-step"),
        pytest.param(datetime(2026, 6, 8, 9, 0, 30), {}, Problem.OFF_GRID, id="off-grid-seconds"),
        pytest.param(
            datetime(2026, 6, 8, 9, 0),
            {"time_off": [span(NEXT_MONDAY, "08:15", "08:20")]},
            Problem.TIME_OFF,
            id="time-off",
        ),
        pytest.param(
            datetime(2026, 6, 8, 9, 0),
            {"appointments": [span(NEXT_MONDAY, "08:10", "08:20")]},
            Problem.TAKEN,
            id="taken",
        ),
    ],
)
def test_check_start_reports_each_problem(wall: datetime, inputs: dict[str, list[Interval]], problem: Problem) -> None:
    assert check_start(CHECK_RULES, wall, CHECK_NOW, **inputs) == (None, problem)
    # ...while the same inputs allow another start.
    assert check_start(CHECK_RULES, datetime(2026, 6, 8, 9, 30), CHECK_NOW, **inputs)[1] is None


def test_check_start_reports_a_conflict_with_an_appointments_buffer_only() -> None:
    appointment = [span(NEXT_MONDAY, "08:30", "09:00")]  # 09:30-10:00 BST, right after the 09:00 slot
    good = (datetime(2026, 6, 8, 9, tzinfo=ZoneInfo(LONDON)), None)
    assert check_start(CHECK_RULES, datetime(2026, 6, 8, 9), CHECK_NOW, appointments=appointment) == good
    for before, after in ((5, 0), (0, 5)):
        rules = make_rules(list(CHECK_RULES.blocks), zone=LONDON, notice=60, horizon=10, before=before, after=after)
        assert check_start(rules, datetime(2026, 6, 8, 9), CHECK_NOW, appointments=appointment) == (None, Problem.TAKEN)
        # ...but buffers do not keep time from time off.
        assert check_start(rules, datetime(2026, 6, 8, 9), CHECK_NOW, time_off=appointment) == good


TUESDAY = MONDAY + timedelta(days=1)


def test_check_start_allows_a_start_right_where_time_off_or_an_appointment_with_its_buffers_ends() -> None:
    """[start, end) spans: a start exactly at the end of time off, or exactly before + after minutes
    after an appointment ends, is free; a second later still, it is not."""
    rules = make_rules([Block(0, time(9), time(12))], before=5, after=10)
    wall, start = datetime(2026, 6, 1, 10), utc(MONDAY, "10:00")
    for free in ({"time_off": [span(MONDAY, "09:00", "10:00")]}, {"appointments": [span(MONDAY, "09:15", "09:45")]}):
        assert check_start(rules, wall, LONG_AGO, **free) == (start, None)
        assert "10:00" in clocks(one_day(rules, **free))
    assert check_start(rules, wall, LONG_AGO, time_off=[span(MONDAY, "09:00", "10:00:01")]) == (None, Problem.TIME_OFF)
    assert check_start(rules, wall, LONG_AGO, appointments=[span(MONDAY, "09:15", "09:45:01")]) == (None, Problem.TAKEN)


APPROVAL_RULES = make_rules([Block(0, time(8), time(12))])  # Mondays 08:00-12:00 UTC


@pytest.mark.parametrize(
    ("off_start", "off_end", "problem"),
    [
        ("09:30", "10:00", None),  # ends as the request starts
        ("10:30", "11:00", None),  # starts as it ends
        ("09:30", "10:01", Problem.TIME_OFF),  # a minute into it
        ("10:29", "11:00", Problem.TIME_OFF),  # from its last minute
        ("10:10", "10:20", Problem.TIME_OFF),  # inside it
        ("08:00", "12:00", Problem.TIME_OFF),  # around it
    ],
)
def test_approving_refuses_a_request_that_time_off_overlaps_but_not_one_it_only_touches(
    off_start: str, off_end: str, problem: Problem | None
) -> None:
    request = (utc(MONDAY, "10:00"), utc(MONDAY, "10:30"))
    assert fits_schedule(APPROVAL_RULES, *request, time_off=[span(MONDAY, off_start, off_end)]) is problem
    assert fits_schedule(APPROVAL_RULES, *request, time_off=[span(TUESDAY, off_start, off_end)]) is None


@pytest.mark.parametrize(("before", "after"), [(0, 15), (15, 0), (10, 5)])
def test_approving_keeps_before_plus_after_between_the_request_and_each_appointment(before: int, after: int) -> None:
    """As for booking, whichever way round: a request and an appointment 10:00-10:30 must be 15
    minutes apart, on either side, for the request to still fit when staff approve it."""
    rules = make_rules(list(APPROVAL_RULES.blocks), before=before, after=after)
    taken = [span(MONDAY, "10:00", "10:30")]

    def fits(start: str, end: str) -> Problem | None:
        return fits_schedule(rules, utc(MONDAY, start), utc(MONDAY, end), appointments=taken)

    assert fits("09:15", "09:45") is None  # 15 minutes before it
    assert fits("09:16", "09:46") is Problem.TAKEN
    assert fits("10:45", "11:15") is None  # 15 minutes after it
    assert fits("10:44", "11:14") is Problem.TAKEN
    assert fits("10:30", "11:00") is Problem.TAKEN


@pytest.fixture
def server_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Runs a test as on a server whose own local time zone is another (the TZ variable)."""
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        tzset()

    yield use
    monkeypatch.undo()
    tzset()


@pytest.mark.parametrize("server", ["Asia/Kathmandu", NEW_YORK])
def test_the_servers_own_time_zone_changes_no_slot_and_no_start(server_zone: Callable[[str], None], server: str) -> None:
    """Slots are in the provider's zone and starts in UTC, whatever zone the machine runs in."""
    server_zone(server)
    rules = make_rules([Block(0, time(9), time(10))], zone=LONDON)
    slots = one_day(rules)
    assert [s.astimezone(UTC) for s in slots] == [utc(MONDAY, "08:00"), utc(MONDAY, "08:30")]
    assert labels(slots) == ["09:00 BST", "09:30 BST"]
    start, problem = check_start(rules, datetime(2026, 6, 1, 9, 30), LONG_AGO)
    assert problem is None and start == utc(MONDAY, "08:30") and start.tzinfo == UTC
    assert fits_schedule(rules, utc(MONDAY, "08:00"), utc(MONDAY, "09:00")) is None
    spring = make_rules([Block(6, time(0), time(3))], zone=LONDON)  # a clock-change day: the zone walks
    assert labels(one_day(spring, date(2026, 3, 29))) == ["00:00 GMT", "00:30 GMT", "02:00 BST", "02:30 BST"]


# --- seconds, midnight and nights ----------------------------------------------------------------

FRIDAY, SATURDAY, SUNDAY = date(2026, 6, 5), date(2026, 6, 6), date(2026, 6, 7)
NIGHT = Block(4, time(22), time(6))  # Friday 22:00 to Saturday 06:00


def test_a_start_with_seconds_is_rounded_up_never_down() -> None:
    for start in (time(8, 0, 30), time(8, 0, 0, 1), time(8, 0, 59, 999_999)):
        rules = make_rules([Block(0, start, time(10))])
        assert clocks(one_day(rules)) == ["08:01", "08:31", "09:01"]
        assert check_start(rules, datetime(2026, 6, 1, 8), LONG_AGO) == (None, Problem.OUTSIDE_HOURS)
        assert check_start(rules, datetime(2026, 6, 1, 8, 1), LONG_AGO)[1] is None
        assert fits_schedule(rules, utc(MONDAY, "08:00"), utc(MONDAY, "08:30")) is Problem.OUTSIDE_HOURS
        assert fits_schedule(rules, utc(MONDAY, "08:01"), utc(MONDAY, "08:31")) is None
    # an end with seconds keeps them: a slot may end by it
    assert clocks(one_day(make_rules([Block(0, time(9), time(10, 0, 30))]))) == ["09:00", "09:30"]


def test_a_night_block_feeds_the_day_it_starts_and_the_next() -> None:
    rules = make_rules([NIGHT], duration=60)
    result = free_slots(rules, FRIDAY, SUNDAY, LONG_AGO)
    assert {day: clocks(slots) for day, slots in result.items()} == {
        FRIDAY: ["22:00", "23:00"],
        SATURDAY: ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"],
        SUNDAY: [],
    }
    # Asked for Saturday alone, the night before still counts; asked for Friday alone, it stops at midnight.
    assert clocks(one_day(rules, SATURDAY)) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]
    assert clocks(one_day(rules, FRIDAY)) == ["22:00", "23:00"]
    assert all(s.date() == day for day, slots in result.items() for s in slots)


def test_a_slot_may_cross_midnight_inside_a_night_block() -> None:
    rules = make_rules([NIGHT], duration=60, step=45)
    assert clocks(one_day(rules, FRIDAY)) == ["22:00", "22:45", "23:30"]  # 23:30 ends at 00:30 Saturday
    assert clocks(one_day(rules, SATURDAY)) == ["00:15", "01:00", "01:45", "02:30", "03:15", "04:00", "04:45"]
    start, problem = check_start(rules, datetime(2026, 6, 5, 23, 30), LONG_AGO)
    assert problem is None and start == utc(FRIDAY, "23:30")
    assert check_start(rules, datetime(2026, 6, 6, 1), LONG_AGO) == (utc(SATURDAY, "01:00"), None)
    assert check_start(rules, datetime(2026, 6, 6, 1, 30), LONG_AGO) == (None, Problem.OFF_GRID)
    assert check_start(rules, datetime(2026, 6, 6, 5, 30), LONG_AGO) == (None, Problem.OUTSIDE_HOURS)  # ends 06:30
    assert check_start(rules, datetime(2026, 6, 6, 7), LONG_AGO) == (None, Problem.OUTSIDE_HOURS)
    assert check_start(rules, datetime(2026, 6, 5, 21), LONG_AGO) == (None, Problem.OUTSIDE_HOURS)


def test_a_block_to_midnight_and_a_whole_day() -> None:
    evening = make_rules([Block(0, time(18), time(0))], duration=60)
    assert clocks(one_day(evening)) == every("18:00", "23:00", 60)
    assert one_day(evening, MONDAY + timedelta(days=1)) == []
    whole_day = make_rules([Block(0, time(0), time(0))], duration=1440)
    assert clocks(one_day(whole_day)) == ["00:00"]
    assert check_start(whole_day, datetime(2026, 6, 1, 0), LONG_AGO) == (utc(MONDAY, "00:00"), None)
    tuesday = MONDAY + timedelta(days=1)
    assert fits_schedule(whole_day, utc(MONDAY, "00:00"), utc(tuesday, "00:00")) is None
    assert fits_schedule(whole_day, utc(MONDAY, "00:01"), utc(tuesday, "00:01")) is Problem.OUTSIDE_HOURS
    assert clocks(one_day(make_rules([Block(0, time(0), time(0))], duration=60))) == every("00:00", "23:00", 60)


def test_time_off_and_buffers_across_midnight() -> None:
    rules = make_rules([NIGHT], duration=60)
    off = [span(FRIDAY, "23:30", "00:30", end_day=SATURDAY)]
    result = free_slots(rules, FRIDAY, SATURDAY, LONG_AGO, time_off=off)
    assert [clocks(v) for v in result.values()] == [["22:00"], ["01:00", "02:00", "03:00", "04:00", "05:00"]]
    assert check_start(rules, datetime(2026, 6, 6, 0), LONG_AGO, time_off=off) == (None, Problem.TIME_OFF)
    # an appointment just after midnight keeps its buffer from Friday's last slot
    buffered = make_rules([NIGHT], duration=60, before=10, after=5)
    taken = [span(SATURDAY, "00:00", "01:00")]
    result = free_slots(buffered, FRIDAY, SATURDAY, LONG_AGO, appointments=taken)
    assert [clocks(v) for v in result.values()] == [["22:00"], ["02:00", "03:00", "04:00", "05:00"]]
    assert check_start(buffered, datetime(2026, 6, 5, 23), LONG_AGO, appointments=taken) == (None, Problem.TAKEN)
    assert fits_schedule(buffered, utc(FRIDAY, "23:00"), utc(SATURDAY, "00:00"), taken) is Problem.TAKEN


def test_notice_and_horizon_across_midnight() -> None:
    rules = make_rules([NIGHT], duration=60, notice=120, horizon=0)  # only today (Friday) is bookable
    now = utc(FRIDAY, "20:30")
    assert list(free_slots(rules, FRIDAY, SATURDAY, now)) == [FRIDAY]  # the night's Saturday is beyond it
    assert clocks(free_slots(rules, FRIDAY, SATURDAY, now)[FRIDAY]) == ["23:00"]  # 22:00 is too soon
    assert check_start(rules, datetime(2026, 6, 6, 1), now) == (None, Problem.BEYOND_HORIZON)
    tomorrow = make_rules([NIGHT], duration=60, notice=120, horizon=1)
    saturday = free_slots(tomorrow, SATURDAY, SATURDAY, utc(FRIDAY, "23:30"))[SATURDAY]
    assert clocks(saturday) == every("02:00", "05:00", 60)


def test_fits_schedule_knows_night_blocks() -> None:
    rules = make_rules([NIGHT])
    assert fits_schedule(rules, utc(SATURDAY, "01:00"), utc(SATURDAY, "01:30")) is None
    assert fits_schedule(rules, utc(FRIDAY, "23:45"), utc(SATURDAY, "00:15")) is None
    assert fits_schedule(rules, utc(SATURDAY, "05:45"), utc(SATURDAY, "06:15")) is Problem.OUTSIDE_HOURS
    assert fits_schedule(rules, utc(SUNDAY, "01:00"), utc(SUNDAY, "01:30")) is Problem.OUTSIDE_HOURS


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Block(0, time(22), time(6)), Block(1, time(5), time(9)), True),
        (Block(0, time(22), time(6)), Block(1, time(6), time(9)), False),  # touching is not overlapping
        (Block(6, time(22), time(6)), Block(0, time(5), time(9)), True),  # Sunday night into Monday
        (Block(6, time(0), time(0)), Block(0, time(0), time(1)), False),
        (Block(6, time(0), time(0)), Block(6, time(23), time(1)), True),
        (Block(2, time(9), time(12)), Block(2, time(11), time(13)), True),
        (Block(2, time(9), time(12)), Block(3, time(9), time(12)), False),
        (Block(2, time(18), time(0)), Block(3, time(0), time(6)), False),
    ],
)
def test_blocks_overlap_across_midnight_and_the_end_of_the_week(a: Block, b: Block, overlap: bool) -> None:
    assert blocks_overlap(a, b) is overlap and blocks_overlap(b, a) is overlap


def test_blocks_that_overlap_offer_each_shared_start_once_and_the_day_in_order() -> None:
    """The schedule editor refuses blocks that share time, but older data may hold a night and the
    next morning that do: a start both offer is listed once, and the morning's starts fall into place
    among the night's."""
    midnight_twice = make_rules([Block(0, time(23), time(1)), Block(1, time(0), time(2))], duration=60)
    assert clocks(one_day(midnight_twice, TUESDAY)) == ["00:00", "01:00"]
    night_and_morning = make_rules([Block(0, time(22), time(6)), Block(1, time(4, 30), time(7, 30))], duration=60)
    result = free_slots(night_and_morning, MONDAY, TUESDAY, LONG_AGO)
    assert {day: clocks(slots) for day, slots in result.items()} == {
        MONDAY: ["22:00", "23:00"],
        TUESDAY: ["00:00", "01:00", "02:00", "03:00", "04:00", "04:30", "05:00", "05:30", "06:30"],
    }
    assert check_start(night_and_morning, datetime(2026, 6, 2, 4, 30), LONG_AGO) == (utc(TUESDAY, "04:30"), None)


def test_a_block_starting_in_its_days_last_minute_with_seconds_starts_its_slots_at_midnight() -> None:
    """23:59:30 (seconds from old data) rounds up to 24:00: the night's first slot is the next day's
    00:00, the first minute the provider is at work, and the day the block starts on gets none."""
    rules = make_rules([Block(0, time(23, 59, 30), time(6))], duration=60)
    result = free_slots(rules, MONDAY, TUESDAY, LONG_AGO)
    assert {day: clocks(slots) for day, slots in result.items()} == {MONDAY: [], TUESDAY: every("00:00", "05:00", 60)}
    assert check_start(rules, datetime(2026, 6, 2, 0), LONG_AGO) == (utc(TUESDAY, "00:00"), None)


def test_a_block_end_with_seconds_counts_to_the_second() -> None:
    """A block ending at 09:59:59 (old data) has no 09:30 slot: a half hour from then ends a second late."""
    rules = make_rules([Block(0, time(9), time(9, 59, 59))])
    assert clocks(one_day(rules)) == ["09:00"]
    assert check_start(rules, datetime(2026, 6, 1, 9, 30), LONG_AGO) == (None, Problem.OUTSIDE_HOURS)


# London's clocks go forward at 01:00 on 29 March 2026 and back at 02:00 on 25 October: a night block
# from the Saturday 22:00 to Sunday 06:00 lasts 7 and 9 real hours.
LONDON_NIGHTS = [
    pytest.param(
        date(2026, 3, 28), 7, ["22:00 GMT", "23:00 GMT"],
        ["00:00 GMT", "02:00 BST", "03:00 BST", "04:00 BST", "05:00 BST"],
        id="spring-forward",
    ),
    pytest.param(
        date(2026, 10, 24), 9, ["22:00 BST", "23:00 BST"],
        ["00:00 BST", "01:00 BST", "02:00 GMT", "03:00 GMT", "04:00 GMT", "05:00 GMT"],
        id="fall-back",
    ),
]


@pytest.mark.parametrize(("saturday", "hours", "evening", "morning"), LONDON_NIGHTS)
def test_a_night_block_over_a_london_clock_change(saturday: date, hours: int, evening: list[str],
                                                  morning: list[str]) -> None:
    zone = ZoneInfo(LONDON)
    night = Block(5, time(22), time(6))
    sunday = saturday + timedelta(days=1)
    start = datetime.combine(saturday, time(22), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(sunday, time(6), tzinfo=zone).astimezone(UTC)
    assert end - start == timedelta(hours=hours)
    rules = make_rules([night], zone=LONDON, duration=60)
    result = free_slots(rules, saturday, sunday, LONG_AGO)
    assert [labels(v) for v in result.values()] == [evening, morning]
    # half-hour slots: none in the skipped hour, the repeated hour once, every one inside the block
    half = make_rules([night], zone=LONDON, duration=30)
    slots = [s for v in free_slots(half, saturday, sunday, LONG_AGO).values() for s in v]
    walls = [s.replace(tzinfo=None) for s in slots]
    assert len(walls) == len(set(walls)) == 16 - (2 if hours == 7 else 0)
    assert all(start <= s.astimezone(UTC) and s.astimezone(UTC) + half.duration <= end for s in slots)
    for slot in slots:
        assert check_start(half, slot.replace(tzinfo=None), LONG_AGO) == (slot.astimezone(UTC), None)
    if hours == 7:
        assert check_start(half, datetime(2026, 3, 29, 1, 30), LONG_AGO) == (None, Problem.DOES_NOT_EXIST)
    else:  # 01:30 is the first (BST) one; the GMT one is not offered
        first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        assert check_start(half, datetime(2026, 10, 25, 1, 30), LONG_AGO) == (first, None)
        assert "01:30 GMT" not in labels(slots)


# --- clock changes ---------------------------------------------------------------------------------

# 2026 transitions, as zoneinfo reports them: New York 8 Mar 02:00 -> 03:00 and 1 Nov 02:00 -> 01:00;
# London 29 Mar 01:00 -> 02:00 and 25 Oct 02:00 -> 01:00; Lord Howe (30 minutes) 5 Apr 02:00 -> 01:30
# and 4 Oct 02:00 -> 02:30 (the first Sundays of April and October).
DST_DAYS = [
    pytest.param(
        NEW_YORK, date(2026, 3, 8),
        ["00:00 EST", "00:30 EST", "01:00 EST", "01:30 EST", "03:00 EDT", "03:30 EDT"],
        id="new-york-spring-forward",
    ),
    pytest.param(
        NEW_YORK, date(2026, 11, 1),
        ["00:00 EDT", "00:30 EDT", "01:00 EDT", "01:30 EDT", "02:00 EST", "02:30 EST", "03:00 EST", "03:30 EST"],
        id="new-york-fall-back",
    ),
    pytest.param(
        LONDON, date(2026, 3, 29),
        ["00:00 GMT", "00:30 GMT", "02:00 BST", "02:30 BST", "03:00 BST", "03:30 BST"],
        id="london-spring-forward",
    ),
    pytest.param(
        LONDON, date(2026, 10, 25),
        ["00:00 BST", "00:30 BST", "01:00 BST", "01:30 BST", "02:00 GMT", "02:30 GMT", "03:00 GMT", "03:30 GMT"],
        id="london-fall-back",
    ),
    pytest.param(
        LORD_HOWE, date(2026, 4, 5),
        ["00:00 +11", "00:30 +11", "01:00 +11", "01:30 +11",
         "02:00 +1030", "02:30 +1030", "03:00 +1030", "03:30 +1030"],
        id="lord-howe-back-half-an-hour",
    ),
    pytest.param(
        LORD_HOWE, date(2026, 10, 4),
        ["00:00 +1030", "00:30 +1030", "01:00 +1030", "01:30 +1030", "02:30 +11", "03:00 +11", "03:30 +11"],
        id="lord-howe-forward-half-an-hour",
    ),
]


def test_the_dst_dates_used_here_are_the_real_2026_transitions() -> None:
    for param in DST_DAYS:
        zone_name, day, _ = param.values
        zone = ZoneInfo(zone_name)
        assert day.weekday() == 6
        midnight, next_midnight = (datetime.combine(day + timedelta(days=n), time(0), tzinfo=zone) for n in (0, 1))
        assert midnight.utcoffset() != next_midnight.utcoffset()
        assert (midnight - timedelta(days=1)).utcoffset() == midnight.utcoffset()
    assert date(2026, 4, 5) == min(date(2026, 4, d) for d in range(1, 8) if date(2026, 4, d).weekday() == 6)
    assert date(2026, 10, 4) == min(date(2026, 10, d) for d in range(1, 8) if date(2026, 10, d).weekday() == 6)


@pytest.mark.parametrize(("zone_name", "day", "expected"), DST_DAYS)
def test_slots_on_a_clock_change_day(zone_name: str, day: date, expected: list[str]) -> None:
    zone = ZoneInfo(zone_name)
    rules = make_rules([Block(day.weekday(), time(0), time(4))], zone=zone_name)
    slots = one_day(rules, day)
    assert labels(slots) == expected

    block_start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    block_end = datetime.combine(day, time(4), tzinfo=zone).astimezone(UTC)
    real_length = block_end - block_start  # 3, 3.5, 4.5 or 5 hours, not 4
    offsets = [datetime.combine(day, clock, tzinfo=zone).utcoffset() for clock in (time(0), time(4))]
    repeated = max(timedelta(0), offsets[0] - offsets[1])  # wall times the clocks went back over
    # Every real half hour of the block holds a slot, except the second run of repeated wall times.
    assert len(slots) == (real_length - repeated) // rules.duration
    walls = [s.replace(tzinfo=None) for s in slots]
    assert len(set(walls)) == len(walls)
    for slot, wall in zip(slots, walls):
        instant = slot.astimezone(UTC)
        assert instant.astimezone(zone).replace(tzinfo=None) == wall  # exists: not in the skipped times
        occurrences = {wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)}
        assert instant == min(occurrences)  # the first occurrence of a repeated wall time
        assert block_start <= instant and instant + rules.duration <= block_end
    assert [s.astimezone(UTC) for s in slots] == sorted(s.astimezone(UTC) for s in slots)


@pytest.mark.parametrize(
    ("zone_name", "wall"),
    [
        (NEW_YORK, datetime(2026, 3, 8, 2, 0)),
        (NEW_YORK, datetime(2026, 3, 8, 2, 30)),
        (LONDON, datetime(2026, 3, 29, 1, 0)),
        (LONDON, datetime(2026, 3, 29, 1, 30)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 0)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 15)),
    ],
)
def test_check_start_in_a_skipped_wall_time_does_not_exist(zone_name: str, wall: datetime) -> None:
    rules = make_rules([Block(6, time(0), time(4))], zone=zone_name, step=15)
    assert check_start(rules, wall, LONG_AGO) == (None, Problem.DOES_NOT_EXIST)
    assert check_start(rules, wall - timedelta(hours=1), LONG_AGO)[1] is None  # the same rules allow an hour earlier


@pytest.mark.parametrize(
    ("zone_name", "wall", "instant"),
    [
        (NEW_YORK, datetime(2026, 11, 1, 1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (LONDON, datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 30), datetime(2026, 4, 4, 14, 30, tzinfo=UTC)),
    ],
)
def test_check_start_on_a_repeated_wall_time_means_its_first_occurrence(
    zone_name: str, wall: datetime, instant: datetime
) -> None:
    rules = make_rules([Block(6, time(0), time(4))], zone=zone_name)
    start, problem = check_start(rules, wall, LONG_AGO)
    assert problem is None and start is not None
    assert start == instant and start.tzinfo == UTC  # an instant in UTC: no ambiguity left
    assert start.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None) == wall


@pytest.mark.parametrize(
    ("zone_name", "day", "block", "expected"),
    [
        # 01:00-03:00 on the New York spring-forward day is one real hour: 01:30 EST + 1h is 03:30 EDT.
        (NEW_YORK, date(2026, 3, 8), Block(6, time(1), time(3)), ["01:00 EST"]),
        # 00:00-02:00 on the London spring-forward day is one real hour: 00:30 GMT + 1h is 02:30 BST.
        (LONDON, date(2026, 3, 29), Block(6, time(0), time(2)), ["00:00 GMT"]),
        # 00:00-02:00 on the New York fall-back day is three real hours: 01:30 EDT + 1h is 01:30 EST.
        (NEW_YORK, date(2026, 11, 1), Block(6, time(0), time(2)), ["00:00 EDT", "00:30 EDT", "01:00 EDT", "01:30 EDT"]),
        # 00:00-02:00 on the London fall-back day, likewise.
        (LONDON, date(2026, 10, 25), Block(6, time(0), time(2)), ["00:00 BST", "00:30 BST", "01:00 BST", "01:30 BST"]),
    ],
)
def test_a_slot_across_a_clock_change_lasts_real_time_and_must_end_by_the_block_end(
    zone_name: str, day: date, block: Block, expected: list[str]
) -> None:
    rules = make_rules([block], zone=zone_name, duration=60, step=30)
    assert labels(one_day(rules, day)) == expected
    for label in expected:
        wall = datetime.combine(day, hhmm(label[:5]))
        assert check_start(rules, wall, LONG_AGO)[1] is None


@pytest.mark.parametrize(
    ("zone_name", "day", "block", "duration", "expected"),
    [
        # 02:30 does not exist on 8 March in New York: the block ends at the jump, 03:00 EDT (07:00Z), so a
        # 45-minute slot may start no later than 01:15 EST.
        (NEW_YORK, date(2026, 3, 8), Block(6, time(0), time(2, 30)), 45, every("00:00", "01:15", 15)),
        # 02:15 does not exist on 4 October on Lord Howe: the block ends at 02:30 +11, so 01:30 +1030 is last.
        (LORD_HOWE, date(2026, 10, 4), Block(6, time(0), time(2, 15)), 30, every("00:00", "01:30", 15)),
    ],
)
def test_a_block_ending_in_skipped_wall_time_ends_when_the_clocks_jump(
    zone_name: str, day: date, block: Block, duration: int, expected: list[str]
) -> None:
    rules = make_rules([block], zone=zone_name, duration=duration, step=15)
    assert clocks(one_day(rules, day)) == expected


def test_check_start_measures_a_slot_across_fall_back_in_real_time_against_time_off() -> None:
    # 01:30 EDT (05:30Z) for 30 minutes ends at 06:00Z; time off 06:30Z-06:45Z (01:30-01:45 EST) is later.
    rules = make_rules([Block(6, time(0), time(4))], zone=NEW_YORK)
    time_off = [span(date(2026, 11, 1), "06:30", "06:45")]
    assert "01:30 EDT" in labels(one_day(rules, date(2026, 11, 1), time_off=time_off))
    start, problem = check_start(rules, datetime(2026, 11, 1, 1, 30), LONG_AGO, time_off=time_off)
    assert problem is None and start is not None and start.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_check_start_measures_a_slot_across_spring_forward_in_real_time_against_appointments() -> None:
    # 01:00 EST (06:00Z) for two hours ends at 08:00Z (04:00 EDT): it overlaps 07:30Z-07:45Z (03:30 EDT).
    rules = make_rules([Block(6, time(0), time(6))], zone=NEW_YORK, duration=120, step=60)
    taken = [span(date(2026, 3, 8), "07:30", "07:45")]
    assert "01:00 EST" not in labels(one_day(rules, date(2026, 3, 8), appointments=taken))
    assert check_start(rules, datetime(2026, 3, 8, 1), LONG_AGO, appointments=taken) == (None, Problem.TAKEN)
    assert check_start(rules, datetime(2026, 3, 8, 1), LONG_AGO, time_off=taken) == (None, Problem.TIME_OFF)


def test_a_start_offered_exactly_at_now_with_no_notice_is_also_accepted_by_check_start() -> None:
    rules = make_rules(notice=0)
    now = utc(MONDAY, "09:00")
    offered = datetime(2026, 6, 1, 9) in [s.replace(tzinfo=None) for s in one_day(rules, now=now)]
    accepted = check_start(rules, datetime(2026, 6, 1, 9), now)[1] is None
    assert offered == accepted


@pytest.mark.parametrize(
    ("zone_name", "jump"),
    [
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 7, tzinfo=UTC), id="new-york-0215-ends-0300-edt"),
        pytest.param(LORD_HOWE, datetime(2026, 10, 3, 15, 30, tzinfo=UTC), id="lord-howe-0215-ends-0230"),
    ],
)
def test_a_block_ending_in_skipped_wall_time_ends_at_the_jump_to_the_minute(zone_name: str, jump: datetime) -> None:
    """02:15 does not exist on these Sundays: the block ends the moment the clocks jump, not a minute
    after, so a request may run up to the jump and not a minute past it."""
    rules = make_rules([Block(6, time(0), time(2, 15))], zone=zone_name)
    start = jump - timedelta(hours=1)
    assert fits_schedule(rules, start, jump) is None
    assert fits_schedule(rules, start, jump + MINUTE) is Problem.OUTSIDE_HOURS


def test_a_repeated_wall_time_means_its_first_occurrence_whatever_fold_the_datetime_carries() -> None:
    """A wall time read off the second run of a repeated hour (an existing 01:30 EST shown as a naive
    time) carries fold=1; as a start it still names 01:30 EDT, the one instant that start means."""
    rules = make_rules([Block(6, time(0), time(4))], zone=NEW_YORK)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC).astimezone(ZoneInfo(NEW_YORK)).replace(tzinfo=None)
    assert second.fold == 1 and second == datetime(2026, 11, 1, 1, 30)
    assert check_start(rules, second, LONG_AGO) == (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), None)


def test_only_blocks_that_meet_a_clock_change_ask_the_zone_about_each_wall_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's cost rests on this: on a day without a clock change a wall time is a fixed offset
    from UTC, so a block's slots are a plain range of integers; only a block that a clock change falls
    in walks its wall times one by one through the zone. New York moves its clocks on Sunday 8 March
    2026: that day's block walks, while the days around it, a night between two ordinary days and an
    evening to 24:00 on the eve of the change take the fixed offsets."""
    walked: list[tuple[date, Block]] = []
    walk = availability._dated_starts

    def spy(day: date, block: Block, rules: Rules, zone: ZoneInfo) -> list[tuple[date, list[int]]]:
        walked.append((day, block))
        return walk(day, block, rules, zone)

    monkeypatch.setattr(availability, "_dated_starts", spy)
    sunday = Block(6, time(9), time(17))
    thursday_night, saturday_evening = Block(3, time(22), time(6)), Block(5, time(18), time(0))
    rules = make_rules(
        [Block(weekday, time(9), time(17)) for weekday in range(6)] + [sunday, thursday_night, saturday_evening],
        zone=NEW_YORK, duration=60,
    )
    result = free_slots(rules, date(2026, 3, 2), date(2026, 3, 9), LONG_AGO)
    assert walked == [(date(2026, 3, 8), sunday)]
    assert clocks(result[date(2026, 3, 6)]) == every("00:00", "05:00", 60) + every("09:00", "16:00", 60)
    assert clocks(result[date(2026, 3, 7)]) == every("09:00", "16:00", 60) + every("18:00", "23:00", 60)
    assert labels(result[date(2026, 3, 8)]) == [f"{hour:02}:00 EDT" for hour in range(9, 17)]


# --- properties ------------------------------------------------------------------------------------

NUUK = "America/Nuuk"  # springs forward late on a Saturday evening, local time
ZONES = [NEW_YORK, LONDON, LORD_HOWE, "UTC", "America/Santiago", "Asia/Kathmandu", NUUK]


def _transitions(zone_name: str) -> list[datetime]:
    """The instants (UTC) in 2026 at which the zone's UTC offset changes: day by day, then to the minute."""
    zone, found = ZoneInfo(zone_name), []
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    while instant.year == 2026:
        offset = instant.astimezone(zone).utcoffset()
        if (instant + timedelta(days=1)).astimezone(zone).utcoffset() != offset:
            change = instant
            for unit in (timedelta(hours=1), MINUTE):
                while (change + unit).astimezone(zone).utcoffset() == offset:
                    change += unit
            found.append(change + MINUTE)
        instant += timedelta(days=1)
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, database=None)


def test_the_property_tests_know_each_zones_clock_changes() -> None:
    assert {zone: len(changes) for zone, changes in TRANSITIONS.items()} == {
        NEW_YORK: 2, LONDON: 2, LORD_HOWE: 2, "UTC": 0, "America/Santiago": 2, "Asia/Kathmandu": 0, NUUK: 2
    }
    assert TRANSITIONS[NEW_YORK] == [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)]
    assert TRANSITIONS[LORD_HOWE] == [datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)]


def _clock(units: int) -> time:
    """A 5-minute unit of the day as a wall-clock time."""
    return time(units * 5 // 60, units * 5 % 60)


# Strategies built once (building them inside the composites below is most of the cost of a run).
FIVE_MINUTES = timedelta(minutes=5)
WEEKDAYS = st.sets(st.integers(0, 6), min_size=1)
NIGHT_OR_DAY = st.one_of(st.integers(0, 40), st.integers(0, 250))  # a block's first start, in 5-minute units
BEFORE_HOTSPOT = st.integers(-30, 0)  # within 2.5 hours before a clock change
BLOCKS_A_DAY = st.integers(1, 3)
BLOCK_LENGTH = st.one_of(st.integers(1, 36), st.integers(1, 100))  # often up to three hours
BREAK = st.integers(0, 30)
NIGHTS = st.sampled_from([False, False, False, True])  # the day's last block runs overnight
EVENING = st.integers(216, 287)  # 18:00-23:55
START_SECONDS = st.one_of(st.just(0), st.just(0), st.integers(1, 59 * 10**6 + 999_999))  # in microseconds
NEAR_RANGE = st.integers(-288, 15 * 288)  # 5-minute units from the range's first midnight (UTC)
NEAR_HOTSPOT = st.integers(-48, 48)  # 5-minute units around a clock change
SECONDS = st.one_of(st.just(0), st.integers(-59, 59))
MICROSECONDS = st.sampled_from([0, 0, 1, -1])
BOOLEANS = st.booleans()


@st.composite
def block_lists(draw: st.DrawFn, hotspot: datetime | None) -> list[Block]:
    """1-3 blocks on random weekdays; near `hotspot` (a local clock change) on its weekday, when given.

    The last block of a day may run to midnight or overnight into the next day (then it may overlap
    that day's first blocks, which the engine must cope with); a start may carry seconds, as old data
    does. Evening starts before a hotspot make nights that cross a clock change.
    """
    weekdays = draw(WEEKDAYS) | ({hotspot.weekday()} if hotspot else set())
    blocks = []
    for weekday in sorted(weekdays):
        if hotspot and weekday == hotspot.weekday() and draw(BOOLEANS):
            cursor = max(0, (hotspot.hour * 60 + hotspot.minute) // 5 + draw(BEFORE_HOTSPOT))
        elif hotspot and (weekday + 1) % 7 == hotspot.weekday() and draw(BOOLEANS):
            cursor = draw(EVENING)  # the night before a clock change
        else:
            cursor = draw(NIGHT_OR_DAY)  # often in the night, when clocks change
        for _ in range(draw(BLOCKS_A_DAY)):
            end = cursor + draw(BLOCK_LENGTH)
            if end >= 288 or draw(NIGHTS):
                end = min(end, cursor + 288)
                blocks.append(Block(weekday, _start_clock(cursor, draw(START_SECONDS)), _clock(end % 288)))
                break  # ends at midnight or the next day
            blocks.append(Block(weekday, _start_clock(cursor, draw(START_SECONDS)), _clock(end)))
            cursor = end + draw(BREAK)
            if cursor >= 288:
                break
    return draw(st.permutations(blocks))


def _start_clock(units: int, seconds: int) -> time:
    """A block start, sometimes with seconds and microseconds (data from before whole minutes)."""
    return _clock(units).replace(second=seconds // 10**6, microsecond=seconds % 10**6)


@st.composite
def intervals(draw: st.DrawFn, origin: datetime, hotspot: datetime | None, lengths: st.SearchStrategy[int],
              counts: st.SearchStrategy[int]) -> list[Interval]:
    """UTC intervals near the range (or within four hours of `hotspot`), in no order, to the microsecond."""
    out = []
    for _ in range(draw(counts)):
        if hotspot and draw(BOOLEANS):
            start = hotspot + draw(NEAR_HOTSPOT) * FIVE_MINUTES
        else:
            start = origin + draw(NEAR_RANGE) * FIVE_MINUTES
        start += timedelta(seconds=draw(SECONDS), microseconds=draw(MICROSECONDS))
        out.append(Interval(start, start + timedelta(minutes=draw(lengths))))
    return out


ZONE_NAMES = st.sampled_from(ZONES)
DAY_COUNTS = st.integers(1, 14)
OFFSETS_INTO_RANGE = st.integers(0, 13)
DATES = st.dates(date(2026, 1, 1), date(2026, 12, 31))
STEPS = st.one_of(st.none(), st.integers(1, 18).map(lambda n: 5 * n))
DURATIONS = st.integers(2, 18).map(lambda n: 5 * n)
BUFFERS = st.integers(0, 30)
NOTICES = st.integers(0, 360)
HORIZONS = st.integers(1, 60)
NOW_BEFORE = st.integers(-3 * 1440, 0)  # minutes from the range's first midnight (UTC)
NOW_ANYWHERE = st.integers(0, 10**6)  # reduced below to 3 days before the range to a day after it
NOW_SECONDS = st.one_of(st.just(0), st.integers(0, 59))
NOW_MICROSECONDS = st.sampled_from([0, 0, 1, 999_999])
APPOINTMENT_LENGTHS, APPOINTMENT_COUNTS = st.integers(1, 180), st.integers(0, 10)
TIME_OFF_LENGTHS, TIME_OFF_COUNTS = st.integers(1, 3 * 1440), st.integers(0, 4)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    zone = draw(ZONE_NAMES)
    days = draw(DAY_COUNTS)
    hotspot = draw(st.sampled_from(TRANSITIONS[zone])) if TRANSITIONS[zone] and draw(BOOLEANS) else None
    # The last local minute before a clock change, so that blocks around it can cover it.
    local_hotspot = (hotspot - MINUTE).astimezone(ZoneInfo(zone)).replace(tzinfo=None) if hotspot else None
    if local_hotspot:  # a range with a clock change in it
        first_day = local_hotspot.date() - timedelta(days=draw(OFFSETS_INTO_RANGE) % days)
    else:
        first_day = draw(DATES)
    rules = make_rules(
        draw(block_lists(local_hotspot)),
        zone=zone,
        duration=draw(DURATIONS),
        step=draw(STEPS),
        before=draw(BUFFERS),
        after=draw(BUFFERS),
        notice=draw(NOTICES),
        horizon=draw(HORIZONS),
    )
    origin = datetime.combine(first_day, time(0), tzinfo=UTC)
    minutes = draw(NOW_BEFORE) if draw(BOOLEANS) else draw(NOW_ANYWHERE) % ((days + 4) * 1440) - 3 * 1440
    now = origin + timedelta(minutes=minutes, seconds=draw(NOW_SECONDS), microseconds=draw(NOW_MICROSECONDS))
    return {
        "rules": rules,
        "first_day": first_day,
        "last_day": first_day + timedelta(days=days - 1),
        "now": now,
        "appointments": draw(intervals(origin, hotspot, APPOINTMENT_LENGTHS, APPOINTMENT_COUNTS)),
        "time_off": draw(intervals(origin, hotspot, TIME_OFF_LENGTHS, TIME_OFF_COUNTS)),
    }


def _instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant a naive wall time names in `zone`, or None if the clocks skip it."""
    real = [
        aware.astimezone(UTC)
        for aware in (wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1))
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    ]
    return min(real) if real else None


def _walls(day: date, block: Block) -> tuple[datetime, datetime]:
    """The naive wall-clock start and end of the block starting on `day`, as the rules say: an end at
    or before the start is the next day's."""
    end_day = day + timedelta(days=1) if block.end <= block.start else day
    return datetime.combine(day, block.start), datetime.combine(end_day, block.end)


def _first_grid_wall(day: date, block: Block) -> datetime:
    """The block's first slot time: its start, or the next whole minute after a start with seconds."""
    start = _walls(day, block)[0]
    whole = start.replace(second=0, microsecond=0)
    return whole if whole == start else whole + MINUTE


def _block_end(day: date, block: Block, zone: ZoneInfo) -> datetime:
    """The instant a block ends: its wall end's first occurrence, or, in a skipped hour, the jump."""
    wall = _walls(day, block)[1]
    instant = _instant(wall, zone)
    if instant is not None:
        return instant
    probe = min(wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    while probe.astimezone(zone).replace(tzinfo=None) < wall:
        probe += MINUTE
    return probe


def _grid_walls(day: date, block: Block, grid: timedelta) -> list[datetime]:
    walls, wall = [], _first_grid_wall(day, block)
    while wall < _walls(day, block)[1]:
        walls.append(wall)
        wall += grid
    return walls


def _occurrences(rules: Rules, day: date) -> list[tuple[date, Block]]:
    """The blocks that may hold slots starting on `day`: that day's and the night before's."""
    return [(d, b) for d in (day - timedelta(days=1), day) for b in rules.blocks if b.weekday == d.weekday()]


def reference(rules: Rules, first_day: date, last_day: date, now: datetime,
              appointments: list[Interval], time_off: list[Interval]) -> dict[date, list[datetime]]:
    """Slow and plain: every grid wall time of every block, every rule checked against every input."""
    zone = ZoneInfo(rules.zone)
    horizon = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
    grid = rules.step or rules.duration
    before, after = rules.buffer_before, rules.buffer_after
    out: dict[date, list[datetime]] = {}
    day = first_day
    while day <= last_day and day <= horizon:
        slots = set()
        for block_day, block in _occurrences(rules, day):
            block_end = _block_end(block_day, block, zone)
            for wall in _grid_walls(block_day, block, grid):
                start = _instant(wall, zone)
                if start is None or wall.date() != day:
                    continue
                end = start + rules.duration  # UTC arithmetic: real elapsed time
                if end > block_end or start < now + rules.min_notice:
                    continue
                if any(t.start < end and start < t.end for t in time_off):
                    continue
                if any(start - before < a.end + after and a.start - before < end + after for a in appointments):
                    continue
                slots.add(start)
        out[day] = sorted(slots)
        day += timedelta(days=1)
    return out


def _run(scenario: dict) -> dict[date, list[datetime]]:
    return free_slots(
        scenario["rules"], scenario["first_day"], scenario["last_day"], scenario["now"],
        scenario["appointments"], scenario["time_off"],
    )


def known_case(
    zone: str,
    block: Block,
    day: date,
    duration: int,
    step: int | None = None,
    now: datetime | None = None,
    appointments: tuple[Interval, ...] = (),
    time_off: tuple[Interval, ...] = (),
) -> dict:
    """A scenario written by hand: one block, one day, no notice, `now` ten days before (for @example)."""
    return {
        "rules": make_rules([block], zone=zone, duration=duration, step=step, notice=0, horizon=30),
        "first_day": day,
        "last_day": day,
        "now": now or datetime.combine(day - timedelta(days=10), time(12), tzinfo=UTC),
        "appointments": list(appointments),
        "time_off": list(time_off),
    }


# Found by these properties (see the unit tests above for the same cases, one rule at a time).
SPRING_FORWARD_OVERRUN = known_case(LONDON, Block(6, time(0), time(1)), date(2026, 3, 29), 25)
FALL_BACK_MISSED = known_case(NEW_YORK, Block(6, time(0), time(2)), date(2026, 11, 1), 60, step=30)
FALL_BACK_TIME_OFF = known_case(
    NEW_YORK, Block(6, time(0), time(4)), date(2026, 11, 1), 30, time_off=(span(date(2026, 11, 1), "06:30", "06:45"),)
)
SPRING_FORWARD_TAKEN = known_case(
    NEW_YORK, Block(6, time(0), time(6)), date(2026, 3, 8), 120, step=60,
    appointments=(span(date(2026, 3, 8), "07:30", "07:45"),),
)
NO_NOTICE_AT_NOW = known_case("UTC", Block(0, time(9), time(10)), MONDAY, 30, now=utc(MONDAY, "09:00"))


@PROPERTY_SETTINGS
@given(scenarios())
@example(SPRING_FORWARD_OVERRUN)
def test_property_every_slot_obeys_every_rule(scenario: dict) -> None:
    rules, now = scenario["rules"], scenario["now"]
    zone = ZoneInfo(rules.zone)
    horizon = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
    for day, slots in _run(scenario).items():
        assert scenario["first_day"] <= day <= min(scenario["last_day"], horizon)
        instants = [s.astimezone(UTC) for s in slots]
        assert instants == sorted(set(instants))
        for slot in slots:
            assert slot.tzinfo == zone and slot.date() == day
            wall, start = slot.replace(tzinfo=None), slot.astimezone(UTC)
            end = start + rules.duration
            assert _instant(wall, zone) == start  # exists, first occurrence
            homes = [
                (d, b) for d, b in _occurrences(rules, day)
                if _walls(d, b)[0] <= wall < _walls(d, b)[1]  # never before the provider starts
                and (wall - _first_grid_wall(d, b)) % rules.grid == timedelta(0)
                and end <= _block_end(d, b, zone)  # ...nor ends after the block does
            ]
            assert homes, f"{slot} is not on a block's grid or runs past its end"
            assert start >= now + rules.min_notice
            assert not any(t.start < end and start < t.end for t in scenario["time_off"])
            gap = rules.buffer_before + rules.buffer_after
            assert all(end + gap <= a.start or a.end + gap <= start for a in scenario["appointments"])


@PROPERTY_SETTINGS
@given(scenarios())
@example(SPRING_FORWARD_OVERRUN)
@example(FALL_BACK_MISSED)
def test_property_free_slots_equals_a_slow_reference(scenario: dict) -> None:
    got = {day: [s.astimezone(UTC) for s in slots] for day, slots in _run(scenario).items()}
    expected = reference(**scenario)
    assert got == expected


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(scenarios(), st.lists(st.integers(0, 10**6), max_size=15))
@example(FALL_BACK_TIME_OFF, [])
@example(SPRING_FORWARD_TAKEN, [1])  # the block's second grid time: 01:00 EST
@example(NO_NOTICE_AT_NOW, [])
def test_property_check_start_agrees_with_free_slots(scenario: dict, picks: list[int]) -> None:
    """Every offered slot passes check_start with the same instant; grid times (and a minute after them)
    that are not offered get a problem."""
    rules = scenario["rules"]
    inputs = {"appointments": scenario["appointments"], "time_off": scenario["time_off"]}
    offered = set()
    for slots in _run(scenario).values():
        for slot in slots:
            wall = slot.replace(tzinfo=None)
            offered.add(wall)
            start, problem = check_start(rules, wall, scenario["now"], **inputs)
            assert problem is None and start is not None, (slot, problem)
            assert start == slot.astimezone(UTC) and start.tzinfo == UTC
    span_days = (scenario["last_day"] - scenario["first_day"]).days + 1
    candidates = [
        wall
        for day in (scenario["first_day"] + timedelta(days=n) for n in range(-1, span_days))
        for block in sorted(rules.blocks, key=lambda b: (b.weekday, b.start))
        if block.weekday == day.weekday()
        for wall in _grid_walls(day, block, rules.grid)
        if scenario["first_day"] <= wall.date() <= scenario["last_day"]  # a night may start the day before
    ]
    for pick in picks if candidates else []:
        wall = candidates[pick % len(candidates)]
        for probe in (wall, wall + MINUTE):
            if probe not in offered:
                start, problem = check_start(rules, probe, scenario["now"], **inputs)
                assert start is None and problem is not None, (probe, start)


def test_a_clock_change_late_in_the_evening_is_noticed() -> None:
    # Nuuk's spring-forward hour is late on the Saturday evening: midnight and noon share an offset.
    zone = ZoneInfo(NUUK)
    jump = next(t for t in TRANSITIONS[NUUK] if t.month == 3)
    before = (jump - MINUTE).astimezone(zone)
    assert before.hour >= 20 and before.utcoffset() < jump.astimezone(zone).utcoffset()
    case = known_case(NUUK, Block(before.weekday(), time(12), time(23, 55)), before.date(), 30)
    slots = _run(case)[before.date()]
    assert slots and all(_instant(s.replace(tzinfo=None), zone) == s.astimezone(UTC) for s in slots)
    block_end = _block_end(before.date(), case["rules"].blocks[0], zone)
    assert all(s.astimezone(UTC) + case["rules"].duration <= block_end for s in slots)
    assert {day: [s.astimezone(UTC) for s in v] for day, v in _run(case).items()} == reference(**case)


NIGHT_STARTS, NIGHT_ENDS = st.integers(17, 21), st.integers(5, 9)  # whole hours
NIGHT_DURATIONS = st.sampled_from([5, 10, 15, 30])  # divide every clock change (Lord Howe's is 30 minutes)


@PROPERTY_SETTINGS
@given(st.sampled_from([z for z in ZONES if TRANSITIONS[z]]), st.data(), NIGHT_STARTS, NIGHT_ENDS, NIGHT_DURATIONS)
def test_property_a_night_over_a_clock_change_has_a_slot_for_each_wall_time_once(
    zone_name: str, data: st.DataObject, start_hour: int, end_hour: int, minutes: int
) -> None:
    """A night block around a clock change: as many slots as real time allows minus the repeated wall
    times (offered once), none in skipped time, each inside the block, and each date the slot's own."""
    zone = ZoneInfo(zone_name)
    change = data.draw(st.sampled_from(TRANSITIONS[zone_name]))
    local = (change - MINUTE).astimezone(zone)
    evening = local.date() if local.hour >= 12 else local.date() - timedelta(days=1)
    night = Block(evening.weekday(), time(start_hour), time(end_hour))
    rules = make_rules([night], zone=zone_name, duration=minutes)
    result = free_slots(rules, evening, evening + timedelta(days=1), LONG_AGO)
    start = _instant(datetime.combine(evening, night.start), zone)
    end = _block_end(evening, night, zone)
    assert start is not None
    offsets = [t.astimezone(zone).utcoffset() for t in (start, end)]
    repeated = max(timedelta(0), offsets[0] - offsets[1])
    slots = [s for v in result.values() for s in v]
    assert len(slots) == (end - start - repeated) // rules.duration
    for day, day_slots in result.items():
        for slot in day_slots:
            assert slot.date() == day and _instant(slot.replace(tzinfo=None), zone) == slot.astimezone(UTC)
            assert start <= slot.astimezone(UTC) and slot.astimezone(UTC) + rules.duration <= end
    walls = [s.replace(tzinfo=None) for s in slots]
    assert len(set(walls)) == len(walls)


FIVE_MINUTE_CLOCKS = st.integers(0, 287).map(_clock)


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(st.integers(0, 6), FIVE_MINUTE_CLOCKS, FIVE_MINUTE_CLOCKS, st.integers(0, 6), FIVE_MINUTE_CLOCKS,
       FIVE_MINUTE_CLOCKS)
def test_property_blocks_overlap_when_they_share_a_minute_of_the_week(
    a_day: int, a_start: time, a_end: time, b_day: int, b_start: time, b_end: time
) -> None:
    """Against the plain definition: the sets of week minutes (mod a week) each block covers."""
    def minutes(block: Block) -> set[int]:
        start = block.weekday * 1440 + block.start.hour * 60 + block.start.minute
        length = (block.end.hour * 60 + block.end.minute) - (block.start.hour * 60 + block.start.minute)
        length = length if length > 0 else length + 1440  # at or before the start: the next day
        return {(start + m) % (7 * 1440) for m in range(length)}

    a, b = Block(a_day, a_start, a_end), Block(b_day, b_start, b_end)
    assert blocks_overlap(a, b) is bool(minutes(a) & minutes(b))
