"""A provider's own schedule: working-hour blocks and time off, as staff and admins edit them.

Each change runs in the provider's serialising transaction, so bookings in flight see the new hours;
open calendars redraw on their next refresh, whose fingerprint is of the times themselves.
"""
from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa

from booking.domain.availability import Block, blocks_overlap
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, TimeOff, User, WorkingHours, provider_transaction
from booking.services import notify
from booking.services.errors import Conflict, Invalid, NotFound, Problems
from booking.services.permissions import require_acting_for

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def add_block(actor_id: int, provider_id: int, weekday: int, start: time, end: time) -> None:
    _check_block(weekday, start, end)
    with provider_transaction(provider_id) as provider:
        require_acting_for(actor_id, provider)
        _no_overlap(provider.working_hours, weekday, start, end)
        provider.working_hours.append(WorkingHours(weekday=weekday, start_time=start, end_time=end))


def change_block(actor_id: int, provider_id: int, block_id: int, weekday: int, start: time, end: time) -> None:
    _check_block(weekday, start, end)
    with provider_transaction(provider_id) as provider:
        require_acting_for(actor_id, provider)
        block = _own_block(provider, block_id)
        _no_overlap([b for b in provider.working_hours if b.id != block.id], weekday, start, end)
        block.weekday, block.start_time, block.end_time = weekday, start, end


def remove_block(actor_id: int, provider_id: int, block_id: int) -> None:
    with provider_transaction(provider_id) as provider:
        require_acting_for(actor_id, provider)
        provider.working_hours.remove(_own_block(provider, block_id))


class TimeOffClashes(Conflict):
    """Approved appointments a new time off would cover: refused unless the caller confirms."""

    def __init__(self, appointments: list[Appointment]) -> None:
        super().__init__(f"{len(appointments)} approved appointment(s) fall in that time. "
                         "Confirm to cancel them with your reason, or choose another time.")
        self.appointments = appointments


def add_time_off(actor_id: int, provider_id: int, start: datetime | None, end: datetime | None, reason: str | None,
                 cancel_clashes: bool = False, problems: Problems | None = None) -> int:
    """Block [start, end). Approved appointments inside are refused, or cancelled when confirmed.

    `problems` holds what the caller found unreadable (a start or end that is not a time: None here);
    every fault is told at once, the caller's and these.
    """
    problems = problems if problems is not None else Problems()
    if start is None or end is None:
        if not problems.found:
            problems.add("Give the start and the end of the time off.", "start")
    elif end <= start:
        problems.add("The time off must end after it starts.", "end")
    reason = (reason or "").strip() or None
    if reason and len(reason) > 200:
        problems.add("Please keep the reason to 200 characters.", "reason")
    problems.raise_any()
    assert start is not None and end is not None
    with provider_transaction(provider_id) as provider:
        require_acting_for(actor_id, provider)
        covered = list(db.session.scalars(sa.select(Appointment).where(
            Appointment.provider_id == provider.id,
            Appointment.status == Status.APPROVED.value,
            Appointment.start_at < end,
            Appointment.end_at > start,
        ).order_by(Appointment.start_at)))
        if covered and not cancel_clashes:
            raise TimeOffClashes(covered)
        if covered and not reason:
            raise Invalid("Give a reason: the patients whose appointments are cancelled will see it.",
                          field="reason")
        for appointment in covered:
            appointment.events.append(AppointmentEvent(
                actor_id=actor_id, kind="status", from_status=appointment.status,
                to_status=Status.CANCELLED.value, reason=reason,
            ))
            appointment.status = Status.CANCELLED.value
            notify.decided(appointment, db.session.get(User, actor_id), reason)
        off = TimeOff(provider_id=provider.id, start_at=start, end_at=end, reason=reason)
        db.session.add(off)
        db.session.flush()
        return off.id


def remove_time_off(actor_id: int, provider_id: int, time_off_id: int) -> None:
    with provider_transaction(provider_id) as provider:
        require_acting_for(actor_id, provider)
        off = db.session.get(TimeOff, time_off_id)
        if off is None or off.provider_id != provider.id:
            raise NotFound("There is no such time off.")
        db.session.delete(off)


def _check_block(weekday: int, start: time, end: time) -> None:
    """Whole minutes only (a start is named by its minute, and a stored second would move slots),
    and not empty: an end at or before the start ends the next day, but an end equal to the start
    is a whole day only from 00:00 (anything else is more likely a slip than 24 hours)."""
    if not 0 <= weekday <= 6:
        raise Invalid("Choose a day of the week.", field="weekday")
    for name, value in (("start", start), ("end", end)):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise Invalid(f"The {name} time must be a whole minute, like 09:30.", field=name)
    if end == start and start != time(0):
        raise Invalid("A block must not end when it starts. For the whole day, enter 00:00 to 24:00.", field="end")


def describe(weekday: int, start: time, end: time) -> str:
    """A block in words: "Friday 22:00–06:00 (ends next day)", "Monday 18:00–24:00"."""
    if end == time(0):
        return f"{WEEKDAYS[weekday]} {start:%H:%M}–24:00"
    suffix = " (ends next day)" if end <= start else ""
    return f"{WEEKDAYS[weekday]} {start:%H:%M}–{end:%H:%M}{suffix}"


def _no_overlap(blocks: list[WorkingHours], weekday: int, start: time, end: time) -> None:
    """Blocks may not share time, overnight ones included: a Monday night 22:00-06:00 overlaps
    Tuesday 05:00-09:00 (two blocks would offer the same slots twice)."""
    new = Block(weekday, start, end)
    for other in blocks:
        if blocks_overlap(new, Block(other.weekday, other.start_time, other.end_time)):
            raise Invalid(f"That overlaps {describe(other.weekday, other.start_time, other.end_time)}.",
                          field="start")


def _own_block(provider, block_id: int) -> WorkingHours:  # type: ignore[no-untyped-def]
    for block in provider.working_hours:
        if block.id == block_id:
            return block
    raise NotFound("There is no such block of working hours.")
