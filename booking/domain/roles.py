"""Who someone is in the clinic decides what they may see and do."""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    ADMIN = "admin"


#: Where each role lands after logging in.
HOME_ENDPOINT = {
    Role.PATIENT: "patient.providers",
    Role.STAFF: "staff.requests",
    Role.ADMIN: "admin.appointments",
}
