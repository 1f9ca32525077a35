"""A person's own account: the details they keep, the e-mails they want, their calendar feed's secret."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from booking.domain.roles import Role
from booking.domain.timezones import zone_names
from booking.extensions import db
from booking.models import PatientProfile, User, write_transaction
from booking.models.user import new_calendar_token
from booking.services.errors import Invalid, NotFound, Problems, one_line
from booking.services.notify import OPTIONAL_EMAILS

BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
NOTES_MAX = 2000
ADDRESS_MAX = 500
OLDEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class ProfileFields:
    """What a person may change about themselves; the patient-only fields are ignored for staff."""

    full_name: str
    phone: str | None = None
    date_of_birth: date | None = None
    address: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None
    blood_group: str | None = None
    medical_notes: str | None = None
    timezone: str | None = None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zone_names())


def birth_date_problem(value: date | None, today: date) -> str | None:
    """Why a date of birth is refused (None when it is fine or not given)."""
    if value is not None and not date(OLDEST_BIRTH_YEAR, 1, 1) <= value <= today:
        return "Enter a date of birth in the past."
    return None


def zone_problem(value: str | None) -> str | None:
    """Why a chosen time zone is refused (None when it is one of the list, or none was chosen)."""
    if value and value not in _zones():
        return "Choose a time zone from the list."
    return None


def save_profile(user_id: int, fields: ProfileFields, today: date) -> User:
    """Save what a person keeps about themselves; every field that is wrong is told at once."""
    full_name = one_line(fields.full_name)
    problems = Problems()
    if not full_name:
        problems.add("Enter your name.", "full_name")
    if len(full_name) > 120:
        problems.add("Use at most 120 characters.", "full_name")
    if (problem := birth_date_problem(fields.date_of_birth, today)) is not None:
        problems.add(problem, "date_of_birth")
    if fields.blood_group and fields.blood_group not in BLOOD_GROUPS:
        problems.add("Choose a blood group from the list.", "blood_group")
    if (problem := zone_problem(fields.timezone)) is not None:
        problems.add(problem, "timezone")
    for name, limit in (("address", ADDRESS_MAX), ("medical_notes", NOTES_MAX)):
        if len(getattr(fields, name) or "") > limit:
            problems.add(f"Use at most {limit} characters.", name)
    problems.raise_any()
    with write_transaction():
        user = _own(user_id)
        user.full_name = full_name
        user.phone = _blank_to_none(fields.phone)
        if user.role == Role.PATIENT.value:
            profile = user.profile or PatientProfile(user=user)
            profile.date_of_birth = fields.date_of_birth
            for name in ("address", "emergency_contact_name", "emergency_contact_phone", "blood_group",
                         "medical_notes", "timezone"):
                setattr(profile, name, _blank_to_none(getattr(fields, name)))
    return user


def save_email_preferences(user_id: int, wanted: set[str]) -> User:
    """Turn the optional e-mails on or off; names outside OPTIONAL_EMAILS are refused, not ignored."""
    unknown = wanted - OPTIONAL_EMAILS.keys()
    if unknown:
        raise Invalid("Choose e-mails from the list.")
    with write_transaction():
        user = _own(user_id)
        for name in OPTIONAL_EMAILS:
            setattr(user, name, name in wanted)
    return user


def renew_calendar_token(user_id: int) -> User:
    """A new secret address for the calendar feed: every subscription to the old one stops working."""
    with write_transaction():
        user = _own(user_id)
        user.calendar_token = new_calendar_token()
    return user


def _own(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("There is no such account.")
    return user


def _blank_to_none(value: str | None) -> str | None:
    return (value or "").strip() or None
