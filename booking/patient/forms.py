"""Forms of the patient's pages; the booking service re-checks everything."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from booking.forms import _FROM_REQUEST, Form
from booking.models import IntakeQuestion
from booking.models.appointment import REASON_MAX
from booking.services import intake
from booking.services.errors import ServiceError

START_FORMAT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"
MAX_ID = 2**31 - 1


def an_id(form: Form, field: IntegerField) -> None:
    """A number that can be a database id. (NumberRange compares through a float, and a number of
    hundreds of digits does not fit one.)"""
    if not isinstance(field.data, int) or not 1 <= field.data <= MAX_ID:
        raise ValidationError("Choose a service from the list.")


class BookingForm(Form):
    """The confirm step's form, with the answers to the service's intake questions.

    The questions are the service's, so they are not WTForms fields: `intake_questions` reads them,
    `validate` checks the answers with every other field (booking.services.intake says what is wrong,
    and the booking service checks them again under its lock), and `intake_errors` holds each
    question's messages for patient/_intake_fields.html to show beside it.
    """

    service_id = IntegerField("Service", validators=[DataRequired(), an_id])
    start = HiddenField("Time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])
    reason = TextAreaField(
        "Reason for the visit (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep the reason to {REASON_MAX} characters.")],
        description=f"Up to {REASON_MAX} characters. Only the clinic sees it.",
    )

    def __init__(self, formdata: Any = _FROM_REQUEST, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        if formdata is _FROM_REQUEST:
            formdata = request.form if has_request_context() else None
        self.intake_answers = intake.posted_answers(formdata or {})
        self.intake_errors: dict[str, list[str]] = {}
        self._questions: list[IntakeQuestion] | None = None

    @property
    def intake_questions(self) -> list[IntakeQuestion]:
        if self._questions is None:
            service_id = self.service_id.data
            can_be_one = isinstance(service_id, int) and 1 <= service_id <= MAX_ID  # no query for 10**40
            self._questions = intake.questions_for(service_id) if can_be_one else []
        return self._questions

    @property
    def intake_limits(self) -> dict[str, int]:
        return {kind.value: limit for kind, limit in intake.ANSWER_LIMITS.items()}

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        self.intake_errors = {}
        try:
            intake.checked_answers(self.intake_questions, self.intake_answers)
        except ServiceError as error:
            for name, message in error.problems:
                self.intake_errors.setdefault(name or "", []).append(message)
            return False
        return valid


class RescheduleForm(Form):
    start = HiddenField("New time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])


class CancelForm(Form):
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep it to {REASON_MAX} characters.")],
    )
