"""The admin appointments table: filters, sorting and the query both the page and the CSV use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking.domain.status import Status
from booking.models import Appointment, Provider, User
from booking.models.queries import appointment_details, contains
from booking.patient import params
from booking.services.availability import day_bounds

Patient = aliased(User, name="patient")
Staff = aliased(User, name="staff")

#: sort key -> columns; a leading "-" in the request means descending
SORTS: dict[str, Any] = {
    "start": Appointment.start_at,
    "created": Appointment.created_at,
    "status": Appointment.status,
    "patient": Patient.full_name,
    "provider": Staff.full_name,
}


@dataclass
class Filters:
    status: str = ""
    provider: int | None = None
    specialty: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = "-start"

    def query_args(self, **override: Any) -> dict[str, Any]:
        """The filters as URL arguments (empty ones left out), for links that keep them."""
        values = {
            "status": self.status or None, "provider": self.provider, "specialty": self.specialty,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "q": self.q or None, "sort": self.sort if self.sort != "-start" else None,
        }
        values.update(override)
        return {k: v for k, v in values.items() if v is not None}

    def sort_link(self, key: str) -> str:
        """The sort value a column header links to: ascending first, then descending."""
        return f"-{key}" if self.sort == key else key


def read_filters() -> Filters:
    """From the query string; a malformed value is a 400 with a message, an unknown status is ignored."""
    status = params.single("status") or ""
    sort = params.single("sort") or "-start"
    return Filters(
        status=status if status in {s.value for s in Status} else "",
        provider=params.positive_id(params.single("provider"), "provider"),
        specialty=params.positive_id(params.single("specialty"), "specialty"),
        date_from=params.day(params.single("date_from")),
        date_to=params.day(params.single("date_to")),
        q=(params.single("q") or "")[:100],
        sort=sort if sort.lstrip("-") in SORTS else "-start",
    )


def filtered(filters: Filters, zone: str) -> sa.Select[tuple[Appointment]]:
    query = (
        sa.select(Appointment)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Provider, Provider.id == Appointment.provider_id)
        .join(Staff, Staff.id == Provider.user_id)
        .options(*appointment_details())
    )
    if filters.status:
        query = query.where(Appointment.status == filters.status)
    if filters.provider:
        query = query.where(Appointment.provider_id == filters.provider)
    if filters.specialty:
        query = query.where(Provider.specialty_id == filters.specialty)
    if filters.date_from:
        query = query.where(Appointment.start_at >= day_bounds(filters.date_from, zone)[0])
    if filters.date_to:
        query = query.where(Appointment.start_at < day_bounds(filters.date_to, zone)[1])
    if filters.q:
        query = query.where(sa.or_(
            contains(Patient.full_name, filters.q), contains(Patient.email, filters.q.lower()),
            contains(Patient.phone, filters.q),
        ))
    column = SORTS[filters.sort.lstrip("-")]
    order = column.desc() if filters.sort.startswith("-") else column.asc()
    return query.order_by(order, Appointment.id)
