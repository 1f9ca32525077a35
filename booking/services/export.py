"""A person's own data as one JSON document: what the clinic holds about them, in their hands.

Times are ISO 8601 in UTC, each with the provider's zone and the local time as the clinic showed it.
Notes are included only when they were shared with the patient; private staff notes are the clinic's.
Intake answers come with the question as it was asked when booking.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from booking.domain.timezones import format_local
from booking.extensions import db
from booking.models import Appointment, User
from booking.models.queries import appointment_details
from booking.services.notify import OPTIONAL_EMAILS

FORMAT_VERSION = 1


def personal_data(user_id: int, now: datetime) -> dict[str, Any]:
    user = db.session.get(User, user_id)
    assert user is not None
    profile = user.profile
    appointments = db.session.scalars(
        sa.select(Appointment).where(Appointment.patient_id == user.id)
        .options(*appointment_details(), selectinload(Appointment.events), selectinload(Appointment.notes))
        .order_by(Appointment.start_at)
    ).all()
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _iso(now),
        "account": {
            "email": user.email, "full_name": user.full_name, "phone": user.phone, "role": user.role,
            "created_at": _iso(user.created_at), "email_verified_at": _iso(user.email_verified_at),
        },
        "profile": None if profile is None else {
            "date_of_birth": profile.date_of_birth.isoformat() if profile.date_of_birth else None,
            "address": profile.address,
            "emergency_contact_name": profile.emergency_contact_name,
            "emergency_contact_phone": profile.emergency_contact_phone,
            "blood_group": profile.blood_group,
            "medical_notes": profile.medical_notes,
            "timezone": profile.timezone,
        },
        "email_preferences": {name: getattr(user, name) for name in OPTIONAL_EMAILS},
        "appointments": [_appointment(a) for a in appointments],
    }


def _appointment(appointment: Appointment) -> dict[str, Any]:
    zone = appointment.provider.timezone
    return {
        "id": appointment.id,
        "provider": appointment.provider.name,
        "service": appointment.service.name,
        "start": _iso(appointment.start_at),
        "end": _iso(appointment.end_at),
        "timezone": zone,
        "start_local": format_local(appointment.start_at, zone),
        "status": appointment.status,
        "reason": appointment.reason,
        "booked_at": _iso(appointment.created_at),
        "history": [
            {"at": _iso(e.created_at), "change": e.kind, "from_status": e.from_status, "to_status": e.to_status,
             "from_start": _iso(e.from_start_at), "to_start": _iso(e.to_start_at), "reason": e.reason,
             "by": "you" if e.actor_id == appointment.patient_id else ("the clinic" if e.actor_id else None)}
            for e in appointment.events
        ],
        "shared_notes": [{"at": _iso(n.created_at), "text": n.body} for n in appointment.notes if n.visible_to_patient],
        "intake_answers": [{"question": a.question, "answer": a.answer} for a in appointment.intake_answers],
    }


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None
