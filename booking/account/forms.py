"""Forms of the account pages; the services check everything again."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from booking.auth.forms import NewPasswordForm, phone_validators
from booking.forms import Form
from booking.services.notify import OPTIONAL_EMAILS
from booking.models import User
from booking.models.types import utcnow
from booking.services.accounts import CURRENT_PASSWORD_WRONG
from booking.services.erasure import PASSWORD_WRONG
from booking.services.passwords import PASSWORD_MAX, verify_password
from booking.services.profile import ADDRESS_MAX, BLOOD_GROUPS, NOTES_MAX, birth_date_problem, zone_problem


class ProfileForm(Form):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    phone = TelField("Phone", validators=phone_validators())
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    address = TextAreaField("Address", validators=[Optional(), Length(max=ADDRESS_MAX)])
    emergency_contact_name = StringField("Emergency contact", validators=[Optional(), Length(max=120)],
                                         description="Whom the clinic should call if something happens to you.")
    emergency_contact_phone = TelField("Emergency contact's phone", validators=phone_validators())
    blood_group = SelectField("Blood group", choices=[SelectChoice("", "Not known")] + [SelectChoice(g, g) for g in BLOOD_GROUPS],
                              validators=[Optional()])
    medical_notes = TextAreaField("Medical notes", validators=[Optional(), Length(max=NOTES_MAX)],
                                  description="Allergies, conditions or medicines your provider should know about.")
    timezone = SelectField("My time zone", validators=[Optional()], validate_choice=False,
                           description="E-mails show appointment times in your zone too when it differs "
                                       "from the clinic's.")

    def validate_date_of_birth(self, field: DateField) -> None:
        problem = birth_date_problem(field.data, utcnow().date())
        if problem:
            raise ValidationError(problem)

    def validate_timezone(self, field: SelectField) -> None:
        problem = zone_problem(field.data)
        if problem:
            raise ValidationError(problem)


class EmailPreferencesForm(Form):
    """One checkbox per optional e-mail; the page shows those that concern the person's role."""


for _name, _label in OPTIONAL_EMAILS.items():
    setattr(EmailPreferencesForm, _name, BooleanField(_label))


class ChangePasswordForm(NewPasswordForm):
    """The current password is checked with the new one's rules, so a wrong one and a short one are
    both told at once (the service checks both again)."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, email=user.email, **kwargs)
        self.user = user

    def validate_current_password(self, field: PasswordField) -> None:
        if not verify_password(self.user.password_hash, field.data or ""):
            raise ValidationError(CURRENT_PASSWORD_WRONG)


class DeleteAccountForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    understood = BooleanField("I understand that this cannot be undone",
                              validators=[DataRequired(message="Tick the box to confirm.")])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field: PasswordField) -> None:
        """Checked with the tick box, not after it (the service checks it again)."""
        if not verify_password(self.user.password_hash, field.data or ""):
            raise ValidationError(PASSWORD_WRONG)
