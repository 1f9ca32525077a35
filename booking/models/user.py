"""People: accounts of every role, and the patient's profile."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.domain.roles import Role
from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from booking.models.clinic import Provider

def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class User(UserMixin, db.Model):
    """Anyone who logs in. The e-mail is stored lower-cased, and the database insists on it, so that
    the unique constraint is a case-insensitive one on every backend."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN ({ROLE_VALUES})", name="role_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
        sa.CheckConstraint("length(email) >= 3", name="email_not_blank"),
        sa.CheckConstraint("length(full_name) >= 1", name="full_name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    full_name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.PATIENT.value, index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the session and the remember-me cookie carry instead of the id; a new one ends them all.
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    #: The secret in the private calendar feed's address; a new one revokes every subscription to the old.
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True, default=new_calendar_token)
    #: Set when the person deleted the account: the row stays for the clinic's history, without identity.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optional e-mails the person may turn off; the essential ones (decisions, changes, account) always go.
    email_reminders: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    email_receipts: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    email_notes: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    email_clinic_updates: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    profile: Mapped[PatientProfile | None] = relationship(back_populates="user", cascade="all, delete-orphan")
    provider: Mapped[Provider | None] = relationship(back_populates="user")

    def get_id(self) -> str:
        """Flask-Login's key for this user: the revocable token, so a copied cookie dies at logout."""
        return self.session_token

    def end_all_sessions(self) -> None:
        """Every session and remember-me cookie issued so far stops working."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(r).value for r in roles}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class PatientProfile(db.Model):
    """What a clinic needs to know about a patient beyond the login."""

    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    date_of_birth: Mapped[date | None]
    address: Mapped[str | None] = mapped_column(sa.Text)
    emergency_contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    emergency_contact_phone: Mapped[str | None] = mapped_column(sa.String(32))
    blood_group: Mapped[str | None] = mapped_column(sa.String(8))
    medical_notes: Mapped[str | None] = mapped_column(sa.Text)
    timezone: Mapped[str | None] = mapped_column(sa.String(64))  # when it differs from the clinic's

    user: Mapped[User] = relationship(back_populates="profile")
