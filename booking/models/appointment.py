"""Appointments, their audit trail and the notes staff keep on them."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from booking.models.clinic import Provider, Service
    from booking.models.intake import IntakeAnswer
    from booking.models.user import User

STATUS_VALUES = ", ".join(f"'{s.value}'" for s in Status)
HOLDING_VALUES = ", ".join(f"'{s.value}'" for s in sorted(HOLDS_TIME))
REASON_MAX = 500


class Appointment(db.Model):
    """A patient's time with a provider for a service, stored in UTC.

    On PostgreSQL an exclusion constraint makes overlapping time-holding appointments of one provider
    impossible even if application code were wrong; the serialising transaction in
    `booking.models.locking` is what makes the friendly 409 possible before it.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="ends_after_start"),
        sa.CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        sa.CheckConstraint(f"reason IS NULL OR length(reason) <= {REASON_MAX}", name="reason_length"),
        sa.Index("ix_appointments_provider_start", "provider_id", "start_at"),
        sa.Index("ix_appointments_patient_start", "patient_id", "start_at"),
        sa.Index("ix_appointments_status_start", "status", "start_at"),
        ExcludeConstraint(
            (sa.column("provider_id"), "="),
            (sa.func.tstzrange(sa.column("start_at"), sa.column("end_at"), sa.literal_column("'[)'")), "&&"),
            name="ex_appointments_provider_time",
            using="gist",
            where=sa.text(f"status IN ({HOLDING_VALUES})"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="RESTRICT"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id", ondelete="RESTRICT"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default=Status.PENDING.value)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: The start time a reminder was sent for: a moved appointment gets a new one, nothing gets two.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    provider: Mapped[Provider] = relationship()
    service: Mapped[Service] = relationship()
    events: Mapped[list[AppointmentEvent]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", order_by="AppointmentEvent.id"
    )
    notes: Mapped[list[AppointmentNote]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", order_by="AppointmentNote.id"
    )
    intake_answers: Mapped[list[IntakeAnswer]] = relationship(
        cascade="all, delete-orphan", order_by="(IntakeAnswer.position, IntakeAnswer.id)"
    )

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME

    @property
    def status_reason(self) -> str | None:
        """Why it is in its status (a rejection's or cancellation's reason), from the audit trail."""
        for event in reversed(self.events):
            if event.to_status == self.status:
                return event.reason
        return None

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.status} {self.start_at:%Y-%m-%d %H:%M}Z>"


class AppointmentEvent(db.Model):
    """One change of status or time: who, when, from what to what, and why. Never updated."""

    __tablename__ = "appointment_events"
    __table_args__ = (
        sa.CheckConstraint(f"to_status IS NULL OR to_status IN ({STATUS_VALUES})", name="to_status_known"),
        sa.CheckConstraint(f"from_status IS NULL OR from_status IN ({STATUS_VALUES})", name="from_status_known"),
        sa.CheckConstraint("length(kind) >= 1", name="kind_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(sa.ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(32))  # created, status, rescheduled, ...
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    from_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    to_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class AppointmentNote(db.Model):
    """A note by staff or an admin; append-only, private unless marked visible to the patient."""

    __tablename__ = "appointment_notes"
    __table_args__ = (sa.CheckConstraint("length(body) >= 1", name="body_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(sa.ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    visible_to_patient: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()
