"""What the calendar and slot list show, computed once for the page and its fragments."""
from __future__ import annotations

import calendar as month_math
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, make_response, render_template

from booking import htmx
from booking.models import Appointment
from booking.views import url_for
from booking.models.types import utcnow
from booking.services.availability import ProviderInfo, ServiceInfo, load_provider_info, rules_for, slots_between


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    slots: int
    bookable_period: bool  # not past, not beyond the horizon
    past: bool = False

    @property
    def available(self) -> bool:
        return self.in_month and self.slots > 0

    @property
    def label(self) -> str:
        """What a screen reader says for the day."""
        name = f"{self.day:%A} {self.day.day} {self.day:%B}"
        if self.available:
            return f"{name}: {self.slots} free time{'' if self.slots == 1 else 's'}"
        reason = "past" if self.past else ("not yet bookable" if not self.bookable_period else "no free times")
        return f"{name}: {reason}"


@dataclass
class CalendarView:
    provider: ProviderInfo
    service: ServiceInfo
    month: date  # first day of the month shown
    today: date
    weeks: list[list[Day]]
    selected: date | None
    slots: list[datetime] = field(default_factory=list)
    reschedule: Appointment | None = None
    calendar_token: str = ""  # what the month grid shows (see fingerprint)
    slots_token: str = ""  # what the slot list shows
    focus: bool = False  # move the keyboard focus to the new content's heading (a requested swap)
    reveal: bool = False  # the day was chosen for the visitor: bring its times into view on a phone
    _day_url_prefix: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.provider.timezone)

    @property
    def first_month(self) -> date:
        """The earliest month the calendar offers: the current one in the provider's zone. Earlier
        months hold only past days, so neither a link nor a request leads to them."""
        return self.today.replace(day=1)

    @property
    def previous_month(self) -> date | None:
        if self.month <= self.first_month:
            return None
        return (self.month - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        return (self.month + timedelta(days=32)).replace(day=1)

    def query(self, **extra: object) -> dict[str, object]:
        """The query string every calendar link carries (service, and the appointment being moved)."""
        base: dict[str, object] = {"service": self.service.id}
        if self.reschedule is not None:
            base["reschedule"] = self.reschedule.id
        return {**base, **extra}

    def slot_buttons(self) -> list[tuple[str, str, str]]:
        """(form value, visible text, accessible label) per free slot, formatted once here: the slot
        list is the page polled most, and template calls per slot are its biggest cost."""
        if self.selected is None:
            return []
        day_iso, day_label = self.selected.isoformat(), self.selected.strftime("%A %d %B")
        buttons = []
        for slot in self.slots:
            text = f"{slot.hour:02d}:{slot.minute:02d}"
            buttons.append((f"{day_iso}T{text}", text, f"{text} {slot.tzname()}, {day_label}"))
        return buttons

    def day_url(self, day: date) -> str:
        """The slot list of `day`. Built by formatting, not url_for: a month has up to 31 of them."""
        if not self._day_url_prefix:
            self._day_url_prefix = url_for("patient.slots", provider_id=self.provider.id, **self.query()) + "&date="
        return self._day_url_prefix + day.isoformat()

    def month_url(self, month: date, **extra: object) -> str:
        """A month of the calendar. It keeps the chosen day (the one whose times are shown), so that
        coming back to its month, or a refresh, still marks it."""
        if self.selected is not None:
            extra = {"date": self.selected.isoformat(), **extra}
        return url_for("patient.calendar_page", provider_id=self.provider.id, month=month.strftime("%Y-%m"),
                       **self.query(**extra))


def fingerprint(*shown: object) -> str:
    """A short digest of everything one part of the page shows (the month grid, or the slot list).

    An open page sends it back when it polls; the same digest means nothing visible changed, and the
    answer is an empty 204 instead of a rendering that would also take the keyboard focus away. Each
    part has its own, so that a new booking on another day leaves the slot list alone.
    """
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def current_month(provider: ProviderInfo, now: datetime) -> date:
    """The first day of the provider's current month: the earliest the calendar shows."""
    return now.astimezone(ZoneInfo(provider.timezone)).date().replace(day=1)


def build(
    provider: ProviderInfo,
    service: ServiceInfo,
    month: date | None,
    selected: date | None,
    now: datetime,
    reschedule: Appointment | None = None,
    with_month: bool = True,
    with_slots: bool = True,
) -> CalendarView:
    today = now.astimezone(ZoneInfo(provider.timezone)).date()
    month = max(month or (selected or today).replace(day=1), current_month(provider, now))
    ignore = reschedule.id if reschedule is not None else None
    last_bookable = rules_for(provider, service).last_bookable_day(now)
    weeks: list[list[Day]] = []
    if with_month:
        first = month - timedelta(days=month.weekday())
        days_in_month = month_math.monthrange(month.year, month.month)[1]
        last_of_month = month.replace(day=days_in_month)
        last = last_of_month + timedelta(days=6 - last_of_month.weekday())
        counts = {}
        if last_of_month >= today and month <= last_bookable:
            found = slots_between(provider, service, max(month, today), min(last_of_month, last_bookable), now, ignore)
            counts = {d: len(s) for d, s in found.items()}
        day, week = first, []
        while day <= last:
            week.append(Day(day, day.month == month.month, counts.get(day, 0), today <= day <= last_bookable, day < today))
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += timedelta(days=1)
    slots: list[datetime] = []
    if with_slots and selected is not None and today <= selected <= last_bookable:
        slots = slots_between(provider, service, selected, selected, now, ignore).get(selected, [])
    view = CalendarView(provider, service, month, today, weeks, selected, slots, reschedule)
    view.calendar_token = fingerprint(today, month, selected, service.id,
                                      [(d.day, d.slots, d.bookable_period) for week in weeks for d in week])
    view.slots_token = fingerprint(today, selected, service.id, [slot.isoformat() for slot in slots])
    return view


def answer_with_slots(provider_id, service_id, day, message, status, reschedule=None):  # type: ignore[no-untyped-def]
    """The fresh slot list for `day` with a message: how a lost race or a bad pick is answered.

    For htmx it replaces the slot panel wherever the request came from (the confirm step included),
    and the calendar out of band, so that the day's count is the fresh one too.
    """
    provider = load_provider_info(provider_id)
    service = provider.service(service_id) if provider else None
    if provider is None or service is None:
        abort(status, message)
    fragment = htmx.wants_fragment()
    view = build(provider, service, None, day, utcnow(), reschedule)
    view.focus = fragment
    template = "patient/_slots.html" if fragment else "patient/calendar.html"
    response = make_response(render_template(template, view=view, message=message, calendar_oob=fragment), status)
    if fragment:
        htmx.toast(response, message, "error")
        response.headers["HX-Retarget"] = "#slots"
        response.headers["HX-Reswap"] = "outerHTML"
    return response
