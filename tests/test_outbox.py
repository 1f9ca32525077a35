"""The outbox against a real SMTP server: sent after commit, retried with backoff, never twice."""
from __future__ import annotations

import logging
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


class _Died(BaseException):
    """A deliverer's process ending mid-send (not an Exception: nothing in deliver catches it)."""


def _dying_once(app):  # type: ignore[no-untyped-def]
    """While connected, the first message handed to the mail server ends its deliverer right after."""
    from flask_mail import email_dispatched

    calls = []

    def die(_app, message):  # type: ignore[no-untyped-def]
        if not calls:
            calls.append(message)
            raise _Died
    return email_dispatched.connected_to(die, sender=app)


def test_a_sent_message_is_never_taken_over_as_a_stale_claim(mail_app):  # type: ignore[no-untyped-def]
    """The takeover is for rows still being sent: a sent row keeps its old claimed_at, and taking it over
    would send every e-mail again ten minutes later."""
    import time_machine

    _, box = mail_app
    queue(1)
    assert outbox.deliver() == (1, 0)
    with time_machine.travel(utcnow() + timedelta(hours=1)):
        assert outbox.deliver() == (0, 0)
    assert len(box.messages) == 1 and rows()[0].status == "sent"


def test_a_claim_is_taken_over_only_after_ten_minutes(mail_app):  # type: ignore[no-untyped-def]
    """A deliverer that died mid-send leaves the row sending: another one waits CLAIM_TIMEOUT (strictly
    longer) before sending it again, so a live but slow deliverer is not doubled."""
    import time_machine

    app, box = mail_app
    queue(1)
    start = utcnow()
    with time_machine.travel(start, tick=False), _dying_once(app), pytest.raises(_Died):
        outbox.deliver()
    [row] = rows()
    assert (row.status, row.claim_token is not None) == ("sending", True)
    for later in (timedelta(minutes=5), outbox.CLAIM_TIMEOUT):
        with time_machine.travel(start + later, tick=False):
            assert outbox.deliver() == (0, 0)
    with time_machine.travel(start + outbox.CLAIM_TIMEOUT + timedelta(seconds=1), tick=False):
        assert outbox.deliver() == (1, 0)
    [row] = rows()
    assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)
    assert len(box.messages) == 2  # the dead deliverer's copy had gone out: at least once, never lost


def test_a_deliverer_whose_claim_was_taken_over_does_not_write_the_row(make_app, smtp):  # type: ignore[no-untyped-def]
    """A slow deliverer finishes after its claim was taken over: the new claimant's result stands."""
    from flask_mail import email_dispatched

    box, port = smtp
    slow = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=3)
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=3)
    results = []

    def taken_over_meanwhile(_app, message):  # type: ignore[no-untyped-def]
        def other() -> None:
            with down.app_context():
                with write_transaction():
                    db.session.execute(sa.update(OutboxMessage).values(claimed_at=utcnow() - timedelta(hours=1)))
                results.append(outbox.deliver())
                db.session.remove()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=60)

    with slow.app_context():
        queue(1)
        with email_dispatched.connected_to(taken_over_meanwhile, sender=slow):
            assert outbox.deliver() == (1, 0)  # it did send, but the row is no longer its own
        assert results == [(0, 1)]
        [row] = rows()
        assert (row.status, row.attempts, row.claim_token, row.sent_at) == ("queued", 1, None, None)
        assert "Error" in row.last_error
    assert len(box.messages) == 1


def test_a_retried_message_starts_its_attempts_again(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=2)
    with down.app_context():
        [message_id, other_id] = queue(2)
        with write_transaction():
            db.session.execute(sa.update(OutboxMessage).values(status="failed", attempts=2, last_error="SMTPError"))
        outbox.retry(message_id)
        retried, untouched = rows()
        assert (retried.status, retried.attempts, retried.last_error) == ("queued", 0, None)
        assert retried.next_attempt_at <= utcnow()
        assert (untouched.status, untouched.attempts, untouched.last_error) == ("failed", 2, "SMTPError")
        assert outbox.deliver() == (0, 1)  # one fresh attempt used, one left before it fails again
        assert (rows()[0].status, rows()[0].attempts) == ("queued", 1)
    up = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with up.app_context():
        with write_transaction():
            db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                               .values(next_attempt_at=utcnow()))
        assert outbox.deliver() == (1, 0)
        [sent, _] = rows()  # the error of the attempt before is gone with its success
        assert (sent.status, sent.attempts, sent.last_error, sent.claim_token) == ("sent", 2, None, None)


