"""The booking service's own rules, called directly: booking, cancelling and moving by the patient.

Routes refuse much of this earlier, so each rule is checked here at the service, with what a user or
the clinic sees: the refusal's words and field, the statuses, the history written and the e-mails queued.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.exc import IntegrityError

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.domain.timezones import format_local
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, OutboxMessage
from booking.models.appointment import REASON_MAX
from booking.services import booking
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.booking_helpers import ZONE, booking_form, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_service, make_user

CUTOFF = timedelta(hours=24)
CANCEL_TOO_LATE = "Appointments can be cancelled online until 24 hours before they start; please call the clinic."
MOVE_TOO_LATE = "Appointments can be moved online until 24 hours before they start; please call the clinic."
ELSEWHERE = "You already have an appointment at that time."
ONE_A_DAY = "You already have a request waiting with this provider on that day."


def naive(start: str) -> datetime:
    return datetime.fromisoformat(start)


def at(start: str, zone: str = ZONE) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(zone))


def fresh(appointment_id: int) -> Appointment:
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def book(patient, provider, start: str, reason: str | None = None, service=None) -> booking.Booked:  # type: ignore[no-untyped-def]
    service_id = (service or provider.services[0]).id
    return booking.book_appointment(patient.id, provider.id, service_id, naive(start), reason)


def move(patient, appointment, start: str) -> booking.Booked:  # type: ignore[no-untyped-def]
    return booking.reschedule_by_patient(patient.id, appointment.id, naive(start), CUTOFF)


def queued() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def events_of(appointment_id: int) -> list[AppointmentEvent]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AppointmentEvent).where(AppointmentEvent.appointment_id == appointment_id)
                                   .order_by(AppointmentEvent.id)))


def sixty_minute_service(provider):  # type: ignore[no-untyped-def]
    """An hour-long service offered every half hour."""
    service = make_service(duration_min=60)
    provider.services.append(service)
    provider.slot_step_min = 30
    db.session.commit()
    return service


@pytest.fixture
def patient(app):  # type: ignore[no-untyped-def]
    return make_user(Role.PATIENT)


@pytest.fixture
def provider(app):  # type: ignore[no-untyped-def]
    return everyday_provider()


# --- moving ---------------------------------------------------------------------------------------


def test_moving_onto_a_time_the_patient_is_booked_elsewhere_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    elsewhere = make_appointment(patient=patient, provider=everyday_provider(), start_at=at(wall(3, 10)),
                                 status=Status.APPROVED)
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(4, 9)), status=Status.APPROVED)

    with pytest.raises(Conflict) as refused:
        move(patient, mine, wall(3, 10))

    assert refused.value.message == ELSEWHERE
    assert (fresh(mine.id).start_at, fresh(mine.id).status) == (at(wall(4, 9)), "approved")
    assert fresh(elsewhere.id).status == "approved"


def test_moving_onto_a_time_another_patient_is_booked_elsewhere_is_allowed(patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(provider=everyday_provider(), start_at=at(wall(3, 10)), status=Status.APPROVED)
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(4, 9)), status=Status.APPROVED)

    move(patient, mine, wall(3, 10))

    assert fresh(mine.id).start_at == at(wall(3, 10))


def test_a_half_hour_appointment_moved_to_the_next_slot_never_overlaps_itself(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)

    moved = move(patient, mine, wall(3, 10, 30))

    assert moved == booking.Booked(mine.id, Status.PENDING)
    assert (fresh(mine.id).start_at, fresh(mine.id).end_at) == (at(wall(3, 10, 30)), at(wall(3, 11)))


def test_an_hour_long_appointment_moved_by_half_an_hour_may_overlap_its_own_old_time(patient, provider):  # type: ignore[no-untyped-def]
    """It overlaps itself for the provider and for the patient: it is itself, so neither check counts it."""
    service = sixty_minute_service(provider)
    mine = make_appointment(patient=patient, provider=provider, service=service, start_at=at(wall(3, 10)),
                            status=Status.APPROVED)

    moved = move(patient, mine, wall(3, 10, 30))

    assert moved == booking.Booked(mine.id, Status.PENDING)
    assert (fresh(mine.id).start_at, fresh(mine.id).end_at) == (at(wall(3, 10, 30)), at(wall(3, 11, 30)))
    assert fresh(mine.id).status == "pending"


def test_an_hour_long_appointment_moved_by_half_an_hour_still_meets_the_patients_other_appointments(patient, provider):  # type: ignore[no-untyped-def]
    """Ignoring itself is not ignoring everything: another appointment of the patient in the new time counts."""
    service = sixty_minute_service(provider)
    mine = make_appointment(patient=patient, provider=provider, service=service, start_at=at(wall(3, 10)),
                            status=Status.APPROVED)
    make_appointment(patient=patient, provider=everyday_provider(), start_at=at(wall(3, 11)), status=Status.PENDING)

    with pytest.raises(Conflict) as refused:
        move(patient, mine, wall(3, 10, 30))

    assert refused.value.message == ELSEWHERE
    assert fresh(mine.id).start_at == at(wall(3, 10))


def test_moving_to_the_time_it_already_has_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)

    with pytest.raises(Invalid) as refused:
        move(patient, mine, wall(3, 10))

    assert refused.value.message == "That is the time it already has."
    assert fresh(mine.id).status == "approved"  # not sent back for approval
    assert [e.kind for e in events_of(mine.id)] == []


def test_a_move_is_allowed_until_the_cutoff_and_refused_just_after(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    last_moment, later = at(wall(3, 10)) - CUTOFF, wall(4, 10)  # named before the clock moves

    with time_machine.travel(last_moment + timedelta(seconds=1), tick=False), pytest.raises(Conflict) as refused:
        move(patient, mine, later)
    assert refused.value.message == MOVE_TOO_LATE
    assert fresh(mine.id).start_at == at(wall(3, 10))

    with time_machine.travel(last_moment, tick=False):
        move(patient, mine, later)
    assert fresh(mine.id).start_at == at(later)


def test_a_cancel_is_allowed_until_the_cutoff_and_refused_just_after(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    last_moment = at(wall(3, 10)) - CUTOFF

    with time_machine.travel(last_moment + timedelta(seconds=1), tick=False), pytest.raises(Conflict) as refused:
        booking.cancel_by_patient(patient.id, mine.id, None, CUTOFF)
    assert refused.value.message == CANCEL_TOO_LATE
    assert fresh(mine.id).status == "approved"

    with time_machine.travel(last_moment, tick=False):
        booking.cancel_by_patient(patient.id, mine.id, None, CUTOFF)
    assert fresh(mine.id).status == "cancelled"


def test_the_change_buttons_show_until_the_cutoff_and_not_after(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    last_moment = at(wall(3, 10)) - CUTOFF

    assert booking.can_change(mine, CUTOFF, now=last_moment)
    assert not booking.can_change(mine, CUTOFF, now=last_moment + timedelta(seconds=1))
    mine.status = Status.CANCELLED.value
    assert not booking.can_change(mine, CUTOFF, now=last_moment - timedelta(days=1))
    db.session.rollback()


@pytest.mark.parametrize(("status", "verb"), [(Status.CANCELLED, "moved"), (Status.REJECTED, "moved"),
                                              (Status.COMPLETED, "cancelled"), (Status.NO_SHOW, "cancelled")])
def test_an_appointment_that_holds_no_time_cannot_be_cancelled_or_moved(patient, provider, status, verb):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=status)

    with pytest.raises(Conflict) as refused:
        if verb == "moved":
            move(patient, mine, wall(4, 10))
        else:
            booking.cancel_by_patient(patient.id, mine.id, None, CUTOFF)

    assert refused.value.message == f"This appointment is {status.label} and cannot be {verb}."
    assert (fresh(mine.id).status, fresh(mine.id).start_at) == (status.value, at(wall(3, 10)))


def test_another_patients_appointment_cannot_be_cancelled_or_moved(patient, provider):  # type: ignore[no-untyped-def]
    theirs = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)

    with pytest.raises(NotFound) as cancel:
        booking.cancel_by_patient(patient.id, theirs.id, None, CUTOFF)
    with pytest.raises(NotFound) as moving:
        move(patient, theirs, wall(4, 10))
    with pytest.raises(NotFound) as missing:
        booking.cancel_by_patient(patient.id, theirs.id + 1000, None, CUTOFF)

    assert {cancel.value.message, moving.value.message, missing.value.message} == {"There is no such appointment."}
    assert (fresh(theirs.id).status, fresh(theirs.id).start_at) == ("approved", at(wall(3, 10)))


def test_moving_to_a_provider_whose_staff_account_is_switched_off_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    provider.user.active = False
    db.session.commit()

    with pytest.raises(NotFound) as refused:
        move(patient, mine, wall(4, 10))

    assert refused.value.message == "This provider is not taking bookings."
    assert fresh(mine.id).start_at == at(wall(3, 10))


def test_a_move_writes_who_moved_it_from_what_to_what_and_tells_both_sides(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    staff_email, patient_email = provider.user.email, patient.email

    moved = move(patient, mine, wall(4, 14))

    assert moved == booking.Booked(mine.id, Status.PENDING)
    [event] = events_of(mine.id)
    assert (event.actor_id, event.kind, event.from_status, event.to_status, event.from_start_at, event.to_start_at) == (
        patient.id, "rescheduled", "approved", "pending", at(wall(3, 10)), at(wall(4, 14)))
    mails = queued()
    assert [m.recipient for m in mails] == [patient_email, staff_email]
    assert all(m.subject.startswith(f"Moved: {provider.services[0].name} to ") for m in mails)
    assert all("It is now pending." in m.text_body for m in mails)


# --- cancelling -----------------------------------------------------------------------------------


def test_a_cancel_writes_the_patient_as_its_actor_and_tells_both_sides_with_the_reason(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    staff_email, patient_email, name = provider.user.email, patient.email, patient.full_name

    booking.cancel_by_patient(patient.id, mine.id, "  Feeling better  ", CUTOFF)

    [event] = events_of(mine.id)
    assert (event.actor_id, event.kind, event.from_status, event.to_status, event.reason) == (
        patient.id, "status", "pending", "cancelled", "Feeling better")
    by_recipient = {m.recipient: m for m in queued()}
    assert set(by_recipient) == {patient_email, staff_email}
    assert by_recipient[patient_email].subject.startswith("Cancelled: ")
    assert "Cancelled by you." in by_recipient[patient_email].text_body
    assert "Reason: Feeling better" in by_recipient[patient_email].text_body
    assert by_recipient[staff_email].subject == f"Cancelled by {name}"
    assert "Reason: Feeling better" in by_recipient[staff_email].text_body


def test_a_cancel_without_a_reason_stores_none(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)

    booking.cancel_by_patient(patient.id, mine.id, "   ", CUTOFF)

    [event] = events_of(mine.id)
    assert event.reason is None
    assert all("Reason:" not in m.text_body for m in queued())


# --- booking: who and what ------------------------------------------------------------------------


def test_a_booking_writes_the_patient_as_creator_with_status_and_start_and_queues_both_emails(patient, provider):  # type: ignore[no-untyped-def]
    staff_email, patient_email, name = provider.user.email, patient.email, patient.full_name
    service_name = provider.services[0].name

    booked = book(patient, provider, wall(3, 10), "Sore throat")

    assert booked.status is Status.PENDING
    [event] = events_of(booked.appointment_id)
    assert (event.actor_id, event.kind, event.from_status, event.to_status, event.from_start_at, event.to_start_at) == (
        patient.id, "created", None, "pending", None, at(wall(3, 10)))
    mails = queued()
    assert [(m.recipient, m.subject) for m in mails] == [
        (patient_email, f"Request received: {service_name}"), (staff_email, f"New request from {name}")]
    assert "Reason: Sore throat" in mails[1].text_body


def test_a_booking_without_a_reason_stores_none(patient, provider):  # type: ignore[no-untyped-def]
    booked = book(patient, provider, wall(3, 10), None)
    assert fresh(booked.appointment_id).reason is None
    blank = book(patient, everyday_provider(), wall(4, 10), "  ")
    assert fresh(blank.appointment_id).reason is None


def test_a_reason_of_exactly_the_maximum_length_is_accepted_and_one_more_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        book(patient, provider, wall(3, 10), "x" * (REASON_MAX + 1))
    assert (refused.value.field, refused.value.message) == (
        "reason", f"Please keep the reason to {REASON_MAX} characters.")
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0

    booked = book(patient, provider, wall(3, 10), "x" * REASON_MAX)
    assert fresh(booked.appointment_id).reason == "x" * REASON_MAX


def test_a_cancel_reason_of_more_than_the_maximum_length_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    with pytest.raises(Invalid) as refused:
        booking.cancel_by_patient(patient.id, mine.id, "x" * (REASON_MAX + 1), CUTOFF)
    assert refused.value.field == "reason"
    assert fresh(mine.id).status == "approved"


def test_booking_a_provider_whose_staff_account_is_switched_off_is_refused(patient, provider):  # type: ignore[no-untyped-def]
    provider.user.active = False
    db.session.commit()

    with pytest.raises(NotFound) as refused:
        book(patient, provider, wall(3, 10))

    assert refused.value.message == "This provider is not taking bookings."
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_booking_a_provider_that_does_not_exist_says_it_is_not_taking_bookings(patient, provider):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as refused:
        booking.book_appointment(patient.id, provider.id + 1000, provider.services[0].id, naive(wall(3, 10)), None)
    assert refused.value.message == "This provider is not taking bookings."


def test_a_service_the_provider_does_not_offer_is_refused_on_the_service_field(patient, provider):  # type: ignore[no-untyped-def]
    other = make_service(name="Physiotherapy")
    with pytest.raises(Invalid) as refused:
        book(patient, provider, wall(3, 10), service=other)
    assert (refused.value.field, refused.value.message) == (
        "service_id", f"{provider.name} does not offer Physiotherapy.")


def test_a_start_that_is_not_free_is_refused_on_the_start_field(patient, provider):  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        book(patient, provider, wall(-1, 10))
    assert refused.value.field == "start"


@pytest.mark.parametrize("who", ["staff", "admin", "inactive patient"])
def test_only_an_active_patient_can_book(provider, who):  # type: ignore[no-untyped-def]
    person = make_user(Role.PATIENT, active=False) if who == "inactive patient" else make_user(Role(who))

    with pytest.raises(Forbidden) as refused:
        book(person, provider, wall(3, 10))

    assert refused.value.message == "Only patients with an active account can book."
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


@pytest.mark.parametrize("required", [True, False])
def test_a_patient_with_an_unconfirmed_address_books_only_when_the_clinic_does_not_require_it(make_app, required):  # type: ignore[no-untyped-def]
    with make_app(REQUIRE_VERIFIED_EMAIL=required).app_context():
        provider = everyday_provider()
        patient = make_user(Role.PATIENT)
        patient.email_verified_at = None
        db.session.commit()
        if required:
            with pytest.raises(Forbidden) as refused:
                book(patient, provider, wall(3, 10))
            assert refused.value.message == "Please confirm your e-mail address first: we sent you a link."
        else:
            assert book(patient, provider, wall(3, 10)).status is Status.PENDING


def test_a_start_exactly_at_the_previous_appointments_end_plus_buffer_is_offered_and_books(app, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider(buffer_after_min=30)
    make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    slots = logged_in(app, patient).get(f"/book/{provider.id}/slots?service={provider.services[0].id}"
                                        f"&date={wall(3, 10)[:10]}").get_data(as_text=True)
    assert f'data-slot-start="{wall(3, 11)}"' in slots and f'data-slot-start="{wall(3, 10, 30)}"' not in slots

    with pytest.raises(Conflict):  # inside the buffer
        book(patient, provider, wall(3, 10, 30))
    booked = book(patient, provider, wall(3, 11))

    assert fresh(booked.appointment_id).start_at == at(wall(3, 11))


# --- the patient's side: elsewhere, and one request a day -----------------------------------------


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.REJECTED])
def test_a_cancelled_or_declined_appointment_does_not_block_rebooking_its_time(patient, provider, status):  # type: ignore[no-untyped-def]
    make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=status)

    booked = book(patient, provider, wall(3, 10))

    assert fresh(booked.appointment_id).status == "pending"


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.REJECTED])
def test_a_cancelled_or_declined_appointment_elsewhere_does_not_block_the_patient(patient, provider, status):  # type: ignore[no-untyped-def]
    make_appointment(patient=patient, provider=everyday_provider(), start_at=at(wall(3, 10)), status=status)
    assert book(patient, provider, wall(3, 10)).status is Status.PENDING


def test_an_appointment_elsewhere_at_the_same_time_is_refused_with_its_reason(patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(patient=patient, provider=everyday_provider(), start_at=at(wall(3, 10)), status=Status.APPROVED)
    with pytest.raises(Conflict) as refused:
        book(patient, provider, wall(3, 10))
    assert refused.value.message == ELSEWHERE


def test_another_patients_appointment_elsewhere_does_not_block(patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(provider=everyday_provider(), start_at=at(wall(3, 10)), status=Status.APPROVED)
    assert book(patient, provider, wall(3, 10)).status is Status.PENDING


def test_back_to_back_appointments_with_two_providers_are_allowed(patient, provider):  # type: ignore[no-untyped-def]
    other = everyday_provider()
    make_appointment(patient=patient, provider=other, start_at=at(wall(3, 10)), status=Status.APPROVED)
    make_appointment(patient=patient, provider=other, start_at=at(wall(3, 11)), status=Status.APPROVED)

    between = book(patient, provider, wall(3, 10, 30))  # starts as one ends, ends as the other starts

    assert (fresh(between.appointment_id).start_at, fresh(between.appointment_id).end_at) == (
        at(wall(3, 10, 30)), at(wall(3, 11)))


def test_one_pending_request_a_day_per_provider_is_refused_with_its_reason(patient, provider):  # type: ignore[no-untyped-def]
    book(patient, provider, wall(3, 10))
    with pytest.raises(Conflict) as refused:
        book(patient, provider, wall(3, 15))
    assert refused.value.message == ONE_A_DAY


def test_the_one_request_a_day_rule_is_per_provider(patient, provider):  # type: ignore[no-untyped-def]
    book(patient, everyday_provider(), wall(3, 10))
    assert book(patient, provider, wall(3, 15)).status is Status.PENDING


def test_the_one_request_a_day_rule_is_per_patient(patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    assert book(patient, provider, wall(3, 15)).status is Status.PENDING


@pytest.mark.parametrize("status", [Status.APPROVED, Status.CANCELLED, Status.REJECTED])
def test_the_one_request_a_day_rule_counts_only_pending_requests(patient, provider, status):  # type: ignore[no-untyped-def]
    make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=status)
    assert book(patient, provider, wall(3, 15)).status is Status.PENDING


def test_the_one_request_a_day_rule_uses_the_providers_day_not_the_utc_day(patient):  # type: ignore[no-untyped-def]
    """Auckland is 13 hours ahead in December, 12 in June: its 09:00 is the previous UTC day."""
    zone = "Pacific/Auckland"
    provider = everyday_provider(zone=zone)
    book(patient, provider, wall(3, 9, zone=zone))  # 20:00 or 21:00 UTC, the day before

    with pytest.raises(Conflict) as refused:  # the same Auckland day, another UTC day
        book(patient, provider, wall(3, 16, zone=zone))
    assert refused.value.message == ONE_A_DAY
    # The next Auckland morning is on the UTC day of 16:00 the day before: another day for the provider.
    assert book(patient, provider, wall(4, 9, zone=zone)).status is Status.PENDING


def test_a_pending_request_at_the_providers_midnight_counts_for_that_day_only(patient, provider):  # type: ignore[no-untyped-def]
    make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 0)), status=Status.PENDING)
    make_appointment(patient=patient, provider=provider, start_at=at(wall(5, 0)), status=Status.PENDING)

    with pytest.raises(Conflict) as refused:
        book(patient, provider, wall(3, 10))
    assert refused.value.message == ONE_A_DAY
    assert book(patient, provider, wall(4, 10)).status is Status.PENDING  # the request at the next midnight is not its


# --- what the database says last -------------------------------------------------------------------


def test_a_database_refusal_other_than_an_overlap_is_not_answered_as_a_taken_slot(patient, provider, monkeypatch):  # type: ignore[no-untyped-def]
    """Only PostgreSQL's overlap constraint means 'just taken': any other IntegrityError is a fault to see."""
    monkeypatch.setattr(booking, "_clean_reason", lambda reason: reason)  # let a too-long reason reach the table

    with pytest.raises(IntegrityError):
        book(patient, provider, wall(3, 10), "x" * (REASON_MAX + 1))

    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


