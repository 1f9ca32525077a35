"""The appointment status machine.

    pending  -> approved | rejected | cancelled
    approved -> completed | no_show | cancelled

Pending and approved appointments hold their time: nothing else may overlap them.
"""
from __future__ import annotations

import enum


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        """The word people read: "no show", not "no_show"."""
        return self.value.replace("_", " ")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED}),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.NO_SHOW: frozenset(),
}

#: Statuses whose appointments block their time slot for everyone else.
HOLDS_TIME: frozenset[Status] = frozenset({Status.PENDING, Status.APPROVED})

#: Statuses from which nothing moves on.
FINAL: frozenset[Status] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class TransitionError(ValueError):
    """A status change the machine does not allow (the caller answers 409)."""


def can_transition(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: Status | str, target: Status | str) -> Status:
    """Return the target status, or raise TransitionError saying why it is not allowed."""
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        raise TransitionError(f"An appointment that is {current.label} cannot become {target.label}.")
    return target

