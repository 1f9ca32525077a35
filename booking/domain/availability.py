"""The availability engine: which start times a provider can still be booked at.

Pure Python on sorted intervals; no Flask, no SQLAlchemy. Everything is decided here, and the booking
service asks the same questions again (`check_start`) inside its locking transaction.

Rules, in the provider's own time zone:
* A block of working hours starts on its weekday and ends at its end time that day, or, when the end
  is at or before the start, the next day: Friday 22:00-06:00 is Friday 22:00 to Saturday 06:00, an
  end of 00:00 is midnight (24:00), and 00:00-00:00 is the whole day. A slot belongs to the date it
  starts on, so that night feeds Friday's list (22:00...) and Saturday's (...05:30).
* Slots start on a wall-clock grid: each working-hours block's start, then every `step` after it.
  A wall time that does not exist (the hour skipped when clocks go forward) has no slot; a wall time
  that happens twice (clocks go back) has one slot, at its first occurrence, because a start is named
  by its wall time (`YYYY-MM-DDTHH:MM`) and must mean one instant. A block start that is not a whole
  minute (seconds kept by old data) is rounded up to the next minute, so that no slot begins before
  the provider does.
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
DAY = 86400  # seconds in a day without a clock change
WEEK = 7 * DAY


@dataclass(frozen=True, slots=True)
class Block:
    """Working hours starting on one weekday (0 = Monday), wall-clock times in the provider's zone.

    An end at or before the start ends the next day (see the module's rules): a night, or with an
    end of 00:00, a block that runs to midnight.
    """

    weekday: int
    start: time
    end: time

    @property
    def ends_next_day(self) -> bool:
        return self.end <= self.start

    @property
    def seconds(self) -> tuple[int, int]:
        """Start and end in wall-clock seconds after the midnight of the day the block starts.

        The start is rounded up to a whole minute, the end down to a whole second; an end the next
        day lies past `DAY`. An empty span (start >= end) can come only from seconds in old data.
        """
        start = self.start.hour * 3600 + self.start.minute * 60
        if self.start.second or self.start.microsecond:
            start += 60
        end = self.end.hour * 3600 + self.end.minute * 60 + self.end.second
        return start, end + DAY if self.ends_next_day else end


def blocks_overlap(a: Block, b: Block) -> bool:
    """Do two weekly blocks share any wall-clock time? A Monday night 22:00-06:00 overlaps Tuesday
    05:00-09:00, and a Sunday night overlaps Monday morning (the week wraps around)."""
    a_start, a_end = a.seconds
    b_start, b_end = b.seconds
    a_start, a_end = a_start + a.weekday * DAY, a_end + a.weekday * DAY
    b_start, b_end = b_start + b.weekday * DAY, b_end + b.weekday * DAY
    return any(a_start + shift < b_end and b_start < a_end + shift for shift in (-WEEK, 0, WEEK))


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
    last_day = min(last_day, rules.last_bookable_day(now))
    if last_day < first_day:
        return {}
    busy = _busy(appointments, time_off, rules.buffer_before + rules.buffer_after)
    busy_starts = [_epoch(i.start) for i in busy]
    busy_ends = [_epoch(i.end, up=True) for i in busy]
    duration = int(rules.duration.total_seconds())
    grid = int(rules.grid.total_seconds())
    earliest = _epoch(now + rules.min_notice, up=True)
    by_weekday: dict[int, list[tuple[Block, int, int]]] = {}
    for block in sorted(rules.blocks, key=lambda b: (b.weekday, b.start)):
        by_weekday.setdefault(block.weekday, []).append((block, *block.seconds))
    midnights: dict[date, int | None] = {}

    def midnight(day: date) -> int | None:
        if day not in midnights:
            midnights[day] = _fixed_offset_midnight(day, zone)
        return midnights[day]

    found: dict[date, list[int]] = {first_day + timedelta(days=n): [] for n in range((last_day - first_day).days + 1)}
    unsorted: set[date] = set()
    day = first_day - timedelta(days=1)  # the night before the range may reach into its first day
    while day <= last_day:
        blocks = by_weekday.get(day.weekday(), ())
        base = midnight(day) if blocks else None
        next_day = day + timedelta(days=1)
        for block, start_s, end_s in blocks:
            runs: Iterable[tuple[date, Iterable[int]]]
            if base is not None and (end_s <= DAY or midnight(next_day) == base + DAY):
                # one UTC offset from the block's start to its end: wall seconds are epoch seconds
                stop, first, split = base + end_s - duration + 1, base + start_s, base + DAY
                if end_s <= DAY:
                    runs = ((day, range(first, stop, grid)),)
                else:
                    after_midnight = first + max(0, -((first - split) // grid)) * grid  # first grid time >= split
                    runs = ((day, range(first, min(split, stop), grid)), (next_day, range(after_midnight, stop, grid)))
            else:  # a clock change on the way: ask the zone about every wall time
                runs = _dated_starts(day, block, rules, zone)
            for run_day, candidates in runs:
                free = found.get(run_day)
                if free is None:  # outside the range
                    continue
                before = len(free)
                for start in candidates:
                    if start >= earliest and not _hits(start, start + duration, busy_starts, busy_ends):
                        free.append(start)
                if 0 < before < len(free) and free[before] <= free[before - 1]:
                    unsorted.add(run_day)  # blocks that overlap (a night and the next morning)
        day = next_day

    return {
        day: [datetime.fromtimestamp(start, zone) for start in (sorted(set(starts)) if day in unsorted else starts)]
        for day, starts in found.items()
    }


def _fixed_offset_midnight(day: date, zone: ZoneInfo) -> int | None:
    """Epoch seconds of the day's local midnight when the day has one UTC offset throughout, else None.

    The offsets at this midnight and the next one tell: no zone in the tz database changes its clocks
    twice within a day, and a midnight that the clocks skip reads as the offset before the change,
    which the next midnight no longer has.
    """
    midnight = datetime.combine(day, time(0))
    offset = zone.utcoffset(midnight)
    if offset != zone.utcoffset(midnight + timedelta(days=1)):
        return None
    return _epoch(midnight.replace(tzinfo=UTC) - offset)


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
    inside = []  # (the day a block starts, the block, its wall-clock start) around the wall time
    for day in (wall_time.date() - timedelta(days=1), wall_time.date()):  # last night's blocks too
        for block in rules.blocks:
            if block.weekday == day.weekday():
                wall_start, wall_end = _occurrence(day, block)
                if wall_start <= wall_time < wall_end:
                    inside.append((day, block, wall_start))
    if not inside:
        return None, Problem.OUTSIDE_HOURS
    offered = {instant for day, block, _ in inside for _, instant in _block_starts(day, block, rules, zone)}
    if start not in offered:
        fits_grid = any((wall_time - wall_start) % rules.grid == timedelta(0) for _, _, wall_start in inside)
        return None, Problem.OFF_GRID if not fits_grid else Problem.OUTSIDE_HOURS
    end = start + rules.duration
    if any(t.start < end and start < t.end for t in time_off):
        return None, Problem.TIME_OFF
    gap = rules.buffer_before + rules.buffer_after
    if any(a.start - gap < end and start < a.end + gap for a in appointments):
        return None, Problem.TAKEN
    return start, None


def _occurrence(day: date, block: Block) -> tuple[datetime, datetime]:
    """The naive wall-clock start and end of the block that starts on `day` (the end may be the next day)."""
    start, end = block.seconds
    midnight = datetime.combine(day, time(0))
    return midnight + timedelta(seconds=start), midnight + timedelta(seconds=end)


def _block_starts(day: date, block: Block, rules: Rules, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """(wall time, UTC instant) of the slot starts of the block starting on `day` that exist and whose
    real duration ends by the block's end."""
    wall, wall_end = _occurrence(day, block)
    block_end = _wall_instant(wall_end, zone)
    starts: list[tuple[datetime, datetime]] = []
    while wall < wall_end:
        local = _existing(wall, zone)
        if local is not None:
            start = local.astimezone(UTC)
            if start + rules.duration > block_end:
                break
            starts.append((wall, start))
        wall += rules.grid
    return starts


def _dated_starts(day: date, block: Block, rules: Rules, zone: ZoneInfo) -> list[tuple[date, list[int]]]:
    """The block's slot starts (epoch seconds) by the date they start on: `day`, then the next."""
    runs: dict[date, list[int]] = {day: [], day + timedelta(days=1): []}
    for wall, start in _block_starts(day, block, rules, zone):
        runs[wall.date()].append(_epoch(start))
    return list(runs.items())


def _wall_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a naive wall time names; inside a skipped hour, the moment the clocks jump."""
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
    local_day = start.astimezone(zone).date()
    inside = any(
        _wall_instant(wall_start, zone) <= start and end <= _wall_instant(wall_end, zone)
        for day in (local_day - timedelta(days=1), local_day)  # a night block from the day before
        for block in rules.blocks
        if block.weekday == day.weekday()
        for wall_start, wall_end in [_occurrence(day, block)]
    )
    if not inside:
        return Problem.OUTSIDE_HOURS
    if any(t.start < end and start < t.end for t in time_off):
        return Problem.TIME_OFF
    gap = rules.buffer_before + rules.buffer_after
    if any(a.start - gap < end and start < a.end + gap for a in appointments):
        return Problem.TAKEN
    return None


