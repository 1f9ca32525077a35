"""What admins manage: accounts, specialties and services. One transaction per change."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider, Service, Specialty, User, write_transaction
from booking.services.errors import Conflict, Invalid, NotFound


def set_active(actor_id: int, user_id: int, active: bool) -> User:
    """Switch an account off or on. Nobody switches themselves off, and the last admin stays."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("There is no such account.")
        if not active:
            if user.id == actor_id:
                raise Conflict("You cannot switch off your own account.")
            if user.role == Role.ADMIN.value and user.active:
                admins = db.session.scalar(sa.select(sa.func.count(User.id)).where(
                    User.role == Role.ADMIN.value, User.active.is_(True)))
                if admins <= 1:
                    raise Conflict("This is the last active admin; make another admin first.")
            user.end_all_sessions()  # a switched-off account is logged out everywhere at once
        user.active = active
        if user.provider is not None:
            user.provider.schedule_changed()
    return user


def save_specialty(specialty_id: int | None, name: str) -> Specialty:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("Give the specialty a name of up to 80 characters.", field="name")
    try:
        with write_transaction():
            specialty = Specialty() if specialty_id is None else db.session.get(Specialty, specialty_id)
            if specialty is None:
                raise NotFound("There is no such specialty.")
            specialty.name = name
            db.session.add(specialty)
    except IntegrityError as error:
        raise Invalid("A specialty with that name exists already.", field="name") from error
    return specialty


def save_service(service_id: int | None, *, name: str, duration_min: int, price_cents: int,
                 description: str | None, auto_approve: bool, active: bool) -> Service:
    """Create or change a service; providers offering it see the change in their calendars."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("Give the service a name of up to 120 characters.", field="name")
    if not 5 <= duration_min <= 480:
        raise Invalid("A service lasts between 5 and 480 minutes.", field="duration_min")
    if not 0 <= price_cents <= 100_000_000:
        raise Invalid("The price must be zero or more.", field="price")
    try:
        with write_transaction():
            service = Service() if service_id is None else db.session.get(Service, service_id)
            if service is None:
                raise NotFound("There is no such service.")
            service.name, service.duration_min, service.price_cents = name, duration_min, price_cents
            service.description = (description or "").strip() or None
            service.auto_approve, service.active = auto_approve, active
            db.session.add(service)
            db.session.flush()
            for provider in db.session.scalars(sa.select(Provider).where(Provider.services.any(Service.id == service.id))):
                provider.schedule_changed()
    except IntegrityError as error:
        raise Invalid("A service with that name exists already.", field="name") from error
    return service
