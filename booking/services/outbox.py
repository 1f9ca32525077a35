"""Delivering the outbox: claim rows atomically, send them, and retry with backoff.

An e-mail is a row written in the same transaction as the change that caused it, so a rollback
drops it and a crash after the commit loses nothing: whatever is still queued is sent by the next
delivery (right after the request that queued it, or `flask --app wsgi deliver-mail`). Rows are
claimed with one UPDATE that only takes queued rows, so two deliverers never send one message twice;
a claim left by a deliverer that died is taken over after CLAIM_TIMEOUT.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta
from email.utils import formataddr, make_msgid, parseaddr

import sqlalchemy as sa
from flask import Flask, current_app, g
from flask_mail import Message
from icalendar import Calendar
from sqlalchemy import event
from sqlalchemy.orm import Session

from booking.extensions import db, mail
from booking.models import MailStatus, OutboxMessage, write_transaction
from booking.models.types import utcnow

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=10)
READY_KEY = "booking_outbox_new"


def enqueue(recipient: str, subject: str, text: str, html: str | None = None, ics: str | None = None, *,
            user_id: int | None = None, appointment_id: int | None = None) -> OutboxMessage:
    """Queue a message in the caller's transaction; it is sent only if that transaction commits.

    `user_id` and `appointment_id` say whom and what it concerns, so erasing a person finds it. A subject
    is one line: a name or service typed with line breaks must neither add headers nor make the mail
    unsendable (the mailer refuses a subject with a bare line break).
    """
    subject = " ".join(subject.splitlines())[:200]
    message = OutboxMessage(recipient=recipient, subject=subject, text_body=text, html_body=html, ics=ics,
                            user_id=user_id, appointment_id=appointment_id)
    db.session.add(message)
    return message


def deliver(ids: Iterable[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Send what is due (or just `ids`); returns (sent, failed attempts)."""
    sent = failed = 0
    for message in _claim(list(ids) if ids is not None else None, limit):
        try:
            mail.send(_as_mail(message))
        except Exception as error:  # noqa: BLE001 - any failure of the mail server is retried
            failed += 1
            _record_failure(message, error)
        else:
            sent += 1
            _record(message.id, message.claim_token, status=MailStatus.SENT.value, sent_at=utcnow(),
                    claim_token=None, last_error=None, attempts=message.attempts + 1)
    return sent, failed


def retry(message_id: int) -> None:
    """Give a failed message another round of attempts (the admin's retry)."""
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.FAILED.value
        ).values(status=MailStatus.QUEUED.value, attempts=0, next_attempt_at=utcnow(), last_error=None))


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 1, 2, 4, 8 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def init_outbox(app: Flask) -> None:
    """Deliver the messages a request queued as soon as its response has gone out."""

    @app.after_request
    def _deliver_after_response(response):  # type: ignore[no-untyped-def]
        ready = g.pop(READY_KEY, None)
        if ready and app.config.get("MAIL_DELIVER_AFTER_COMMIT", True):
            response.call_on_close(lambda: _deliver_in_context(app, ready))
        return response


def _deliver_in_context(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            deliver(ids)
        except Exception:  # noqa: BLE001 - the rows stay queued; deliver-mail will try again
            log.exception("delivering %d message(s) after commit failed", len(ids))
        finally:
            db.session.remove()


@event.listens_for(Session, "after_flush")
def _note_new_messages(session: Session, _context) -> None:  # type: ignore[no-untyped-def]
    new = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        session.info.setdefault(READY_KEY, []).extend(new)


@event.listens_for(Session, "after_commit")
def _hand_over_committed(session: Session) -> None:
    committed = session.info.pop(READY_KEY, None)
    if committed and g:
        g.setdefault(READY_KEY, []).extend(committed)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _transaction) -> None:  # type: ignore[no-untyped-def]
    session.info.pop(READY_KEY, None)


