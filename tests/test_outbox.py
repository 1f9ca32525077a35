"""The outbox against a real SMTP server: sent after commit, retried with backoff, never twice."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import MailStatus, OutboxMessage, write_transaction
from booking.models.types import utcnow
from booking.services import outbox
from tests.mailbox import free_port


@pytest.fixture
def mail_app(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=3)
    with app.app_context():
        yield app, box


def queue(n: int = 1, **kwargs) -> list[int]:  # type: ignore[no-untyped-def]
    with write_transaction():
        messages = [outbox.enqueue(f"person{i}@example.com", f"Hello {i}", f"Plain {i}", f"<p>Html {i}</p>", **kwargs)
                    for i in range(n)]
        db.session.flush()
        ids = [m.id for m in messages]
    return ids


def rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_queued_message_is_delivered_with_both_bodies(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    queue(1)
    assert outbox.deliver() == (1, 0)
    [received] = box.to("person0@example.com")
    assert received["Subject"] == "Hello 0"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in received.walk()
             if not part.is_multipart()}
    assert "Plain 0" in parts["text/plain"] and "<p>Html 0</p>" in parts["text/html"]
    [row] = rows()
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
    assert outbox.deliver() == (0, 0)  # nothing is sent twice
    assert len(box.messages) == 1


def test_a_rolled_back_change_sends_nothing(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    with pytest.raises(RuntimeError):
        with write_transaction():
            outbox.enqueue("x@example.com", "Never", "Never")
            raise RuntimeError("the change failed")
    assert rows() == [] and outbox.deliver() == (0, 0) and box.messages == []


def test_a_crash_between_commit_and_sending_loses_nothing(mail_app):  # type: ignore[no-untyped-def]
    """Committed but never delivered (as if the process died): the next deliverer sends it."""
    _, box = mail_app
    queue(2)
    assert len(box.messages) == 0
    assert outbox.deliver() == (2, 0)
    assert len(box.messages) == 2


def test_a_claim_left_by_a_dead_deliverer_is_taken_over(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    [message_id] = queue(1)
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).values(status="sending", claim_token="dead",
                                                           claimed_at=utcnow() - timedelta(hours=1)))
    assert outbox.deliver() == (1, 0)
    assert rows()[0].status == "sent"


def test_failures_back_off_then_give_up_and_an_admin_can_retry(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=3)
    with down.app_context():
        [message_id] = queue(1)
        assert outbox.deliver() == (0, 1)
        [row] = rows()
        assert (row.status, row.attempts) == ("queued", 1)
        assert row.next_attempt_at > utcnow() + timedelta(seconds=50)  # backing off
        assert outbox.deliver() == (0, 0)  # not due yet
        for expected_attempts in (2, 3):
            with write_transaction():
                db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
            assert outbox.deliver() == (0, 1)
            assert rows()[0].attempts == expected_attempts
        [row] = rows()
        assert row.status == "failed" and "Error" in row.last_error
    up = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with up.app_context():
        outbox.retry(message_id)
        assert outbox.deliver() == (1, 0)
        assert rows()[0].status == "sent" and len(box.messages) == 1


def test_backoff_grows_and_is_capped() -> None:
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert outbox.backoff(30) == timedelta(hours=6)


def test_two_deliverers_at_once_send_each_message_exactly_once(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    queue(40)
    barrier = threading.Barrier(2)
    totals = []

    def deliverer() -> None:
        with app.app_context():
            barrier.wait()
            totals.append(outbox.deliver(limit=40))
            db.session.remove()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(sent for sent, _ in totals) == 40
    subjects = [m["Subject"] for m in box.messages]
    assert len(subjects) == 40 and len(set(subjects)) == 40
    assert {r.status for r in rows()} == {MailStatus.SENT.value}


def test_the_deliver_mail_command(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    queue(3)
    result = app.test_cli_runner().invoke(args=["deliver-mail", "--limit", "2"])
    assert result.exit_code == 0 and "2 sent" in result.output
    assert len(box.messages) == 2


def test_a_request_that_queues_mail_sends_it_right_after_its_response(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)

    @app.post("/test-only/notify")
    def notify():  # type: ignore[no-untyped-def]
        with write_transaction():
            outbox.enqueue("now@example.com", "Right away", "Sent after the response")
        return "queued"

    response = app.test_client().post("/test-only/notify")
    assert response.status_code == 200
    assert [m["Subject"] for m in box.to("now@example.com")] == ["Right away"]
    with app.app_context():
        assert rows()[0].status == "sent"


def test_admins_see_the_outbox_and_retry_a_failed_message(mail_app):  # type: ignore[no-untyped-def]
    from booking.domain.roles import Role
    from tests.factories import DEFAULT_PASSWORD, make_user

    app, box = mail_app
    client = app.test_client()
    [message_id] = queue(1)
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).values(status="failed", attempts=6, last_error="SMTPError: down"))
    client.post("/auth/login", data={"email": make_user(Role.ADMIN).email, "password": DEFAULT_PASSWORD})
    page = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert f'data-message-id="{message_id}"' in page and "SMTPError: down" in page and "failed (1)" in page
    assert client.post(f"/admin/outbox/{message_id}/retry").status_code == 303
    assert rows()[0].status == "sent" and len(box.messages) == 1
    assert client.post(f"/admin/outbox/{message_id}/retry").status_code == 409


def test_a_booking_while_the_mail_server_is_down_succeeds_and_its_mail_goes_once_later(make_app, smtp):  # type: ignore[no-untyped-def]
    import time_machine

    from booking.domain.roles import Role
    from booking.models import Appointment
    from tests.booking_helpers import booking_form, everyday_provider, wall
    from tests.factories import DEFAULT_PASSWORD, make_user

    box, port = smtp
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False)
    with down.app_context():
        provider = everyday_provider()
        staff_email = provider.user.email
        patient = make_user(Role.PATIENT, email="waiting@example.com")
        client = down.test_client()
        client.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD})
        assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
        waiting = rows()
        assert len(waiting) == 2 and {(r.status, r.attempts) for r in waiting} == {("queued", 1)}  # tried once, after the response
    up = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with up.app_context(), time_machine.travel(utcnow() + timedelta(minutes=2)):  # past the first backoff
        runner = up.test_cli_runner()
        assert "2 sent" in runner.invoke(args=["deliver-mail"]).output
        assert "0 sent" in runner.invoke(args=["deliver-mail"]).output
    assert sorted(m["To"] for m in box.messages) == sorted(["waiting@example.com", staff_email])