@pytest.fixture
def appointments_refuse_updates(app):  # type: ignore[no-untyped-def]
    """A rule of the database's own (a trigger) that refuses every change of an appointment's row."""
    if db.engine.dialect.name == "sqlite":
        create = ["CREATE TRIGGER refuse_moves BEFORE UPDATE ON appointments "
                  "BEGIN SELECT RAISE(ABORT, 'appointments are read-only here'); END"]
        drop = ["DROP TRIGGER refuse_moves"]
    else:
        create = ["CREATE FUNCTION refuse_moves() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "RAISE EXCEPTION 'appointments are read-only here' USING ERRCODE = 'check_violation'; END $$",
                  "CREATE TRIGGER refuse_moves BEFORE UPDATE ON appointments FOR EACH ROW EXECUTE FUNCTION refuse_moves()"]
        drop = ["DROP TRIGGER refuse_moves ON appointments", "DROP FUNCTION refuse_moves()"]
    with db.engine.begin() as connection:
        for statement in create:
            connection.execute(sa.text(statement))
    yield
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in drop:
            connection.execute(sa.text(statement))


def test_a_database_refusal_of_a_move_other_than_an_overlap_is_not_answered_as_a_taken_slot(  # type: ignore[no-untyped-def]
        patient, provider, appointments_refuse_updates):
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)

    with pytest.raises(IntegrityError, match="appointments are read-only here"):
        move(patient, mine, wall(4, 10))

    assert fresh(mine.id).start_at == at(wall(3, 10))
    assert events_of(mine.id) == [] and queued() == []


