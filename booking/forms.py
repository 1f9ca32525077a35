"""Form helpers shared by every blueprint."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS

from booking.services.errors import ServiceError

_FROM_REQUEST = object()


class Form(FlaskForm):
    """The base of every form: it reads the posted form fields, and nothing else.

    Flask-WTF would also fill fields from uploaded files and from a JSON body. No form here takes
    either, and a file or a JSON number where text belongs reached the validators as something that
    is not a string (a 500); a NUL inside JSON also passed the check for control characters.
    """

    def __init__(self, formdata: Any = _FROM_REQUEST, **kwargs: Any) -> None:
        if formdata is _FROM_REQUEST:  # as FlaskForm does, without the files and the JSON
            submitted = has_request_context() and request.method in SUBMIT_METHODS
            formdata = request.form if submitted and request.form else None
        super().__init__(formdata=formdata, **kwargs)


def attach_error(form: FlaskForm, error: ServiceError) -> None:
    """Show a service's refusal next to the field it concerns, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
