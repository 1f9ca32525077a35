"""Notes on appointments: append-only, private to the clinic unless marked for the patient."""
from __future__ import annotations

from booking.extensions import db
from booking.models import Appointment, AppointmentNote, write_transaction
from booking.services import notify
from booking.services.errors import Invalid, NotFound
from booking.services.permissions import require_acting_for

NOTE_MAX = 2000


def add_note(author_id: int, appointment_id: int, body: str | None, visible_to_patient: bool = False) -> int:
    body = (body or "").strip()
    if not body:
        raise Invalid("Write the note first.", field="body")
    if len(body) > NOTE_MAX:
        raise Invalid(f"Please keep a note to {NOTE_MAX} characters.", field="body")
    with write_transaction():
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound("There is no such appointment.")
        require_acting_for(author_id, appointment.provider)
        note = AppointmentNote(appointment_id=appointment_id, author_id=author_id, body=body,
                               visible_to_patient=visible_to_patient)
        db.session.add(note)
        db.session.flush()
        if visible_to_patient:
            notify.note_shared(appointment, body)
        return note.id
