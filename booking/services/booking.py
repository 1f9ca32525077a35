"""Booking, cancelling and moving appointments: each one serialising transaction per provider."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from booking.domain.availability import Problem, check_start
from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status, TransitionError, check_transition
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, Provider, ProviderNotFound, Service, User, provider_transaction
from booking.models.appointment import REASON_MAX
from booking.models.types import utcnow
from booking.services.availability import busy_time, day_bounds, provider_info, rules_for
from booking.services import intake, notify
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound

SLOT_TAKEN = Problem.TAKEN.value
PROVIDER_UNAVAILABLE = "This provider is not taking bookings."
SERVICE_UNAVAILABLE = "This service cannot be booked."


class SlotTaken(Conflict):
    """Someone else holds the time: the caller answers 409 with a fresh slot list."""


@dataclass(frozen=True)
class Booked:
    appointment_id: int
    status: Status


def book_appointment(patient_id: int, provider_id: int, service_id: int, wall_start: datetime, reason: str | None,
                     answers: Mapping[int, str] | None = None) -> Booked:
    """Book `wall_start` (naive, the provider's local time) for the patient, or say exactly why not.

    Everything is checked again under the provider's lock: who may book, what may be booked, that the
    start is a free slot by every rule, and that the patient is not elsewhere at that time. `answers`
    (question id -> text) answer the service's intake questions; they are stored in the same
    transaction, so a refused or lost booking keeps none of them.
    """
    reason = _clean_reason(reason)
    try:
        with provider_transaction(provider_id) as provider:
            if not (provider.active and provider.user.active):
                raise NotFound(PROVIDER_UNAVAILABLE)
            service = _offered_service(provider, service_id)
            kept_answers = intake.checked_answers(intake.questions_for(service.id), answers or {})
            patient = _lock_patient(patient_id)
            start = _free_start(provider, service, wall_start)
            end = start + timedelta(minutes=service.duration_min)
            _patient_is_free(patient.id, start, end)
            _one_request_a_day(patient.id, provider, start)
            status = Status.APPROVED if service.auto_approve else Status.PENDING
            appointment = Appointment(
                patient_id=patient.id, provider_id=provider.id, service_id=service.id,
                start_at=start, end_at=end, status=status.value, reason=reason, intake_answers=kept_answers,
            )
            appointment.events.append(
                AppointmentEvent(actor_id=patient.id, kind="created", to_status=status.value, to_start_at=start)
            )
            db.session.add(appointment)
            db.session.flush()
            notify.requested(appointment)
            booked = Booked(appointment.id, status)
    except ProviderNotFound as error:
        raise NotFound(PROVIDER_UNAVAILABLE) from error
    except IntegrityError as error:
        _raise_taken_if_overlap(error)
    return booked


def cancel_by_patient(patient_id: int, appointment_id: int, reason: str | None, cutoff: timedelta) -> None:
    """The patient calls it off: allowed while it holds time and until `cutoff` before the start."""
    appointment = _own_appointment(patient_id, appointment_id)
    with provider_transaction(appointment.provider_id) as provider:
        appointment = _own_appointment(patient_id, appointment_id)
        _before_cutoff(appointment, cutoff, "cancelled")
        reason = _clean_reason(reason)
        _transition(appointment, Status.CANCELLED, patient_id, reason)
        notify.decided(appointment, appointment.patient, reason)


def reschedule_by_patient(patient_id: int, appointment_id: int, wall_start: datetime, cutoff: timedelta) -> Booked:
    """Move an appointment to another free slot of the same provider and service, in one transaction.

    The old time is freed and the new one taken together, or neither. A move by the patient needs the
    provider's approval again, unless the service approves itself.
    """
    appointment = _own_appointment(patient_id, appointment_id)
    try:
        with provider_transaction(appointment.provider_id) as provider:
            appointment = _own_appointment(patient_id, appointment_id)
            _before_cutoff(appointment, cutoff, "moved")
            if not (provider.active and provider.user.active):
                raise NotFound(PROVIDER_UNAVAILABLE)
            service = _offered_service(provider, appointment.service_id)
            _lock_patient(patient_id)
            start = _free_start(provider, service, wall_start, ignore_appointment_id=appointment.id)
            if start == appointment.start_at:
                raise Invalid("That is the time it already has.")
            end = start + timedelta(minutes=service.duration_min)
            _patient_is_free(patient_id, start, end, ignore_appointment_id=appointment.id)
            before_status, before_start = Status(appointment.status), appointment.start_at
            status = before_status
            if before_status is Status.APPROVED and not service.auto_approve:
                status = Status.PENDING
            appointment.start_at, appointment.end_at, appointment.status = start, end, status.value
            appointment.events.append(AppointmentEvent(
                actor_id=patient_id, kind="rescheduled", from_status=before_status.value, to_status=status.value,
                from_start_at=before_start, to_start_at=start,
            ))
            db.session.flush()
            notify.moved(appointment, before_start)
            moved = Booked(appointment.id, status)
    except IntegrityError as error:
        _raise_taken_if_overlap(error)
    return moved


def can_change(appointment: Appointment, cutoff: timedelta, now: datetime | None = None) -> bool:
    """Whether the patient may still cancel or move it (the buttons show only then)."""
    return appointment.status in HOLDS_TIME and appointment.start_at - (now or utcnow()) >= cutoff


def _raise_taken_if_overlap(error: IntegrityError) -> None:
    """PostgreSQL's exclusion constraint had the last word: the same answer as a lost race."""
    if "ex_appointments_provider_time" in str(error.orig):
        raise SlotTaken(SLOT_TAKEN) from error
    raise error


# --- the checks, each raising the error a route turns into its answer ----------------------------


def _clean_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise Invalid(f"Please keep the reason to {REASON_MAX} characters.", field="reason")
    return reason or None


def _offered_service(provider: Provider, service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or not service.active:
        raise NotFound(SERVICE_UNAVAILABLE)
    if service not in provider.services:
        raise Invalid(f"{provider.name} does not offer {service.name}.", field="service_id")
    return service


def _lock_patient(patient_id: int) -> User:
    """The patient's row, locked on PostgreSQL: two bookings of one patient cannot interleave."""
    query = sa.select(User).where(User.id == patient_id)
    if db.session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    patient = db.session.scalar(query)
    if patient is None or not patient.active or patient.role != Role.PATIENT.value:
        raise Forbidden("Only patients with an active account can book.")
    if patient.email_verified_at is None and current_app.config["REQUIRE_VERIFIED_EMAIL"]:
        raise Forbidden("Please confirm your e-mail address first: we sent you a link.")
    return patient


def _free_start(provider: Provider, service: Service, wall_start: datetime, ignore_appointment_id: int | None = None) -> datetime:
    rules = rules_for(provider_info(provider), service)
    around, _ = day_bounds(wall_start.date(), provider.timezone)
    appointments, time_off = busy_time(provider, around - timedelta(days=1), around + timedelta(days=2),
                                       ignore_appointment_id)
    start, problem = check_start(rules, wall_start, utcnow(), appointments, time_off)
    if problem is Problem.TAKEN:
        raise SlotTaken(SLOT_TAKEN)
    if problem is not None:
        raise Invalid(problem.value, field="start")
    assert start is not None
    return start


def _patient_is_free(patient_id: int, start: datetime, end: datetime, ignore_appointment_id: int | None = None) -> None:
    query = sa.select(sa.func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id,
        Appointment.status.in_([s.value for s in HOLDS_TIME]),
        Appointment.start_at < end,
        Appointment.end_at > start,
    )
    if ignore_appointment_id is not None:
        query = query.where(Appointment.id != ignore_appointment_id)
    if db.session.scalar(query):
        raise Conflict("You already have an appointment at that time.")


def _one_request_a_day(patient_id: int, provider: Provider, start: datetime) -> None:
    day_start, day_end = day_bounds(start.astimezone(ZoneInfo(provider.timezone)).date(), provider.timezone)
    waiting = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id,
        Appointment.provider_id == provider.id,
        Appointment.status == Status.PENDING.value,
        Appointment.start_at >= day_start,
        Appointment.start_at < day_end,
    ))
    if waiting:
        raise Conflict("You already have a request waiting with this provider on that day.")


def _own_appointment(patient_id: int, appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id, populate_existing=True)
    if appointment is None or appointment.patient_id != patient_id:
        raise NotFound("There is no such appointment.")
    return appointment


def _before_cutoff(appointment: Appointment, cutoff: timedelta, verb: str) -> None:
    if appointment.status not in HOLDS_TIME:
        raise Conflict(f"This appointment is {Status(appointment.status).label} and cannot be {verb}.")
    if appointment.start_at - utcnow() < cutoff:
        hours = int(cutoff.total_seconds() // 3600)
        raise Conflict(f"Appointments can be {verb} online until {hours} hours before they start; "
                       "please call the clinic.")


def _transition(appointment: Appointment, target: Status, actor_id: int, reason: str | None) -> None:
    try:
        check_transition(appointment.status, target)
    except TransitionError as error:
        raise Conflict(str(error)) from error
    appointment.events.append(AppointmentEvent(
        actor_id=actor_id, kind="status", from_status=appointment.status, to_status=target.value, reason=reason,
    ))
    appointment.status = target.value
