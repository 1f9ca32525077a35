"""The availability engine: which start times a provider can still be booked at.

Pure Python on sorted intervals; no Flask, no SQLAlchemy. Everything is decided here, and the booking
service asks the same questions again (`check_start`) inside its locking transaction.

Rules, in the provider's own time zone:
* Slots start on a wall-clock grid: each working-hours block's start, then every `step` after it.
  A wall time that does not exist (the hour skipped when clocks go forward) has no slot; a wall time
  that happens twice (clocks go back) has one slot, at its first occurrence, because a start is named
  by its wall time (`YYYY-MM-DDTHH:MM`) and must mean one instant.
* A slot lasts `duration` of real elapsed time and must end by its block's end.
* Buffers keep time around appointments: each appointment occupies [start - before, end + after), and
  two appointments' occupied spans may not overlap. Buffers apply between appointments only.
* No overlap with time off; starts at least `min_notice` after now; dates up to `horizon_days` after
  today (in the provider's zone).
"""
from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Block:
    """Working hours on one weekday (0 = Monday), wall-clock times in the provider's zone."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Interval:
    """A span of real time, [start, end), with aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything about a provider and a service that decides where slots are."""

    zone: str
    blocks: Sequence[Block]
    duration: timedelta
    step: timedelta | None = None  # None: the duration
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(hours=2)
    horizon_days: int = 60

    @property
    def grid(self) -> timedelta:
        return self.step or self.duration

    def last_bookable_day(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.zone)).date() + timedelta(days=self.horizon_days)


class Problem(enum.Enum):
    """Why a start time cannot be booked, in words a patient can act on."""

    NOT_A_TIME = "That is not a valid time."
    DOES_NOT_EXIST = "That time does not exist on that day: the clocks change then."
    IN_THE_PAST = "That time has already passed."
    TOO_SOON = "That time is too soon: please book further ahead."
    BEYOND_HORIZON = "That date is too far ahead to book yet."
    OUTSIDE_HOURS = "The provider does not work at that time."
    OFF_GRID = "Appointments start only at the times offered in the calendar."
    TIME_OFF = "The provider is away at that time."
    TAKEN = "That time was just taken; please pick another."


def free_slots(
    rules: Rules,
    first_day: date,
    last_day: date,
    now: datetime,
    appointments: Iterable[Interval] = (),
    time_off: Iterable[Interval] = (),
) -> dict[date, list[datetime]]:
    """Free slot starts for every day from `first_day` to `last_day` inclusive (aware, provider's zone).

    `appointments` are those that hold time; they and `time_off` may come in any order and may lie
    partly or wholly outside the range. Works in integer seconds since the epoch: on a day without a
    clock change a wall time is a fixed offset away from UTC, so only DST days pay for zone lookups.
    """
    zone = ZoneInfo(rules.zone)
    busy = _busy(appointments, time_off, rules.buffer_before + rules.buffer_after)
    busy_starts = [_epoch(i.start) for i in busy]
    busy_ends = [_epoch(i.end, up=True) for i in busy]
    duration = int(rules.duration.total_seconds())
    grid = int(rules.grid.total_seconds())
    earliest = _epoch(now + rules.min_notice, up=True)
    last_day = min(last_day, rules.last_bookable_day(now))
    by_weekday: dict[int, list[Block]] = {}
    for block in sorted(rules.blocks, key=lambda b: (b.weekday, b.start)):
        by_weekday.setdefault(block.weekday, []).append(block)

    result: dict[date, list[datetime]] = {}
    day = first_day
    while day <= last_day:
        free: list[int] = []
        blocks = by_weekday.get(day.weekday(), ())
        base = _fixed_offset_midnight(day, zone) if blocks else None
        for block in blocks:
            candidates: Iterable[int]
            if base is not None:
                block_end = base + _seconds(block.end)
                candidates = range(base + _seconds(block.start), block_end - duration + 1, grid)
            else:  # a day with a clock change: ask the zone about every wall time
                candidates = [_epoch(start) for start in _block_starts(day, block, rules, zone)]
            for start in candidates:
                if start >= earliest and not _hits(start, start + duration, busy_starts, busy_ends):
                    free.append(start)
        result[day] = [datetime.fromtimestamp(start, zone) for start in free]
        day += timedelta(days=1)
    return result


def _fixed_offset_midnight(day: date, zone: ZoneInfo) -> int | None:
    """Epoch seconds of the day's local midnight when the day has one UTC offset throughout, else None."""
    midnight = datetime.combine(day, time(0))
    offset = zone.utcoffset(midnight)
    if offset != zone.utcoffset(midnight + timedelta(days=1)) or _existing(midnight, zone) is None:
        return None
    if offset != zone.utcoffset(midnight + timedelta(hours=12)):
        return None
    return _epoch(midnight.replace(tzinfo=UTC) - offset)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _epoch(instant: datetime, up: bool = False) -> int:
    """Whole seconds since the epoch, rounded down (or up, where rounding down would allow too much)."""
    seconds = instant.timestamp()
    return math.ceil(seconds) if up else math.floor(seconds)


def _hits(start: int, end: int, busy_starts: list[int], busy_ends: list[int]) -> bool:
    """Does [start, end) overlap the merged, sorted busy intervals? One binary search."""
    i = bisect_right(busy_starts, start) - 1
    if i >= 0 and busy_ends[i] > start:
        return True
    return i + 1 < len(busy_starts) and busy_starts[i + 1] < end


def check_start(
    rules: Rules,
    wall_time: datetime,
    now: datetime,
    appointments: Iterable[Interval] = (),
    time_off: Iterable[Interval] = (),
) -> tuple[datetime | None, Problem | None]:
    """Is this wall-clock start (naive, provider's zone) bookable? Returns (start in UTC, None) or the problem.

    Checks in the order a person would want to hear them: the cheapest, most basic reason first. All
    arithmetic is done in UTC: Python adds to and compares datetimes of one zone by their wall clocks,
    which is wrong across a clock change.
    """
    if wall_time.tzinfo is not None:
        return None, Problem.NOT_A_TIME
    zone = ZoneInfo(rules.zone)
    local = _existing(wall_time, zone)
    if local is None:
        return None, Problem.DOES_NOT_EXIST
    start = local.astimezone(UTC)
    if start < now:
        return None, Problem.IN_THE_PAST
    if start < now + rules.min_notice:
        return None, Problem.TOO_SOON
    if wall_time.date() > rules.last_bookable_day(now):
        return None, Problem.BEYOND_HORIZON
    blocks = [b for b in rules.blocks if b.weekday == wall_time.weekday()]
    inside = [b for b in blocks if b.start <= wall_time.time() < b.end]
    if not inside:
        return None, Problem.OUTSIDE_HOURS
    if not any(start in _block_starts(wall_time.date(), b, rules, zone) for b in inside):  # UTC instants
        fits_grid = any(_on_grid(wall_time, b, rules.grid) for b in inside)
        return None, Problem.OFF_GRID if not fits_grid else Problem.OUTSIDE_HOURS
    end = start + rules.duration
    if any(t.start < end and start < t.end for t in time_off):
        return None, Problem.TIME_OFF
    gap = rules.buffer_before + rules.buffer_after
    if any(a.start - gap < end and start < a.end + gap for a in appointments):
        return None, Problem.TAKEN
    return start, None


def _on_grid(wall_time: datetime, block: Block, grid: timedelta) -> bool:
    offset = datetime.combine(wall_time.date(), wall_time.time()) - datetime.combine(wall_time.date(), block.start)
    return offset >= timedelta(0) and offset % grid == timedelta(0)


def _block_starts(day: date, block: Block, rules: Rules, zone: ZoneInfo) -> list[datetime]:
    """The block's slot starts on `day` (UTC instants) that exist and whose real duration ends by the
    block's end."""
    block_end = _block_end(day, block, zone)
    wall = datetime.combine(day, block.start)
    wall_end = datetime.combine(day, block.end)
    starts: list[datetime] = []
    while wall < wall_end:
        local = _existing(wall, zone)
        if local is not None:
            start = local.astimezone(UTC)
            if start + rules.duration > block_end:
                break
            starts.append(start)
        wall += rules.grid
    return starts


def _block_end(day: date, block: Block, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a block ends; an end inside a skipped hour means the moment the clocks jump."""
    return _wall_instant(day, block.end, zone)


def _wall_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a wall time names; inside a skipped hour, the moment the clocks jump."""
    wall = datetime.combine(day, at)
    end = _existing(wall, zone)
    while end is None:  # inside a gap (at most a few hours): the first wall time after it
        wall += timedelta(minutes=1)
        end = _existing(wall, zone)
    return end.astimezone(UTC)


def _existing(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant a naive wall time names in `zone` (its first occurrence), or None in a DST gap."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return aware


def _busy(appointments: Iterable[Interval], time_off: Iterable[Interval], gap: timedelta) -> list[Interval]:
    """Appointments widened by both buffers, with time off, merged into sorted disjoint intervals."""
    spans = sorted(
        [(a.start - gap, a.end + gap) for a in appointments] + [(t.start, t.end) for t in time_off],
        key=lambda span: span[0],
    )
    merged: list[Interval] = []
    for start, end in spans:
        if merged and start <= merged[-1].end:
            if end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, end)
        else:
            merged.append(Interval(start, end))
    return merged


def fits_schedule(
    rules: Rules,
    start: datetime,
    end: datetime,
    appointments: Iterable[Interval] = (),
    time_off: Iterable[Interval] = (),
) -> Problem | None:
    """Does an existing request still fit the provider's schedule? (Approving asks this.)

    Unlike `check_start` it does not care about notice, the horizon or the slot grid, which bound
    what patients may pick, not what staff may confirm: only working hours, time off and the other
    appointments (with buffers) as they are now.
    """
    zone = ZoneInfo(rules.zone)
    day = start.astimezone(zone).date()
    inside = any(
        _wall_instant(day, block.start, zone) <= start and end <= _wall_instant(day, block.end, zone)
        for block in rules.blocks
        if block.weekday == day.weekday()
    )
    if not inside:
        return Problem.OUTSIDE_HOURS
    if any(t.start < end and start < t.end for t in time_off):
        return Problem.TIME_OFF
    gap = rules.buffer_before + rules.buffer_after
    if any(a.start - gap < end and start < a.end + gap for a in appointments):
        return Problem.TAKEN
    return None


