"""Forms of the auth blueprint; the services re-check everything a form checks."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from booking.forms import Form
from booking.services.accounts import normalize_email
from booking.services.errors import Invalid
from booking.services.passwords import PASSWORD_MAX, password_problem


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in on this device")


def phone_validators() -> list:  # type: ignore[type-arg]
    return [
        Optional(),
        Length(max=32),
        Regexp(r"^\+?[0-9 ()./-]{5,31}$", message="Enter a phone number: digits, spaces and + ( ) - only."),
    ]


class NewPasswordForm(Form):
    """A new password typed twice. Its rules (they need the account's e-mail, `email`) are checked here
    with every other field, and again by the service."""

    password = PasswordField("New password", validators=[DataRequired(), Length(max=PASSWORD_MAX)],
                             description="At least 10 characters.")
    password_confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")]
    )

    def __init__(self, *args: Any, email: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = email

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.account_email)
        if problem:
            raise ValidationError(problem)


class RegisterForm(Form):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    phone = TelField("Phone (optional)", validators=phone_validators())
    password = PasswordField("Password", validators=[DataRequired()], description="At least 10 characters.")
    password_confirm = PasswordField(
        "Password again", validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")]
    )

    def validate_email(self, field: EmailField) -> None:
        """Checked here as well as by the service, so the e-mail's message comes with every other field's."""
        try:
            normalize_email(field.data or "")
        except Invalid as error:
            raise ValidationError(error.message) from error

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.email.data)
        if problem:
            raise ValidationError(problem)


class ForgotPasswordForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