def test_only_a_failed_message_can_be_retried(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    [queued_id, sent_id] = queue(2)
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == queued_id)
                           .values(attempts=2, next_attempt_at=utcnow() + timedelta(hours=1), last_error="Timeout"))
    outbox.deliver([sent_id])
    outbox.retry(queued_id)
    outbox.retry(sent_id)
    waiting, sent = rows()
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 2, "Timeout")
    assert waiting.next_attempt_at > utcnow() + timedelta(minutes=50)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert len(box.messages) == 1


def test_the_backoff_doubles_from_one_minute_up_to_six_hours() -> None:
    minutes = [outbox.backoff(n) / timedelta(minutes=1) for n in range(0, 12)]
    assert minutes == [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]


def test_a_failed_attempt_waits_its_backoff_and_gives_up_at_the_maximum(make_app, caplog):  # type: ignore[no-untyped-def]
    import time_machine

    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False, MAIL_MAX_ATTEMPTS=3)
    with down.app_context():
        [message_id, _] = queue(2)
        now = utcnow()
        seen = []
        for attempt in (1, 2, 3):
            with time_machine.travel(now, tick=False):
                assert outbox.deliver() == (0, 2)
            row = rows()[0]
            seen.append((row.status, row.attempts, row.claim_token, row.next_attempt_at - now))
            [warning] = [r for r in caplog.records if r.name == "booking.services.outbox" and r.args[0] == message_id]
            assert warning.getMessage().startswith(f"sending message {message_id} failed (attempt {attempt}): ")
            assert isinstance(warning.args[2], OSError) and str(warning.args[2]) in warning.getMessage()
            caplog.clear()
            now = row.next_attempt_at
        assert seen == [("queued", 1, None, timedelta(minutes=1)), ("queued", 2, None, timedelta(minutes=2)),
                        ("failed", 3, None, timedelta(minutes=4))]
        assert rows()[0].last_error.startswith(("ConnectionRefusedError: ", "OSError: "))
        with time_machine.travel(now + timedelta(days=1), tick=False):
            assert outbox.deliver() == (0, 0)  # a failed message waits for an admin


def test_a_message_due_exactly_now_is_sent(mail_app):  # type: ignore[no-untyped-def]
    import time_machine

    _, box = mail_app
    queue(1)
    now = utcnow() + timedelta(minutes=3)
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=now))
    with time_machine.travel(now, tick=False):
        assert outbox.deliver() == (1, 0)
    assert len(box.messages) == 1


def test_delivering_some_ids_leaves_the_other_due_messages_queued(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    first, second, third = queue(3)
    assert outbox.deliver([first, third]) == (2, 0)
    assert [r.status for r in rows()] == ["sent", "queued", "sent"]
    assert sorted(m["To"] for m in box.messages) == ["person0@example.com", "person2@example.com"]
    assert outbox.deliver([]) == (0, 0)


def test_a_request_sends_right_away_only_the_mail_it_queued(make_app, smtp):  # type: ignore[no-untyped-def]
    """An older message waiting for its backoff is not sent early by somebody else's request."""
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)

    @app.post("/test-only/notify")
    def notify():  # type: ignore[no-untyped-def]
        with write_transaction():
            outbox.enqueue("now@example.com", "Right away", "Sent after the response")
        return "queued"

    with app.app_context():
        queue(1)  # due, but left to deliver-mail
    assert app.test_client().post("/test-only/notify").status_code == 200
    assert [m["To"] for m in box.messages] == ["now@example.com"]
    with app.app_context():
        assert [r.status for r in rows()] == ["queued", "sent"]


def test_what_is_sent_is_what_was_queued(make_app, smtp):  # type: ignore[no-untyped-def]
    from booking.domain.roles import Role
    from tests.factories import make_appointment, make_user

    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False,
                   MAIL_DEFAULT_SENDER=("Riverside Clinic", "desk@riverside.example"))
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1@riverside.example\r\n"
           "DTSTAMP:20260101T000000Z\r\nDTSTART:20260102T090000Z\r\nSUMMARY:Check-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    with app.app_context():
        user = make_user(Role.PATIENT, email="ann@example.com")
        appointment = make_appointment(patient=user)
        with write_transaction():
            outbox.enqueue("ann@example.com", "Your visit\non Friday", "Plain words", "<p>Html words</p>", ics,
                           user_id=user.id, appointment_id=appointment.id)
        [row] = rows()  # whom and what it concerns, so that erasing the person finds it
        assert (row.recipient, row.subject) == ("ann@example.com", "Your visit on Friday")
        assert (row.user_id, row.appointment_id) == (user.id, appointment.id)
        assert outbox.deliver() == (1, 0)
    [received] = box.to("ann@example.com")
    assert received["To"] == "ann@example.com" and received["Subject"] == "Your visit on Friday"
    assert received["From"] == "Riverside Clinic <desk@riverside.example>"
    assert received["Message-ID"].endswith("@riverside.example>")
    parts = [part for part in received.walk() if not part.is_multipart()]
    by_type = {part.get_content_type(): part for part in parts}
    assert by_type["text/plain"].get_payload(decode=True).decode() == "Plain words"
    assert by_type["text/html"].get_payload(decode=True).decode() == "<p>Html words</p>"
    assert by_type["text/calendar"]["Content-Type"] == "text/calendar; method=PUBLISH; charset=UTF-8"  # none given
    assert by_type["text/calendar"].get_payload(decode=True).decode() == ics
    assert by_type["application/ics"].get_payload(decode=True).decode() == ics
    assert by_type["application/ics"].get_filename() == "appointment.ics"


