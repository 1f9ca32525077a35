"""What the clinic offers and when: specialties, services, providers, working hours, time off."""
from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from booking.models.user import User

provider_services = sa.Table(
    "provider_services",
    db.metadata,
    sa.Column("provider_id", sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Specialty(db.Model):
    __tablename__ = "specialties"
    __table_args__ = (sa.CheckConstraint("length(name) >= 1", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)

    providers: Mapped[list[Provider]] = relationship(back_populates="specialty")


class Service(db.Model):
    """Something that can be booked: a consultation, a haircut, a mortgage meeting."""

    __tablename__ = "services"
    __table_args__ = (
        sa.CheckConstraint("duration_min > 0 AND duration_min <= 1440", name="duration_positive"),
        sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
        sa.CheckConstraint("length(name) >= 1", name="name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    duration_min: Mapped[int]
    price_cents: Mapped[int] = mapped_column(default=0)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: What a patient should bring (a referral letter, their medication list): on the confirmation page
    #: and in the patient's e-mails. Plain text, set by admins in the service editor.
    what_to_bring: Mapped[str | None] = mapped_column(sa.Text)
    auto_approve: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    providers: Mapped[list[Provider]] = relationship(secondary=provider_services, back_populates="services")


class Provider(db.Model):
    """A bookable person (a doctor, a stylist, an adviser), always a staff user's working identity.

    Its row is the lock that serialises bookings for it (see `booking.models.locking`).
    """

    __tablename__ = "providers"
    __table_args__ = (
        sa.CheckConstraint("buffer_before_min >= 0 AND buffer_before_min <= 240", name="buffer_before_range"),
        sa.CheckConstraint("buffer_after_min >= 0 AND buffer_after_min <= 240", name="buffer_after_range"),
        sa.CheckConstraint("slot_step_min IS NULL OR slot_step_min > 0", name="slot_step_positive"),
        sa.CheckConstraint("min_notice_min >= 0", name="min_notice_not_negative"),
        sa.CheckConstraint("horizon_days > 0", name="horizon_positive"),
        sa.CheckConstraint("years_experience IS NULL OR years_experience >= 0", name="experience_not_negative"),
        sa.CheckConstraint("fee_cents IS NULL OR fee_cents >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    specialty_id: Mapped[int | None] = mapped_column(sa.ForeignKey("specialties.id", ondelete="SET NULL"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    buffer_before_min: Mapped[int] = mapped_column(default=0, server_default="0")
    buffer_after_min: Mapped[int] = mapped_column(default=0, server_default="0")
    slot_step_min: Mapped[int | None]  # None: the service's duration
    min_notice_min: Mapped[int] = mapped_column(default=120, server_default="120")
    horizon_days: Mapped[int] = mapped_column(default=60, server_default="60")
    license_number: Mapped[str | None] = mapped_column(sa.String(64))
    years_experience: Mapped[int | None]
    fee_cents: Mapped[int | None]  # consultation fee, when it differs from the service price
    bio: Mapped[str | None] = mapped_column(sa.Text)
    #: Languages spoken, as shown ("English, Polish"); `booking.services.provider_profiles` tidies what is typed.
    languages: Mapped[str | None] = mapped_column(sa.String(200))
    #: Where patients find the provider (a room, a branch); None: at the clinic's address (CLINIC_ADDRESS).
    location: Mapped[str | None] = mapped_column(sa.String(200))
    #: The SHA-256 of the photo in `provider_photos` (None: no photo, initials are shown), kept here so a
    #: page builds the photo's address from the row it already has (see `booking.models.media`).
    photo_hash: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="provider")
    specialty: Mapped[Specialty | None] = relationship(back_populates="providers")
    services: Mapped[list[Service]] = relationship(secondary=provider_services, back_populates="providers")
    working_hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="(WorkingHours.weekday, WorkingHours.start_time)"
    )
    time_off: Mapped[list[TimeOff]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="TimeOff.start_at"
    )

    @property
    def name(self) -> str:
        return self.user.full_name


class WorkingHours(db.Model):
    """One block starting on a weekday (0 = Monday) in the provider's own zone; a day may have several.

    An end at or before the start ends the next day: 22:00-06:00 is a night, an end of 00:00 is
    midnight (24:00), and 00:00-00:00 is the whole day (`booking.domain.availability.Block`). An end
    equal to any other start would be a 24-hour block that more likely is a typing slip, so the
    database refuses it; the editor stores whole minutes only.
    """

    __tablename__ = "working_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        # '00:00:01' rather than '00:00:00': SQLite keeps times as text with microseconds
        sa.CheckConstraint("end_time <> start_time OR start_time < '00:00:01'", name="not_empty"),
        sa.Index("ix_working_hours_provider_weekday", "provider_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]

    provider: Mapped[Provider] = relationship(back_populates="working_hours")

    @property
    def ends_next_day(self) -> bool:
        return self.end_time <= self.start_time


class TimeOff(db.Model):
    """A blocked interval: a holiday, a training day, a long break."""

    __tablename__ = "time_off"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="ends_after_start"),
        sa.Index("ix_time_off_provider_start", "provider_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider] = relationship(back_populates="time_off")
