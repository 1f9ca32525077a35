"""The outbox: every e-mail is first a row, written in the transaction of the change that caused it."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow


class MailStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one deliverer
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; an admin may retry


STATUS_VALUES = ", ".join(f"'{s.value}'" for s in MailStatus)


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    # Whom and what the message concerns, so that erasing a person can find every message about them.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    ics: Mapped[str | None] = mapped_column(sa.Text)  # an iCalendar attachment, when the mail is about an appointment
    status: Mapped[str] = mapped_column(sa.String(16), default=MailStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
