"""Forms of the patient's pages; the booking service re-checks everything."""
from __future__ import annotations

from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from booking.forms import Form
from booking.models.appointment import REASON_MAX

START_FORMAT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"
MAX_ID = 2**31 - 1


def an_id(form: Form, field: IntegerField) -> None:
    """A number that can be a database id. (NumberRange compares through a float, and a number of
    hundreds of digits does not fit one.)"""
    if not isinstance(field.data, int) or not 1 <= field.data <= MAX_ID:
        raise ValidationError("Choose a service from the list.")


class BookingForm(Form):
    service_id = IntegerField("Service", validators=[DataRequired(), an_id])
    start = HiddenField("Time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])
    reason = TextAreaField(
        "Reason for the visit (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep the reason to {REASON_MAX} characters.")],
        description=f"Up to {REASON_MAX} characters. Only the clinic sees it.",
    )


class RescheduleForm(Form):
    start = HiddenField("New time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])


class CancelForm(Form):
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep it to {REASON_MAX} characters.")],
    )
