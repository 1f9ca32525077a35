"""Forms of the account pages; the services check everything again."""
from __future__ import annotations

from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from booking.auth.forms import NewPasswordForm, phone_validators
from booking.forms import Form
from booking.services.notify import OPTIONAL_EMAILS
from booking.services.passwords import PASSWORD_MAX
from booking.services.profile import ADDRESS_MAX, BLOOD_GROUPS, NOTES_MAX


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


class EmailPreferencesForm(Form):
    """One checkbox per optional e-mail; the page shows those that concern the person's role."""


for _name, _label in OPTIONAL_EMAILS.items():
    setattr(EmailPreferencesForm, _name, BooleanField(_label))


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class DeleteAccountForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    understood = BooleanField("I understand that this cannot be undone",
                              validators=[DataRequired(message="Tick the box to confirm.")])
