"""Reminders: due ones once, none for cancelled, a new one after a move, safe to run twice at once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment
from booking.services.reminders import queue_due_reminders
from tests.booking_helpers import everyday_provider
from tests.factories import make_appointment


def soon(hours: float) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=hours)


def reminders_in(box) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["To"] for m in box.messages if m["Subject"].startswith("Reminder")]


def test_due_reminders_go_once_and_only_for_approved_appointments(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    due = make_appointment(provider=provider, start_at=soon(5), status=Status.APPROVED)
    make_appointment(provider=provider, start_at=soon(6), status=Status.CANCELLED)
    make_appointment(provider=provider, start_at=soon(7), status=Status.PENDING)
    make_appointment(provider=provider, start_at=soon(40), status=Status.APPROVED)  # not due yet
    runner = app.test_cli_runner()

    first = runner.invoke(args=["send-reminders"])
    second = runner.invoke(args=["send-reminders"])

    assert "1 reminders queued" in first.output and "0 reminders queued" in second.output
    assert reminders_in(box) == [due.patient.email]


def test_a_moved_appointment_gets_a_reminder_for_its_new_time(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    appointment = make_appointment(provider=everyday_provider(), start_at=soon(5), status=Status.APPROVED)
    assert queue_due_reminders() == 1
    db.session.rollback()
    moved = db.session.get(Appointment, appointment.id)
    moved.start_at, moved.end_at = soon(8), soon(8.5)
    db.session.commit()
    assert queue_due_reminders() == 1
    assert queue_due_reminders() == 0


def test_two_runs_at_once_send_each_reminder_once(mail_app):  # type: ignore[no-untyped-def]
    app, _ = mail_app
    provider = everyday_provider()
    for hour in range(10):
        make_appointment(provider=provider, start_at=soon(2 + hour), status=Status.APPROVED)
    barrier, counts = threading.Barrier(2), []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            counts.append(queue_due_reminders())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) in ([0, 10], [1, 9], [2, 8], [3, 7], [4, 6], [5, 5]) and sum(counts) == 10
