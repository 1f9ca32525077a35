"""Showing instants to people: always in a named zone, always with the zone's label."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_zone(name: str) -> bool:
    """One of the zones the lists offer. (Asked to load any name, ZoneInfo also tries directories such
    as "Europe" and names too long for a file, and fails with an OSError.)"""
    return name in _zones()


def zone_names() -> list[str]:
    return sorted(_zones())


def to_zone(instant: datetime, zone: str) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("an instant must be time-zone aware")
    return instant.astimezone(ZoneInfo(zone))


def format_local(instant: datetime, zone: str, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    """"Mon 23 Nov 2026, 09:30 GMT": the time as the provider's clock shows it, with the zone's label.

    The label is the abbreviation in force at that instant (GMT in winter, BST in summer); zones without
    one (tzdata writes "+04") are shown with their name instead, so the reader can always tell the zone.
    """
    local = to_zone(instant, zone)
    label = local.tzname() or zone
    if label[:1] in "+-":
        label = f"{zone.split('/')[-1].replace('_', ' ')} time (UTC{label})"
    return f"{local.strftime(pattern)} {label}"
