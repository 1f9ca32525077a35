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


def zone_words(zone: str, instant: datetime) -> str:
    """"London time (GMT)": the place people know the zone by, and its clock's label at `instant`.

    A zone's key names a city, not a region people think in ("Europe/London"); the label says which
    clock is in force (GMT in winter, BST in summer). Zones whose label is a bare offset ("+04") get
    "UTC+04"; the UTC zones and the fixed Etc/ offsets have no place, only the label.
    """
    label = _label(to_zone(instant, zone))
    if zone in ("UTC", "UCT", "Universal", "Zulu") or zone.startswith("Etc/"):
        return label
    return f"{zone.split('/')[-1].replace('_', ' ')} time ({label})"


def format_range(start: datetime, end: datetime, zone: str, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    """"Mon 23 Nov 2026, 09:30–10:00 GMT": a span with its zone said once, at the end.

    An end on another local day carries its date; when the clock changes inside the span (a night across
    a DST change) each end carries its own label, since one label would be wrong for one of them.
    """
    first, last = to_zone(start, zone), to_zone(end, zone)
    same_day = first.date() == last.date()
    end_text = last.strftime("%H:%M" if same_day else "%a %d %b, %H:%M")
    if first.tzname() == last.tzname():
        separator = "–" if same_day else " – "
        return f"{first.strftime(pattern)}{separator}{end_text} {_label(last)}"
    return f"{first.strftime(pattern)} {_label(first)} – {end_text} {_label(last)}"


def _label(local: datetime) -> str:
    """The clock's abbreviation (GMT, BST), or UTC+04 where tzdata has only the offset ("+04")."""
    label = str(local.tzname())  # a ZoneInfo time always has one
    return f"UTC{label}" if label.startswith(("+", "-")) else label


def in_own_zone(instant: datetime, zone: str, own_zone: str | None) -> str | None:
    """"10:00 Paris time (CET)": `instant` on the clock of someone whose own zone differs from the one
    it is shown in, or None when it is the same clock (or they set none). The date is added when it is
    another day there."""
    if not is_valid_zone(own_zone or ""):  # none set, or a name that is no zone
        return None
    here, there = to_zone(instant, zone), to_zone(instant, own_zone)
    if here.utcoffset() == there.utcoffset():  # the same reading on both clocks, whatever each is called
        return None
    pattern = "%H:%M" if here.date() == there.date() else "%a %d %b, %H:%M"
    return f"{there.strftime(pattern)} {zone_words(own_zone, instant)}"