def _claim(ids: list[int] | None, limit: int) -> list[OutboxMessage]:
    now = utcnow()
    token = secrets.token_hex(16)
    due = sa.or_(
        sa.and_(OutboxMessage.status == MailStatus.QUEUED.value, OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.status == MailStatus.SENDING.value, OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
    )
    candidates = sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        candidates = candidates.where(OutboxMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE is computed once, so its LIMIT holds (PostgreSQL may re-run a plain IN-subquery with FOR
    # UPDATE and take more rows). The outer condition is checked again on each row as it is updated: a
    # row another deliverer claimed in the meantime no longer matches and is left alone.
    picked = candidates.cte("picked")
    with write_transaction():
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(sa.select(picked.c.id)), due)
            .values(status=MailStatus.SENDING.value, claim_token=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.claim_token == token)
                                   .order_by(OutboxMessage.id).execution_options(populate_existing=True)))


def _record(message_id: int, token: str | None, **values) -> None:  # type: ignore[no-untyped-def]
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.claim_token == token).values(**values)
            .execution_options(synchronize_session=False))


def _record_failure(message: OutboxMessage, error: Exception) -> None:
    attempts = message.attempts + 1
    final = attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    log.warning("sending message %s failed (attempt %s): %s", message.id, attempts, error)
    _record(message.id, message.claim_token, attempts=attempts, claim_token=None,
            status=(MailStatus.FAILED if final else MailStatus.QUEUED).value,
            next_attempt_at=utcnow() + backoff(attempts), last_error=f"{type(error).__name__}: {error}"[:2000])


class _Mail(Message):
    """A Flask-Mail message whose text/calendar alternative names its iTIP method, as RFC 6047 asks, and
    whose From is written plainly: Flask-Mail encodes even an ASCII name ("=?utf-8?q?Riverside_Clinic?="),
    which spam filters count against a message. A name outside ASCII is still encoded."""

    calendar_method = "PUBLISH"

    def _mimetext(self, text: str | None, subtype: str = "plain"):  # type: ignore[no-untyped-def]
        part = super()._mimetext(text, subtype)
        if subtype == "calendar":
            part.replace_header("Content-Type", f"text/calendar; method={self.calendar_method}; charset=UTF-8")
        return part

    def _message(self):  # type: ignore[no-untyped-def]
        message = super()._message()
        name, address = parseaddr(self.sender) if isinstance(self.sender, str) else self.sender
        message.replace_header("From", formataddr((name, address)))
        return message


def _as_mail(message: OutboxMessage) -> Message:
    """The message as mail programs expect it.

    From is the clinic by name and address (MAIL_DEFAULT_SENDER), and the Message-ID is in the sender's
    domain, as RFC 5322 asks (Flask-Mail would use this machine's host name, often "localhost"). A
    calendar file travels the way RFC 6047 and Outlook and Gmail expect an invitation: as a text/calendar
    alternative beside the text and HTML, with the method of the file (REQUEST, CANCEL, PUBLISH), which
    is what makes them show an invitation card; and once more as an attachment for people who save it,
    typed application/ics as Gmail sends it, because a second text/calendar part would be read by some
    programs as a second invitation.
    """
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    mail_message = _Mail(subject=message.subject, recipients=[message.recipient], body=message.text_body,
                         html=message.html_body, sender=sender)
    mail_message.msgId = make_msgid(domain=sender_address().rpartition("@")[2] or None)
    if message.ics:
        mail_message.calendar_method = calendar_method(message.ics)
        mail_message.alts["calendar"] = message.ics
        mail_message.attach("appointment.ics", "application/ics", message.ics.encode())
    return mail_message


def calendar_method(ics: str) -> str:
    """The METHOD of a calendar file, read as a calendar program reads it (text inside the file, such as
    a service named "METHOD:CANCEL", is not its method)."""
    return str(Calendar.from_ical(ics).get("METHOD", "PUBLISH")).upper()


def sender_address() -> str:
    """The address part of MAIL_DEFAULT_SENDER (by default the clinic's own, CLINIC_EMAIL)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, (tuple, list)):
        return str(sender[1])
    return parseaddr(sender)[1]


def pending_counts() -> dict[str, int]:
    return dict(db.session.execute(sa.select(OutboxMessage.status, sa.func.count(OutboxMessage.id))
                                   .group_by(OutboxMessage.status)).all())

