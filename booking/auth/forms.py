"""Forms of the auth blueprint; the services re-check everything a form checks."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from booking.services.passwords import PASSWORD_MAX, password_problem


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me logged in on this device")


class RegisterForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    phone = TelField(
        "Phone (optional)",
        validators=[
            Optional(),
            Length(max=32),
            Regexp(r"^\+?[0-9 ()./-]{5,31}$", message="Enter a phone number: digits, spaces and + ( ) - only."),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired()], description="At least 10 characters.")
    password_confirm = PasswordField(
        "Password again", validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")]
    )

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.email.data)
        if problem:
            raise ValidationError(problem)
