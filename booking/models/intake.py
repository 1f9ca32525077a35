"""Intake questions a service asks at booking, and the answers kept with each appointment.

An answer carries the question's words as the patient read them (and its kind and place), rather than
only pointing at the question: an admin who rewords a question, or removes it, must not change what an
answer given last month appears to answer. So a question can be edited and deleted for real; its
answers keep their own copy of it and lose only the link (`question_id` becomes NULL).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from booking.models.clinic import Service


class IntakeKind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    YES_NO = "yes_no"
    CHOICE = "choice"

    @property
    def label(self) -> str:
        return {"short_text": "Short text", "long_text": "Long text", "yes_no": "Yes or no",
                "choice": "One choice of several"}[self.value]


KIND_VALUES = ", ".join(f"'{k.value}'" for k in IntakeKind)
#: Form fields that answer a question are named this and the question's id.
FIELD_PREFIX = "intake-"
PROMPT_MAX = 200
#: The longest answer any kind takes (a long text); each kind's own limit is in booking.services.intake.
ANSWER_MAX = 2000


class IntakeQuestion(db.Model):
    """One question of a service's intake, in the service's order (`position`, then id)."""

    __tablename__ = "intake_questions"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind_known"),
        sa.CheckConstraint(f"length(prompt) >= 1 AND length(prompt) <= {PROMPT_MAX}", name="prompt_length"),
        sa.Index("ix_intake_questions_service_position", "service_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    kind: Mapped[str] = mapped_column(sa.String(16))
    prompt: Mapped[str] = mapped_column(sa.String(PROMPT_MAX))
    required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The options of a one-of-several question, in the order shown; empty for the other kinds.
    choices: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    #: Declared from this side (with `Service.intake_questions` as its backref), so the service's model
    #: stays as it is: the service editor reads a service's questions in their order.
    service: Mapped[Service] = relationship(backref=backref(
        "intake_questions", order_by="(IntakeQuestion.position, IntakeQuestion.id)", passive_deletes=True))

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value sent, words shown) of each answer offered, for the kinds that offer some."""
        if self.kind == IntakeKind.YES_NO:
            return [("yes", "Yes"), ("no", "No")]
        return [(choice, choice) for choice in self.choices]

    @property
    def field_name(self) -> str:
        """The form field that carries its answer."""
        return f"{FIELD_PREFIX}{self.id}"


class IntakeAnswer(db.Model):
    """What a patient answered to one question when booking, with the question as it was then."""

    __tablename__ = "intake_answers"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind_known"),
        sa.CheckConstraint(f"length(answer) >= 1 AND length(answer) <= {ANSWER_MAX}", name="answer_length"),
        sa.UniqueConstraint("appointment_id", "question_id", name="uq_intake_answers_appointment_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(sa.ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("intake_questions.id", ondelete="SET NULL"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    question: Mapped[str] = mapped_column(sa.String(PROMPT_MAX))
    answer: Mapped[str] = mapped_column(sa.Text)
