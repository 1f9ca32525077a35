"""The intake questions section of the service editor: add, edit, reorder and remove, in place.

With htmx each form swaps the section (`#intake-<service id>`); without JavaScript it posts and comes
back to the service editor with a 303, or answers 422 with the editor and the messages beside the fields.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import htmx
from booking.admin.routes import bp
from booking.auth.access import role_required
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import IntakeQuestion, Service
from booking.services import intake
from booking.services.errors import ServiceError


@bp.post("/services/<id:service_id>/questions")
@role_required(Role.ADMIN)
def add_question(service_id: int):  # type: ignore[no-untyped-def]
    service = _service_or_404(service_id)
    try:
        intake.add_question(current_user.id, service.id, _posted_fields())
    except ServiceError as error:
        return _refused(service.id, error, "new")
    return _saved(service.id, "Question added.")


@bp.post("/questions/<id:question_id>")
@role_required(Role.ADMIN)
def edit_question(question_id: int):  # type: ignore[no-untyped-def]
    question = _question_or_404(question_id)
    try:
        intake.edit_question(current_user.id, question.id, _posted_fields())
    except ServiceError as error:
        return _refused(question.service_id, error, question.id)
    return _saved(question.service_id, "Question saved.")


@bp.post("/questions/<id:question_id>/move")
@role_required(Role.ADMIN)
def move_question(question_id: int):  # type: ignore[no-untyped-def]
    question = _question_or_404(question_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(422, "Move a question up or down.")
    try:
        intake.move_question(current_user.id, question.id, -1 if direction == "up" else 1)
    except ServiceError as error:
        abort(error.status, error.message)
    return _saved(question.service_id, "Question moved.")


@bp.post("/questions/<id:question_id>/delete")
@role_required(Role.ADMIN)
def delete_question(question_id: int):  # type: ignore[no-untyped-def]
    question = _question_or_404(question_id)
    try:
        service_id = intake.remove_question(current_user.id, question.id)
    except ServiceError as error:
        abort(error.status, error.message)
    return _saved(service_id, "Question removed; the answers already given keep it.")


def _posted_fields() -> intake.QuestionFields:
    form = request.form
    return intake.QuestionFields(prompt=form.get("prompt", ""), kind=form.get("kind", ""),
                                 required=form.get("required") == "yes",
                                 choices=intake.parse_choices(form.get("choices")))


def _saved(service_id: int, message: str):  # type: ignore[no-untyped-def]
    flash(message, "success")  # a toast when only the section is swapped (booking.htmx.finish_response)
    if htmx.wants_fragment():
        return render_template("admin/_intake_questions.html", s=db.session.get(Service, service_id))
    return redirect(url_for("admin.service", service_id=service_id, _anchor=f"intake-{service_id}"), 303)


def _refused(service_id: int, error: ServiceError, which: int | str):  # type: ignore[no-untyped-def]
    """422 with the messages beside the fields of the form that was sent (`which`: a question id, or "new")."""
    db.session.rollback()
    errors: dict[str, list[str]] = {}
    for field, message in error.problems:
        errors.setdefault(field or "", []).append(message)
    context = dict(failed=which, errors=errors, posted=request.form)
    service = db.session.get(Service, service_id)
    if htmx.wants_fragment():
        return render_template("admin/_intake_questions.html", s=service, **context), 422
    return render_template("admin/services.html", services=[service], editing=service_id, **context), 422


def _service_or_404(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404)
    return service


def _question_or_404(question_id: int) -> IntakeQuestion:
    question = db.session.get(IntakeQuestion, question_id)
    if question is None:
        abort(404)
    return question
