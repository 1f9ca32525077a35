"""Who may change what. The services check it themselves, inside their transactions, so that a route
which forgot a check still cannot let the wrong person change anything."""
from __future__ import annotations

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Provider, User
from booking.services.errors import Forbidden

NOT_YOURS = "Only an administrator or the provider's own staff may do this."


def acting(actor_id: int) -> User:
    """The person acting: an active, undeleted account."""
    actor = db.session.get(User, actor_id)
    if actor is None or not actor.active or actor.deleted_at is not None:
        raise Forbidden("Your account cannot do this.")
    return actor


def may_act_for(user: User, provider: Provider) -> bool:
    """Admins act for every provider; staff for the providers they work as."""
    if user.role == Role.ADMIN.value:
        return True
    return user.role == Role.STAFF.value and provider.user_id == user.id


def require_admin(actor_id: int) -> User:
    actor = acting(actor_id)
    if actor.role != Role.ADMIN.value:
        raise Forbidden("Only an administrator may do this.")
    return actor


def require_acting_for(actor_id: int, provider: Provider) -> User:
    actor = acting(actor_id)
    if not may_act_for(actor, provider):
        raise Forbidden(NOT_YOURS)
    return actor
