"""How long the availability engine takes for one provider-month (run: .venv/bin/python bench/engine.py).

A busy provider: two blocks a day Monday to Friday, 15-minute slots, buffers, 150 appointments and
some time off in the month; then a night clinic (22:00-06:00 every night, each night feeding two
dates) in London in October, whose last Sunday night has the clocks going back. Prints the median of repeated runs; no target is asserted here, the issue
asks for "a few milliseconds at most".
"""
from __future__ import annotations

import statistics
import sys
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking.domain.availability import Block, Interval, Rules, free_slots  # noqa: E402

UTC = timezone.utc


def main() -> None:
    blocks = [Block(d, time(8, 30), time(12, 30)) for d in range(5)] + [Block(d, time(13, 30), time(17, 30)) for d in range(5)]
    now = datetime(2026, 11, 1, 7, tzinfo=UTC)
    first = datetime(2026, 11, 2, 9, tzinfo=UTC)
    appointments = [Interval(first + timedelta(hours=4 * i), first + timedelta(hours=4 * i, minutes=30)) for i in range(150)]
    time_off = [Interval(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))]
    for zone in ("Europe/London", "America/New_York"):
        rules = Rules(zone, blocks, timedelta(minutes=15), buffer_after=timedelta(minutes=5))
        runs = []
        for _ in range(200):
            started = clock.perf_counter()
            result = free_slots(rules, date(2026, 11, 1), date(2026, 11, 30), now, appointments, time_off)
            runs.append(clock.perf_counter() - started)
        slots = sum(len(v) for v in result.values())
        print(f"{zone}: one provider-month (November 2026, {slots} free slots) in "
              f"{statistics.median(runs) * 1000:.2f} ms (median of {len(runs)})")
    nights = [Block(d, time(22), time(6)) for d in range(7)]
    rules = Rules("Europe/London", nights, timedelta(minutes=15), buffer_after=timedelta(minutes=5))
    october = datetime(2026, 10, 1, 7, tzinfo=UTC)
    shifted = [Interval(i.start - timedelta(days=32, hours=12), i.end - timedelta(days=32, hours=12)) for i in appointments]
    runs = []
    for _ in range(200):
        started = clock.perf_counter()
        result = free_slots(rules, date(2026, 10, 1), date(2026, 10, 31), october, shifted, time_off)
        runs.append(clock.perf_counter() - started)
    slots = sum(len(v) for v in result.values())
    print(f"Europe/London night clinic: one provider-month (October 2026, {slots} free slots) in "
          f"{statistics.median(runs) * 1000:.2f} ms (median of {len(runs)})")


if __name__ == "__main__":
    main()
