"""What admins manage: accounts, specialties and services. One transaction per change."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from booking.domain.roles import Role
from booking.domain.timezones import is_valid_zone
from booking.extensions import db
from booking.models import Provider, Service, Specialty, User, write_transaction
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound, Problems, one_line
from booking.services.permissions import require_admin
from booking.services.provider_profiles import profile_problems, tidy_languages, tidy_location


def set_active(actor_id: int, user_id: int, active: bool) -> User:
    """Switch an account off or on. Nobody switches themselves off, and the last admin stays."""
    with write_transaction():
        require_admin(actor_id)
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("There is no such account.")
        if user.deleted_at is not None:
            raise Conflict("This account was deleted by its owner; it cannot be switched on again.")
        if not active:
            if user.id == actor_id:
                raise Conflict("You cannot switch off your own account.")
            if user.role == Role.ADMIN.value and user.active:
                # Locked: two admins switching each other off at once must not leave the clinic with none.
                query = sa.select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True)).order_by(User.id)
                if db.session.get_bind().dialect.name != "sqlite":
                    query = query.with_for_update()
                admins = set(db.session.scalars(query))
                if actor_id not in admins:
                    raise Forbidden("Only an administrator may do this.")
                if len(admins) <= 1:
                    raise Conflict("This is the last active admin; make another admin first.")
            user.end_all_sessions()  # a switched-off account is logged out everywhere at once
        user.active = active
    return user


def save_specialty(actor_id: int, specialty_id: int | None, name: str) -> Specialty:
    name = one_line(name)
    if not name or len(name) > 80:
        raise Invalid("Give the specialty a name of up to 80 characters.", field="name")
    try:
        with write_transaction():
            require_admin(actor_id)
            specialty = Specialty() if specialty_id is None else db.session.get(Specialty, specialty_id)
            if specialty is None:
                raise NotFound("There is no such specialty.")
            specialty.name = name
            db.session.add(specialty)
    except IntegrityError as error:
        raise Invalid("A specialty with that name exists already.", field="name") from error
    return specialty


#: The longest what-to-bring text: a short list fits many times over, and it travels in every e-mail.
WHAT_TO_BRING_MAX = 1000


def service_problems(name: str, duration_min: int, price_cents: int | None, what_to_bring: str | None = None) -> Problems:
    """Everything wrong with a service's fields at once (`price_cents` None: the caller could not read it)."""
    problems = Problems()
    name = one_line(name)
    if not name or len(name) > 120:
        problems.add("Give the service a name of up to 120 characters.", "name")
    if not 5 <= duration_min <= 1440:  # up to a whole day: a 24-hour service in a 00:00-24:00 block
        problems.add("A service lasts between 5 and 1440 minutes (a day).", "duration_min")
    if price_cents is not None and not 0 <= price_cents <= 100_000_000:
        problems.add("The price must be zero or more.", "price")
    if len((what_to_bring or "").strip()) > WHAT_TO_BRING_MAX:
        problems.add(f"Keep what to bring to {WHAT_TO_BRING_MAX:,} characters.", "what_to_bring")
    return problems


def save_service(actor_id: int, service_id: int | None, *, name: str, duration_min: int, price_cents: int,
                 description: str | None, auto_approve: bool, active: bool,
                 what_to_bring: str | None = None) -> Service:
    """Create or change a service; providers offering it see the change in their calendars.
    `what_to_bring` (None or blank: nothing) reaches the confirmation pages and e-mails of its appointments,
    booked already or not."""
    service_problems(name, duration_min, price_cents, what_to_bring).raise_any()
    name = one_line(name)
    try:
        with write_transaction():
            require_admin(actor_id)
            service = Service() if service_id is None else db.session.get(Service, service_id)
            if service is None:
                raise NotFound("There is no such service.")
            service.name, service.duration_min, service.price_cents = name, duration_min, price_cents
            service.description = (description or "").strip() or None
            service.what_to_bring = (what_to_bring or "").strip() or None
            service.auto_approve, service.active = auto_approve, active
            db.session.add(service)
            db.session.flush()
    except IntegrityError as error:
        raise Invalid("A service with that name exists already.", field="name") from error
    return service