# --- under the provider's lock: what another request changed meanwhile --------------------------


class ProviderLockHeld:
    """Another transaction holding `provider_id`'s lock, as a staff decision or another move would.

    SQLite: its single write lock (BEGIN IMMEDIATE); PostgreSQL: the provider's row, FOR UPDATE. What it
    writes becomes visible when it commits, after the request waiting for the lock has already read the
    appointment once without it.
    """

    def __init__(self, app, provider_id: int) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            self.engine = db.engine
        self.connection = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            self.connection = self.connection.execution_options(booking_sqlite_begin_mode="IMMEDIATE")
        self.transaction = self.connection.begin()
        if self.engine.dialect.name != "sqlite":
            self.connection.execute(sa.text("SELECT id FROM providers WHERE id = :id FOR UPDATE"), {"id": provider_id})

    def write(self, statement: sa.Executable) -> None:
        self.connection.execute(statement)

    def release(self) -> None:
        self.transaction.commit()
        self.connection.close()


def while_locked(app, provider_id: int, change: sa.Executable, call) -> BaseException | None:  # type: ignore[no-untyped-def]
    """Run `call` in its own thread (own app context, session and connection) while another transaction
    holds the provider's lock and makes `change`; release it once `call` waits. Returns what it raised."""
    holder = ProviderLockHeld(app, provider_id)
    outcome: list[BaseException | None] = []

    def run() -> None:
        with app.app_context():
            try:
                call()
            except BaseException as error:  # noqa: BLE001 - handed to the test
                outcome.append(error)
            else:
                outcome.append(None)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    try:
        holder.write(change)
        thread.start()
        _wait_until_blocked(holder.engine, thread)
    finally:
        holder.release()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the request never got the lock"
    return outcome[0]


