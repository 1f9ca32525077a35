"""Staff decisions on appointments: approve, reject, complete, no-show.

Each runs in the provider's serialising transaction and re-reads the appointment there, so a request
handled by someone else a moment earlier, or one that no longer fits the schedule, is refused with
the reason instead of being decided twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.domain.actions import Action, Refusal, staff_actions, why_not
from booking.domain.availability import Problem, fits_schedule
from booking.domain.timezones import format_local
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, Provider, User, provider_transaction
from booking.models.appointment import REASON_MAX
from booking.models.types import utcnow
from booking.services.availability import busy_time, provider_info, rules_for
from booking.services import notify
from booking.services.permissions import may_act_for
from booking.services.errors import Conflict, Invalid, NotFound

NO_LONGER_FITS = {
    Problem.OUTSIDE_HOURS: "It is no longer inside the provider's working hours.",
    Problem.TIME_OFF: "The provider is now away at that time.",
    Problem.TAKEN: "Another appointment now holds that time.",
}


@dataclass(frozen=True)
class Decided:
    appointment_id: int
    status: Status


def may_decide(user: User, appointment: Appointment) -> bool:
    """Admins decide on every appointment; staff on those of the providers they work as."""
    return may_act_for(user, appointment.provider)


def available_actions(appointment: Appointment, actor: User | None, now: datetime | None = None) -> frozenset[Action]:
    """The actions `actor` may take on `appointment` now: what its row offers, and what `_decide` accepts.

    Nothing for someone who may not decide on it (a patient, staff of another provider, an account
    switched off); otherwise the domain's rule for its status and start.
    """
    if actor is None or not actor.active or not may_decide(actor, appointment):
        return frozenset()
    return staff_actions(appointment.status, appointment.start_at, now or utcnow())


def schedule_problem(provider: Provider, appointment: Appointment) -> str | None:
    """Why a request no longer fits the schedule as it is now (None when it does)."""
    start, end = appointment.start_at, appointment.end_at
    appointments, time_off = busy_time(provider, start - timedelta(days=1), end + timedelta(days=1), appointment.id)
    problem = fits_schedule(rules_for(provider_info(provider), appointment.service), start, end,
                            appointments, time_off)
    return NO_LONGER_FITS[problem] if problem else None


def approve(actor_id: int, appointment_id: int) -> Decided:
    return _decide(actor_id, appointment_id, Action.APPROVE, None)


def reject(actor_id: int, appointment_id: int, reason: str | None) -> Decided:
    return _decide(actor_id, appointment_id, Action.REJECT, _required_reason(reason))


def complete(actor_id: int, appointment_id: int) -> Decided:
    return _decide(actor_id, appointment_id, Action.COMPLETE, None)


def no_show(actor_id: int, appointment_id: int) -> Decided:
    return _decide(actor_id, appointment_id, Action.NO_SHOW, None)


def _decide(actor_id: int, appointment_id: int, action: Action, reason: str | None) -> Decided:
    """Take `action` under the provider's lock, if `available_actions` would offer it now: the same
    people (may_decide) and the same rule (domain.actions.why_not), checked again on the fresh row."""
    first_look = db.session.get(Appointment, appointment_id)
    if first_look is None:
        raise NotFound("There is no such appointment.")
    with provider_transaction(first_look.provider_id) as provider:
        appointment = db.session.get(Appointment, appointment_id, populate_existing=True)
        actor = db.session.get(User, actor_id)
        if appointment is None or actor is None or not actor.active or not may_decide(actor, appointment):
            raise NotFound("There is no such appointment.")
        current, target = Status(appointment.status), action.target
        refused = why_not(action, current, appointment.start_at, utcnow())  # the rule the rows offer by
        if refused is not None:
            kind, words = refused
            raise Conflict(_already(appointment, current) if kind is Refusal.STATUS else words)
        if action is Action.APPROVE:
            problem = schedule_problem(provider, appointment)
            if problem:
                raise Conflict(f"This request no longer fits: {problem} Reject it with a reason instead.")
        appointment.events.append(AppointmentEvent(
            actor_id=actor_id, kind="status", from_status=current.value, to_status=target.value, reason=reason,
        ))
        appointment.status = target.value
        if target in (Status.APPROVED, Status.REJECTED, Status.CANCELLED):
            notify.decided(appointment, actor, reason)
    return Decided(appointment_id, target)


def _already(appointment: Appointment, current: Status) -> str:
    """Who got there first, from the audit trail."""
    last = appointment.events[-1] if appointment.events else None
    who = f" by {last.actor.full_name}" if last is not None and last.actor is not None else ""
    when = f" at {format_local(last.created_at, appointment.provider.timezone, '%H:%M')}" if last is not None else ""
    return f"It was already {current.label}{who}{when}."


def waited(appointment: Appointment, now: datetime | None = None) -> str:
    """How long a request has waited, in words ("3 h", "2 days")."""
    seconds = max(0, int(((now or utcnow()) - appointment.created_at).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def cancel_by_staff(actor_id: int, appointment_id: int, reason: str | None) -> Decided:
    """Staff call an appointment off; the patient sees the reason, so one is required."""
    return _decide(actor_id, appointment_id, Action.CANCEL, _required_reason(reason))


def _required_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why: the patient sees the reason.", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(f"Please keep the reason to {REASON_MAX} characters.", field="reason")
    return reason