@dataclass
class ProviderFields:
    """What an admin sets on a provider; checked here, and by the database's constraints."""

    user_id: int
    specialty_id: int | None
    service_ids: list[int]
    timezone: str
    buffer_before_min: int = 0
    buffer_after_min: int = 0
    slot_step_min: int | None = None
    min_notice_min: int = 120
    horizon_days: int = 60
    license_number: str | None = None
    years_experience: int | None = None
    fee_cents: int | None = None
    bio: str | None = None
    languages: str | None = None
    location: str | None = None  # a room or branch; empty: the clinic's address
    active: bool = True


def provider_problems(fields: ProviderFields, problems: Problems | None = None) -> Problems:
    """Everything wrong with a provider's settings that needs no database, all at once."""
    problems = problems if problems is not None else Problems()
    if not is_valid_zone(fields.timezone):
        problems.add("Choose a time zone from the list.", "timezone")
    for name, low, high in [("buffer_before_min", 0, 240), ("buffer_after_min", 0, 240), ("min_notice_min", 0, 60 * 24 * 30),
                            ("horizon_days", 1, 730)]:
        if name not in problems.fields() and not low <= getattr(fields, name) <= high:
            problems.add(f"{name.replace('_', ' ').replace(' min', ' (minutes)')} must be between {low} and {high}.", name)
    if fields.slot_step_min is not None and not 5 <= fields.slot_step_min <= 480:
        problems.add("The slot step is between 5 and 480 minutes, or empty for the service's length.", "slot_step_min")
    if len((fields.license_number or "").strip()) > 64:
        problems.add("Keep the licence number to 64 characters.", "license_number")
    profile_problems(bio=fields.bio, languages=fields.languages, location=fields.location, problems=problems)
    return problems


def save_provider(actor_id: int, provider_id: int | None, fields: ProviderFields) -> Provider:
    provider_problems(fields).raise_any()
    try:
        with write_transaction():
            require_admin(actor_id)
            user = db.session.get(User, fields.user_id)
            if user is None or user.role != Role.STAFF.value:
                raise Invalid("Link a staff account.", field="user_id")
            services = list(db.session.scalars(sa.select(Service).where(Service.id.in_(fields.service_ids))))
            if len(services) != len(set(fields.service_ids)):
                raise Invalid("Choose services from the list.", field="service_ids")
            specialty = db.session.get(Specialty, fields.specialty_id) if fields.specialty_id else None
            if fields.specialty_id and specialty is None:
                raise Invalid("Choose a specialty from the list.", field="specialty_id")
            if provider_id is None:
                if user.provider is not None:
                    raise Invalid(f"{user.full_name} already works as a provider.", field="user_id")
                provider = Provider(timezone=fields.timezone)
            else:
                provider = db.session.get(Provider, provider_id)
                if provider is None:
                    raise NotFound("There is no such provider.")
                if provider.user_id != user.id and user.provider is not None:
                    raise Invalid(f"{user.full_name} already works as a provider.", field="user_id")
            provider.user = user
            provider.specialty, provider.services = specialty, services
            for name in ("timezone", "buffer_before_min", "buffer_after_min", "slot_step_min", "min_notice_min",
                         "horizon_days", "years_experience", "fee_cents", "active"):
                setattr(provider, name, getattr(fields, name))
            provider.license_number = (fields.license_number or "").strip() or None
            provider.bio = (fields.bio or "").strip() or None
            provider.languages, provider.location = tidy_languages(fields.languages), tidy_location(fields.location)
            db.session.add(provider)
            db.session.flush()
    except IntegrityError as error:
        raise Invalid("Those values are not allowed.") from error
    return provider
