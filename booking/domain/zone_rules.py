"""A time zone's clock changes over a span of years, stated the way calendar files state them.

A calendar file gives each TZID its own definition (an RFC 5545 VTIMEZONE), and a client reads the wall
times of the file with that definition rather than with its own database, so the definition has to say
what zoneinfo says, in a form every client reads the same way. Clients understand less of RFC 5545 than
it allows: Mozilla's ical.js (Thunderbird, Nextcloud Calendar) reads only the first value of an RDATE
that lists many, and Outlook maps a zone onto one yearly rule per kind. So the changes are stated as
yearly rules (FREQ=YEARLY with BYMONTH and BYDAY, the shape Google and Microsoft write themselves)
wherever consecutive years follow one, and every change that follows no rule as an observance of its
own with a single onset, never as a list.

Pure: zoneinfo in, plain values out; `booking.services.ics` writes them as icalendar components.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

#: How finely the clock is sampled: no zone has changed its clock twice within six hours.
STEP = timedelta(hours=6)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: A rule's UNTIL is a day after its last change, not the instant itself: RFC 5545 writes it in UTC,
#: and a reader that takes it for local time (dateutil does) would otherwise lose the last change in
#: zones east of Greenwich. A day later is still most of a year before the change the rule stops at.
UNTIL_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Transition:
    """A change of the zone's clock at the UTC instant `at` (or the clock in force at a span's start,
    when `offset_from` equals `offset_to`)."""

    at: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def onset(self) -> datetime:
        """The wall time the change happens at, read on the clock before it (as a VTIMEZONE's DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class Observance:
    """One STANDARD or DAYLIGHT component: from `onset` (local wall time on the clock before it) the
    clock reads UTC + `offset_to`. With `by_month` it repeats every year on that month and `by_day`
    ("-1SU" the last Sunday, "2SU" the second) or `by_month_day`, until the UTC instant `until` (or
    for as long as the zone is known to keep the rule, when `until` is None)."""

    daylight: bool
    name: str
    offset_from: timedelta
    offset_to: timedelta
    onset: datetime
    by_month: int | None = None
    by_day: str | None = None
    by_month_day: int | None = None
    until: datetime | None = None

    @property
    def yearly(self) -> bool:
        return self.by_month is not None


def transitions(zone: str, start: datetime, end: datetime) -> list[Transition]:
    """Every change of the zone's clock (offset, daylight flag or name) in [start, end), to the second."""
    tz = ZoneInfo(zone)
    found: list[Transition] = []
    moment, state = start, _state(tz, start)
    while moment < end:
        later = min(moment + STEP, end)
        if (after := _state(tz, later)) == state:
            moment = later
            continue
        low, high = int(moment.timestamp()), int(later.timestamp())  # state(low) != state(high)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _state(tz, _utc(middle)) == state else (low, middle)
        moment, after = _utc(high), _state(tz, _utc(high))
        found.append(Transition(moment, state[0], after[0], after[2], bool(after[1])))
        state = after
    return found


@lru_cache(maxsize=512)
def observances(zone: str, first_year: int, last_year: int) -> tuple[Observance, ...]:
    """The observances that define `zone` for every instant from the start of `first_year` to the end of
    `last_year + 1` (one year beyond the last event, so each kind of change appears at least twice and
    gets its yearly rule, and a client that moves an event a little later still reads it right).

    The first is the change in force when the span begins (found in the year before it); a zone that
    has not changed its clock for a year or more starts with its clock at the span's start instead.
    """
    start = datetime(first_year, 1, 1, tzinfo=timezone.utc) - timedelta(days=1)
    end = datetime(last_year + 2, 1, 1, tzinfo=timezone.utc) + timedelta(days=1)
    earlier = transitions(zone, start - timedelta(days=366), start)
    if earlier:
        opening = earlier[-1]
    else:
        offset, dst, name = _state(ZoneInfo(zone), start)
        opening = Transition(start, offset, offset, name, bool(dst))
    changes = [opening, *transitions(zone, start, end)]
    last_scanned_year = (end - timedelta(days=2)).year
    return tuple(sorted(_as_observances(changes, last_scanned_year), key=lambda o: (o.onset, o.daylight)))


def _as_observances(changes: list[Transition], last_scanned_year: int) -> list[Observance]:
    """Group changes that repeat year after year (same kind, name, offsets, month and wall time, on a
    day one rule names) into yearly rules; every other change is an observance of its own."""
    groups: dict[tuple[object, ...], list[Transition]] = {}
    for change in changes:
        key = (change.daylight, change.name, change.offset_from, change.offset_to, change.onset.month,
               change.onset.time())
        groups.setdefault(key, []).append(change)
    result: list[Observance] = []
    for group in groups.values():
        run, rules = [group[0]], _rules(group[0])
        for change in group[1:]:
            common = rules & _rules(change)
            if change.onset.year == run[-1].onset.year + 1 and common:
                run, rules = [*run, change], common
                continue
            result.append(_observance(run, rules, open_ended=False))
            run, rules = [change], _rules(change)
        result.append(_observance(run, rules, open_ended=run[-1].onset.year >= last_scanned_year))
    return result


def _rules(change: Transition) -> frozenset[tuple[str, str | int]]:
    """The yearly rules that name the day of this change: its weekday's place in the month (counted
    from the start, and from the end when it is the last), or its day of the month."""
    day = change.onset.date()
    weekday = WEEKDAYS[day.weekday()]
    rules: set[tuple[str, str | int]] = {("BYDAY", f"{(day.day - 1) // 7 + 1}{weekday}"), ("BYMONTHDAY", day.day)}
    if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
        rules.add(("BYDAY", f"-1{weekday}"))
    return frozenset(rules)


def _observance(run: list[Transition], rules: frozenset[tuple[str, str | int]], open_ended: bool) -> Observance:
    first, last = run[0], run[-1]
    base = Observance(first.daylight, first.name, first.offset_from, first.offset_to, first.onset)
    if len(run) == 1:
        return base  # one change alone names no rule
    by_day = sorted(value for part, value in rules if part == "BYDAY")
    # A weekday rule reads as the zone's own rules do ("last Sunday", "second Sunday"); the last
    # occurrence is preferred when both name the same days, as tzdata's "lastSun" rules do.
    chosen_day = next((d for d in by_day if str(d).startswith("-1")), by_day[0] if by_day else None)
    month_days = [value for part, value in rules if part == "BYMONTHDAY"]
    return Observance(first.daylight, first.name, first.offset_from, first.offset_to, first.onset,
                      by_month=first.onset.month,
                      by_day=str(chosen_day) if chosen_day is not None else None,
                      by_month_day=None if chosen_day is not None else int(month_days[0]),
                      until=None if open_ended else last.at + UNTIL_MARGIN)


def _state(tz: ZoneInfo, instant: datetime) -> tuple[timedelta, timedelta, str]:
    local = instant.astimezone(tz)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)