def changed(appointment_id: int, **values: object) -> sa.Executable:
    return sa.update(Appointment).where(Appointment.id == appointment_id).values(**values)


def _wait_until_blocked(engine, thread: threading.Thread) -> None:  # type: ignore[no-untyped-def]
    """Until the other request waits for the lock (PostgreSQL shows it), or a moment (SQLite cannot)."""
    deadline = time.monotonic() + 10
    if engine.dialect.name == "sqlite":
        time.sleep(1)
        return
    with engine.connect() as probe:
        while time.monotonic() < deadline and thread.is_alive():
            waiting = probe.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()
            probe.rollback()
            if waiting:
                return
            time.sleep(0.05)


def test_a_cancel_waiting_for_the_lock_sees_the_staff_decision_made_meanwhile(app, patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    patient_id, appointment_id = patient.id, mine.id

    error = while_locked(app, provider.id, changed(appointment_id, status="rejected"),
                         lambda: booking.cancel_by_patient(patient_id, appointment_id, "Feeling better", CUTOFF))

    assert isinstance(error, Conflict)
    assert error.message == "This appointment is rejected and cannot be cancelled."
    assert fresh(appointment_id).status == "rejected"
    assert events_of(appointment_id) == [] and queued() == []


def test_a_move_waiting_for_the_lock_sees_the_cancellation_made_meanwhile(app, patient, provider):  # type: ignore[no-untyped-def]
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    patient_id, appointment_id, later = patient.id, mine.id, naive(wall(4, 10))

    error = while_locked(app, provider.id, changed(appointment_id, status="cancelled"),
                         lambda: booking.reschedule_by_patient(patient_id, appointment_id, later, CUTOFF))

    assert isinstance(error, Conflict)
    assert error.message == "This appointment is cancelled and cannot be moved."
    assert (fresh(appointment_id).status, fresh(appointment_id).start_at) == ("cancelled", at(wall(3, 10)))
    assert events_of(appointment_id) == []


def test_a_move_waiting_for_the_lock_starts_from_where_another_move_left_it(app, patient, provider):  # type: ignore[no-untyped-def]
    """Two moves of one appointment: the second records the first's new time as where it came from."""
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    patient_id, appointment_id, last = patient.id, mine.id, naive(wall(5, 10))
    meanwhile = at(wall(4, 10)).astimezone(timezone.utc)

    error = while_locked(
        app, provider.id,
        changed(appointment_id, start_at=meanwhile, end_at=meanwhile + timedelta(minutes=30), status="pending"),
        lambda: booking.reschedule_by_patient(patient_id, appointment_id, last, CUTOFF))

    assert error is None
    assert (fresh(appointment_id).start_at, fresh(appointment_id).status) == (at(wall(5, 10)), "pending")
    [event] = events_of(appointment_id)
    assert (event.from_start_at, event.from_status, event.to_start_at) == (meanwhile, "pending", at(wall(5, 10)))
    assert all(f"It was {format_local(meanwhile, ZONE)}." in m.text_body for m in queued())


def test_a_cancel_racing_a_staff_rejection_lets_exactly_one_of_them_happen(app, patient, provider):  # type: ignore[no-untyped-def]
    from booking.services import decisions

    staff_id, patient_id, patient_email = provider.user.id, patient.id, patient.email
    for round_ in range(4):
        mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3 + round_, 10)),
                                status=Status.PENDING)
        appointment_id = mine.id
        results = all_at_once(app, [
            lambda: booking.cancel_by_patient(patient_id, appointment_id, None, CUTOFF),
            lambda: decisions.reject(staff_id, appointment_id, "The doctor is away"),
        ])

        [refused] = [r for r in results if isinstance(r, Exception)]
        assert isinstance(refused, Conflict)
        [event] = events_of(appointment_id)
        assert fresh(appointment_id).status == event.to_status
        assert event.to_status in {"cancelled", "rejected"}
        subject = "Cancelled: " if event.to_status == "cancelled" else "Request declined: "
        [told] = [m for m in queued() if m.appointment_id == appointment_id and m.recipient == patient_email]
        assert told.subject.startswith(subject)


