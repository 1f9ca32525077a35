"""Intake questions: what a service asks the patient at booking, and the checks on the answers.

Admins define the questions (only admins: checked here, inside each transaction). A patient answers
them on the confirm step; `checked_answers` says every fault at once, field by field, and the booking
service stores the answers with the appointment in its own transaction, so a refused or lost booking
leaves none behind.

A removed question is deleted, not retired: each answer holds the question's words as they were asked
(see `booking.models.intake`), so nothing already answered changes, and the live list of questions
needs no filter for retired ones anywhere it is read.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from booking.extensions import db
from booking.models import IntakeAnswer, IntakeKind, IntakeQuestion, Service, write_transaction
from booking.models.intake import FIELD_PREFIX, PROMPT_MAX
from booking.services.errors import Invalid, NotFound, Problems, ServiceError, one_line
from booking.services.permissions import require_admin

#: The longest answer each kind takes, in characters.
ANSWER_LIMITS = {IntakeKind.SHORT_TEXT: 200, IntakeKind.LONG_TEXT: 2000}
YES, NO = "yes", "no"
CHOICE_MAX = 100
CHOICES_MAX = 20
QUESTIONS_MAX = 30

REQUIRED = "Please answer this question."
NOT_A_CHOICE = "Choose one of the answers offered."
NOT_YES_NO = "Answer yes or no."
NO_QUESTION = "There is no such question."


@dataclass(frozen=True)
class QuestionFields:
    """What an admin sets on a question."""

    prompt: str
    kind: str
    required: bool = False
    choices: list[str] = field(default_factory=list)


def questions_for(service_id: int) -> list[IntakeQuestion]:
    """A service's questions in the order they are asked."""
    return list(db.session.scalars(sa.select(IntakeQuestion).where(IntakeQuestion.service_id == service_id)
                                   .order_by(IntakeQuestion.position, IntakeQuestion.id)))


def posted_answers(form: Mapping[str, str]) -> dict[int, str]:
    """The answers a form sent (fields named `intake-<question id>`), by question id."""
    answers = {}
    for name, value in form.items():
        number = name.removeprefix(FIELD_PREFIX)
        if number != name and re.fullmatch(r"[0-9]{1,9}", number):
            answers[int(number)] = value
    return answers


def parse_choices(text: str | None) -> list[str]:
    """The options as typed in the editor, one a line: blank lines and repeats left out."""
    seen: list[str] = []
    for line in (text or "").splitlines():
        option = one_line(line)
        if option and option not in seen:
            seen.append(option)
    return seen


def question_problems(fields: QuestionFields) -> Problems:
    """Everything wrong with a question's fields, all at once."""
    problems = Problems()
    prompt = one_line(fields.prompt)
    if not prompt or len(prompt) > PROMPT_MAX:
        problems.add(f"Write the question in up to {PROMPT_MAX} characters.", "prompt")
    if fields.kind not in set(IntakeKind):
        problems.add("Choose what kind of answer the question takes.", "kind")
    elif fields.kind == IntakeKind.CHOICE:
        if not 2 <= len(fields.choices) <= CHOICES_MAX:
            problems.add(f"Give between 2 and {CHOICES_MAX} answers to choose from, one a line.", "choices")
        elif any(len(choice) > CHOICE_MAX for choice in fields.choices):
            problems.add(f"Keep each answer to choose from to {CHOICE_MAX} characters.", "choices")
    return problems


def add_question(actor_id: int, service_id: int, fields: QuestionFields) -> IntakeQuestion:
    """A new question, asked after the service's others."""
    question_problems(fields).raise_any()
    with write_transaction():
        require_admin(actor_id)
        service = db.session.get(Service, service_id)
        if service is None:
            raise NotFound("There is no such service.")
        existing = questions_for(service.id)
        if len(existing) >= QUESTIONS_MAX:
            raise Invalid(f"A service asks at most {QUESTIONS_MAX} questions.")
        question = IntakeQuestion(service_id=service.id, position=max((q.position for q in existing), default=0) + 1)
        _apply(question, fields)
        db.session.add(question)
    return question


def edit_question(actor_id: int, question_id: int, fields: QuestionFields) -> IntakeQuestion:
    """Reword or change a question; answers already given keep the words they answered."""
    question_problems(fields).raise_any()
    with write_transaction():
        require_admin(actor_id)
        question = _question(question_id)
        _apply(question, fields)
    return question


def remove_question(actor_id: int, question_id: int) -> int:
    """Delete a question (its answers keep their copy of it); returns its service's id."""
    with write_transaction():
        require_admin(actor_id)
        question = _question(question_id)
        service_id = question.service_id
        db.session.delete(question)
    return service_id


def move_question(actor_id: int, question_id: int, step: int) -> IntakeQuestion:
    """Ask a question one place earlier (`step` -1) or later (+1); at either end it stays.

    The service's questions are numbered afresh in their order, so places stay distinct even after
    questions were removed or two admins added one at the same moment.
    """
    if step not in (-1, 1):
        raise Invalid("A question moves one place up or down.")
    with write_transaction():
        require_admin(actor_id)
        question = _question(question_id)
        ordered = questions_for(question.service_id)
        index = ordered.index(question)
        target = index + step
        if 0 <= target < len(ordered):
            ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, each in enumerate(ordered, start=1):
            each.position = position
    return question


def checked_answers(questions: list[IntakeQuestion], posted: Mapping[int, str]) -> list[IntakeAnswer]:
    """The answers to keep, one per answered question, or Invalid naming every faulty field at once.

    `posted` maps a question's id to the text sent for it; anything sent for a question the service
    does not ask is ignored. An unanswered optional question keeps no answer.
    """
    problems = Problems()
    answers = []
    for question in questions:
        try:
            text = _checked(question, posted.get(question.id))
        except ServiceError as error:
            problems.take(error)
            continue
        if text is not None:
            answers.append(IntakeAnswer(question_id=question.id, position=question.position, kind=question.kind,
                                        question=question.prompt, answer=text))
    problems.raise_any()
    return answers


def _checked(question: IntakeQuestion, raw: str | None) -> str | None:
    text = (raw or "").strip()
    name = question.field_name
    if not text:
        if question.required:
            raise Invalid(REQUIRED, name)
        return None
    if question.kind == IntakeKind.YES_NO:
        if text not in (YES, NO):
            raise Invalid(NOT_YES_NO, name)
    elif question.kind == IntakeKind.CHOICE:
        if text not in question.choices:
            raise Invalid(NOT_A_CHOICE, name)
    else:
        limit = ANSWER_LIMITS[IntakeKind(question.kind)]
        if len(text) > limit:
            raise Invalid(f"Please keep this answer to {limit} characters.", name)
    return text


def _apply(question: IntakeQuestion, fields: QuestionFields) -> None:
    question.prompt = one_line(fields.prompt)
    question.kind = fields.kind
    question.required = fields.required
    question.choices = list(fields.choices) if fields.kind == IntakeKind.CHOICE else []


def _question(question_id: int) -> IntakeQuestion:
    question = db.session.get(IntakeQuestion, question_id)
    if question is None:
        raise NotFound(NO_QUESTION)
    return question
