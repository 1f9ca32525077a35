"""Forms of the patient's pages; the booking service re-checks everything."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from booking.models.appointment import REASON_MAX

START_FORMAT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"


class BookingForm(FlaskForm):
    service_id = IntegerField("Service", validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
    start = HiddenField("Time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])
    reason = TextAreaField(
        "Reason for the visit (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep the reason to {REASON_MAX} characters.")],
        description=f"Up to {REASON_MAX} characters. Only the clinic sees it.",
    )


class RescheduleForm(FlaskForm):
    start = HiddenField("New time", validators=[DataRequired(), Regexp(START_FORMAT, message="That is not a valid time.")])


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        validators=[Optional(), Length(max=REASON_MAX, message=f"Please keep it to {REASON_MAX} characters.")],
    )
