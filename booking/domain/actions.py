"""What staff and admins may do to an appointment, by its status and whether it has started.

One rule for both sides of the screen: the rows of the queue, the schedule and the admin table offer
exactly the actions `staff_actions` returns, and the decision services refuse anything `why_not`
objects to. So a button that is shown works, and no button is shown that would be refused.
"""
from __future__ import annotations

import enum
from datetime import datetime

from booking.domain.status import Status, can_transition


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    CANCEL = "cancel"

    @property
    def target(self) -> Status:
        """The status the action moves an appointment to."""
        return TARGETS[self]


TARGETS: dict[Action, Status] = {
    Action.APPROVE: Status.APPROVED,
    Action.REJECT: Status.REJECTED,
    Action.COMPLETE: Status.COMPLETED,
    Action.NO_SHOW: Status.NO_SHOW,
    Action.CANCEL: Status.CANCELLED,
}

NOT_STARTED = "It has not started yet."
STARTED_NO_APPROVAL = "It has already started; it can no longer be approved."
STARTED_NO_CANCEL = "It has already started; mark it completed or a no-show instead."
REJECT_INSTEAD = "It is a request: reject it with a reason instead."


class Refusal(enum.Enum):
    """Why an action is not open: the status does not lead there (someone else decided first), staff
    answer a request otherwise, or the clock says not (yet)."""

    STATUS = "status"
    RULE = "rule"
    TIME = "time"


def why_not(action: Action, status: Status | str, start_at: datetime, now: datetime) -> tuple[Refusal, str] | None:
    """None when the action is open; otherwise what kind of refusal it is and the words for it.

    Completed and no-show describe what happened, so they wait for the start; approving or
    cancelling changes what will happen, so it ends at the start. Rejecting a request stays open
    (a request nobody answered in time still needs an answer). Staff answer a request by approving or
    rejecting it; cancelling is for what was agreed (the patient may still withdraw a request).
    """
    status = Status(status)
    if not can_transition(status, action.target):
        return Refusal.STATUS, f"An appointment that is {status.label} cannot become {action.target.label}."
    if action is Action.CANCEL and status is Status.PENDING:
        return Refusal.RULE, REJECT_INSTEAD
    started = start_at <= now
    if action in (Action.COMPLETE, Action.NO_SHOW) and not started:
        return Refusal.TIME, NOT_STARTED
    if action is Action.APPROVE and started:
        return Refusal.TIME, STARTED_NO_APPROVAL
    if action is Action.CANCEL and started:
        return Refusal.TIME, STARTED_NO_CANCEL
    return None


def staff_actions(status: Status | str, start_at: datetime, now: datetime) -> frozenset[Action]:
    """Every action open on an appointment in `status` that starts at `start_at`, at `now`."""
    return frozenset(action for action in Action if why_not(action, status, start_at, now) is None)