def test_a_text_only_message_is_plain_text(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    with write_transaction():
        outbox.enqueue("plain@example.com", "x" * 150 + "\n" + "y" * 100, "Only words")
    outbox.deliver()
    [received] = box.to("plain@example.com")
    assert received.get_content_type() == "text/plain" and not received.is_multipart()
    assert received.get_payload(decode=True).decode().strip() == "Only words"
    assert rows()[0].subject == "x" * 150 + " " + "y" * 49  # one line, 200 characters at most


def test_the_outbox_counts_its_messages_by_status(mail_app):  # type: ignore[no-untyped-def]
    first, *_ = queue(3)
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == first).values(status="failed"))
    assert outbox.pending_counts() == {"failed": 1, "queued": 2}


def test_a_delivery_takes_the_oldest_hundred_due_messages_at_a_time(mail_app):  # type: ignore[no-untyped-def]
    _, box = mail_app
    ids = queue(101)
    assert outbox.deliver() == (100, 0)
    assert [r.id for r in rows() if r.status == "queued"] == [ids[-1]]
    assert outbox.deliver() == (1, 0) and len(box.messages) == 101


def test_a_delivery_failing_after_the_response_is_logged_and_the_answer_stands(make_app, caplog):  # type: ignore[no-untyped-def]
    """Whatever breaks the delivery after a response (here a setting gone missing) cannot change the
    answer already sent; it is logged with the number of messages, and deliver-mail tries again."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=False)
    del app.config["MAIL_MAX_ATTEMPTS"]

    @app.post("/test-only/notify")
    def notify():  # type: ignore[no-untyped-def]
        with write_transaction():
            outbox.enqueue("one@example.com", "One", "One")
            outbox.enqueue("two@example.com", "Two", "Two")
        return "queued"

    assert app.test_client().post("/test-only/notify").status_code == 200
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "booking.services.outbox"]
    assert failure.getMessage() == "delivering 2 message(s) after commit failed" and failure.exc_info


def test_the_message_id_is_in_the_domain_after_the_senders_last_at(make_app, smtp):  # type: ignore[no-untyped-def]
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False,
                   CLINIC_EMAIL="desk@riverside.example",
                   MAIL_DEFAULT_SENDER='Riverside Clinic <"front@desk"@riverside.example>')
    with app.app_context():
        queue(1)
        assert outbox.deliver() == (1, 0)
    [received] = box.messages
    assert received["Message-ID"].split("@", 1)[1] == "riverside.example>"


def test_a_cut_batch_sends_the_longest_waiting_messages_in_the_order_they_were_queued(mail_app):  # type: ignore[no-untyped-def]
    """Oldest first, whether a message is due since long ago, just now, or was left by a dead deliverer."""
    _, box = mail_app
    first, second, third, fourth = queue(4)
    now = utcnow()
    with write_transaction():
        for message_id, due in ((first, now - timedelta(minutes=1)), (second, now - timedelta(hours=2)),
                                (fourth, now - timedelta(hours=3))):
            db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                               .values(next_attempt_at=due))
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == third)
                           .values(status="sending", claim_token="dead", claimed_at=now - timedelta(hours=1)))
    assert outbox.deliver(limit=3) == (3, 0)
    assert [m["To"] for m in box.messages] == ["person0@example.com", "person1@example.com", "person2@example.com"]
    assert [r.status for r in rows()] == ["sent", "sent", "sent", "queued"]


def test_a_failure_keeps_at_most_2000_characters_of_its_error(make_app):  # type: ignore[no-untyped-def]
    """A mail server may explain a refusal at any length; the row keeps the start of it."""
    from aiosmtpd.controller import Controller

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]  # noqa: N802
            return "550 " + "this mailbox does not exist here " * 80

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
        with app.app_context():
            queue(1)
            assert outbox.deliver() == (0, 1)
            [row] = rows()
    finally:
        controller.stop()
    assert row.status == "queued" and len(row.last_error) == 2000
    assert row.last_error.startswith("SMTPRecipientsRefused: ") and "this mailbox does not exist here" in row.last_error