def test_two_moves_of_one_appointment_at_once_leave_one_time_and_a_history_that_chains(app, patient, provider):  # type: ignore[no-untyped-def]
    """Each move starts from where the other left it: the second records the first's new time as its old one."""
    for round_ in range(3):
        mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3 + round_, 10)),
                                status=Status.APPROVED)
        patient_id, appointment_id = patient.id, mine.id
        targets = [naive(wall(3 + round_, 14)), naive(wall(3 + round_, 15))]

        results = all_at_once(app, [
            lambda t=t: booking.reschedule_by_patient(patient_id, appointment_id, t, CUTOFF) for t in targets])

        assert sorted(results, key=str) == [booking.Booked(appointment_id, Status.PENDING)] * 2
        first, second = events_of(appointment_id)
        assert (first.from_start_at, first.from_status) == (at(wall(3 + round_, 10)), "approved")
        assert (second.from_start_at, second.from_status) == (first.to_start_at, "pending")
        assert fresh(appointment_id).start_at == second.to_start_at
        assert {first.to_start_at, second.to_start_at} == {at(t.isoformat()) for t in targets}


def all_at_once(app, calls) -> list[object]:  # type: ignore[no-untyped-def]
    """Run the calls at the same moment, each in its own thread and app context; what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    guard = threading.Lock()

    def run(call) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            barrier.wait()
            try:
                result: object = call()
            except Exception as error:  # noqa: BLE001 - handed to the test
                result = error
            finally:
                db.session.remove()
            with guard:
                results.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a call hung"
    return results


# --- PostgreSQL's exclusion constraint, the last word when the application's own check misses -------


@pytest.fixture
def blind_overlap_check(backend, monkeypatch):  # type: ignore[no-untyped-def]
    """The booking service's look at the provider's busy time finds nothing, so only the database's
    exclusion constraint (PostgreSQL only) stands between two appointments at one time."""
    if backend.name != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    monkeypatch.setattr(booking, "busy_time", lambda *args, **kwargs: ([], []))


def logged_in(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client


def test_a_booking_stopped_by_the_exclusion_constraint_answers_409_and_books_nothing(app, patient, provider,  # type: ignore[no-untyped-def]
                                                                                    blind_overlap_check):
    rival = make_appointment(provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    with pytest.raises(booking.SlotTaken) as refused:
        book(patient, provider, wall(3, 10))
    assert (refused.value.status, refused.value.message) == (409, "That time was just taken; please pick another.")

    response = logged_in(app, patient).post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)))

    assert response.status_code == 409
    assert "That time was just taken; please pick another." in response.get_data(as_text=True)
    db.session.rollback()
    assert [a.id for a in db.session.scalars(sa.select(Appointment))] == [rival.id]


def test_a_move_stopped_by_the_exclusion_constraint_answers_409_and_keeps_its_time(app, patient, provider,  # type: ignore[no-untyped-def]
                                                                                  blind_overlap_check):
    make_appointment(provider=provider, start_at=at(wall(4, 10)), status=Status.PENDING)
    mine = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    with pytest.raises(booking.SlotTaken) as refused:
        move(patient, mine, wall(4, 10))
    assert refused.value.message == "That time was just taken; please pick another."

    response = logged_in(app, patient).post(f"/me/appointments/{mine.id}/reschedule", data={"start": wall(4, 10)})

    assert response.status_code == 409
    assert "That time was just taken; please pick another." in response.get_data(as_text=True)
    assert (fresh(mine.id).start_at, fresh(mine.id).status) == (at(wall(3, 10)), "approved")
    assert events_of(mine.id) == [] and queued() == []
