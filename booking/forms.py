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

    class Meta:
        def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
            """Hidden inputs are rendered with neither `id` nor `required`.

            A page holds several forms, each with its hidden CSRF token, and an id on each would be the
            same id many times; no label points at a hidden input, so it needs none. `required` (which
            WTForms adds for DataRequired) is not allowed on a hidden input: the server checks those.
            """
            asked = render_kw.get("type") or (field.render_kw or {}).get("type")
            if (asked or getattr(field.widget, "input_type", None)) == "hidden":
                render_kw = {"id": False, "required": False, **render_kw}
            return super().render_field(field, render_kw)

    def __init__(self, formdata: Any = _FROM_REQUEST, **kwargs: Any) -> None:
        if formdata is _FROM_REQUEST:  # as FlaskForm does, without the files and the JSON
            submitted = has_request_context() and request.method in SUBMIT_METHODS
            formdata = request.form if submitted and request.form else None
        super().__init__(formdata=formdata, **kwargs)


def attach_error(form: FlaskForm, error: ServiceError) -> None:
    """Show a service's refusal next to the fields it concerns (every one, when several were wrong), or
    above the form; a message the form already shows for that field is not repeated."""
    for name, message in error.problems:
        field = getattr(form, name, None) if name else None
        if field is not None:
            if message not in field.errors:
                field.errors = [*field.errors, message]
        elif message not in form.form_errors:
            form.form_errors.append(message)
