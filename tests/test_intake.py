"""Intake questions: an admin defines them per service, the patient answers them at the confirm step,
staff read the answers, the clinic's CSV and the patient's own export carry them, and a deleted
account takes them along. Answers are checked (required, length per kind, one of the choices) with a
422 and the message beside the field, and are stored in the booking's own transaction or not at all.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Appointment, IntakeAnswer, IntakeQuestion, User
from booking.services import booking, intake, notify
from booking.services.errors import Forbidden, Invalid, NotFound
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_service, make_user
from booking.patient.params import wall_start

SHORT, LONG, YES_NO, CHOICE = "short_text", "long_text", "yes_no", "choice"


def log_in(app, user: User):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client


def ask(admin: User, service_id: int, prompt: str, kind: str = SHORT, required: bool = False,
        choices: tuple[str, ...] = ()) -> IntakeQuestion:
    return intake.add_question(admin.id, service_id, intake.QuestionFields(prompt, kind, required, list(choices)))


def answer_rows() -> list[tuple]:  # type: ignore[type-arg]
    db.session.rollback()
    return [tuple(r) for r in db.session.execute(sa.select(IntakeAnswer.appointment_id, IntakeAnswer.question,
                                                                 IntakeAnswer.answer))]


def count(model: type) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def errors_beside(page: str, question: IntakeQuestion) -> list[str]:
    """The messages in the list the question's own field points at (aria-describedby)."""
    name = question.field_name
    box = re.search(rf'<ul class="field-errors" id="{name}-errors">(.*?)</ul>', page, re.S)
    assert box is not None, f"no messages beside {name}"
    assert re.search(rf'aria-describedby="({name}-help )?{name}-errors"', page)
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", box.group(1))]


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    """A provider whose service asks four questions, one of each kind, two of them required."""
    admin = make_user(Role.ADMIN)
    provider = everyday_provider()
    service_id = provider.services[0].id
    questions = [
        ask(admin, service_id, "Which medicines do you take?", SHORT, required=True),
        ask(admin, service_id, "Anything else we should know?", LONG),
        ask(admin, service_id, "Is this your first visit?", YES_NO, required=True),
        ask(admin, service_id, "Which arm?", CHOICE, choices=("Left", "Right")),
    ]
    return admin, provider, questions


def answers(questions: list[IntakeQuestion], *values: str) -> dict[str, str]:
    return {q.field_name: v for q, v in zip(questions, values)}


# --- the journey ------------------------------------------------------------------------------------


def test_admin_asks_patient_answers_staff_reads_exports_carry_and_deletion_erases(app):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    service_id = provider.services[0].id
    desk = log_in(app, admin)

    # The admin adds two questions in the service editor, one with htmx and one without JavaScript.
    added = desk.post(f"/admin/services/{service_id}/questions", headers=HTMX,
                      data={"prompt": "Which medicines do you take?", "kind": SHORT, "required": "yes"})
    assert added.status_code == 200 and f'id="intake-{service_id}"' in added.get_data(as_text=True)
    plain = desk.post(f"/admin/services/{service_id}/questions",
                      data={"prompt": "Which arm?", "kind": CHOICE, "choices": "Left\nRight\n\nLeft"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"/admin/services/{service_id}#intake-{service_id}"
    editor = desk.get(plain.headers["Location"]).get_data(as_text=True)
    assert "Which medicines do you take?" in editor and "Left\nRight</textarea>" in editor
    db.session.rollback()
    medicines, arm = intake.questions_for(service_id)
    assert (medicines.required, arm.required, arm.choices) == (True, False, ["Left", "Right"])

    # The patient answers at the confirm step and books.
    patient = make_user(Role.PATIENT, full_name="Pat Answerer")
    client = log_in(app, patient)
    confirm = client.get(f"/book/{provider.id}/confirm?service={service_id}&start={wall(3, 10)}").get_data(as_text=True)
    assert f'name="{medicines.field_name}"' in confirm and "Which arm? (optional)" in confirm
    assert f'<input type="radio" id="{arm.field_name}-2" name="{arm.field_name}" value="Right">' in confirm
    booked = client.post(f"/book/{provider.id}", data=booking_form(
        provider, wall(3, 10), **answers([medicines, arm], "Ibuprofen, now and then", "Right")))
    assert booked.status_code == 303
    db.session.rollback()
    appointment = db.session.scalars(sa.select(Appointment).where(Appointment.patient_id == patient.id)).one()
    assert answer_rows() == [(appointment.id, "Which medicines do you take?", "Ibuprofen, now and then"),
                             (appointment.id, "Which arm?", "Right")]

    # Staff see the answers in the request queue and the schedule; the admin in the appointment's detail;
    # the patient on the appointment's own page.
    own_desk = log_in(app, staff)
    for page in (own_desk.get("/staff/requests"), own_desk.get(f"/staff/schedule?date={wall(3, 10)[:10]}"),
                 desk.get(f"/admin/appointments/{appointment.id}"), client.get(booked.headers["Location"])):
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<dt>Which medicines do you take?</dt><dd>Ibuprofen, now and then</dd>" in text
        assert "<dt>Which arm?</dt><dd>Right</dd>" in text

    # The admin's CSV carries them in a column of their own; the patient's export too.
    records = list(csv.reader(io.StringIO(desk.get("/admin/appointments.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert records[0][-1] == "intake answers"
    [row] = [r for r in records[1:] if int(r[0]) == appointment.id]
    assert row[-1] == "Which medicines do you take?: Ibuprofen, now and then\nWhich arm?: Right"
    exported = json.loads(client.get("/account/export").get_data(as_text=True))
    assert exported["appointments"][0]["intake_answers"] == [
        {"question": "Which medicines do you take?", "answer": "Ibuprofen, now and then"},
        {"question": "Which arm?", "answer": "Right"}]

    # Rewording and removing the questions leaves the answer as it was given.
    intake.edit_question(admin.id, medicines.id, intake.QuestionFields("Medicines?", SHORT, True))
    intake.remove_question(admin.id, arm.id)
    assert answer_rows() == [(appointment.id, "Which medicines do you take?", "Ibuprofen, now and then"),
                             (appointment.id, "Which arm?", "Right")]
    assert db.session.scalars(sa.select(IntakeAnswer.question_id).order_by(IntakeAnswer.position)).all() == \
        [medicines.id, None]

    # Deleting the account erases the answers with everything else about the person.
    assert client.post("/account/delete", data={"password": DEFAULT_PASSWORD, "understood": "y"}).status_code == 303
    assert answer_rows() == []
    assert db.session.get(Appointment, appointment.id) is not None  # the clinic's history stays


def test_an_unanswered_optional_question_keeps_no_answer_and_other_services_questions_are_ignored(client, clinic, patient):  # type: ignore[no-untyped-def]
    admin, provider, questions = clinic
    elsewhere = ask(admin, make_service().id, "Not asked here", SHORT)
    data = booking_form(provider, wall(3, 10), **answers(questions, "None", "", "no", ""),
                        **{elsewhere.field_name: "sneaked in", "intake-x": "?", "intake-": "?"})
    assert client.post(f"/book/{provider.id}", data=data).status_code == 303
    assert [(q, a) for _, q, a in answer_rows()] == [("Which medicines do you take?", "None"),
                                                     ("Is this your first visit?", "no")]


def test_a_service_without_questions_books_as_before(client, provider, patient):  # type: ignore[no-untyped-def]
    page = client.get(f"/book/{provider.id}/confirm?service={provider.services[0].id}&start={wall(3, 10)}")
    assert "Questions from the clinic" not in page.get_data(as_text=True)
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10))).status_code == 303
    assert count(Appointment) == 1 and count(IntakeAnswer) == 0


# --- the checks, each a 422 with the message beside the field --------------------------------------


FAULTS = {
    "a required answer missing": (0, "   ", "Please answer this question."),
    "a short answer beyond 200 characters": (0, "x" * 201, "Please keep this answer to 200 characters."),
    "a long answer beyond 2000 characters": (1, "y" * 2001, "Please keep this answer to 2000 characters."),
    "yes/no answered otherwise": (2, "maybe", "Answer yes or no."),
    "an answer not among the choices": (3, "Both", "Choose one of the answers offered."),
    "a required yes/no left unticked": (2, "", "Please answer this question."),
}


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("case", FAULTS.keys())
def test_a_faulty_answer_is_refused_with_its_message_beside_the_field(client, clinic, patient, case, fragment):  # type: ignore[no-untyped-def]
    _, provider, questions = clinic
    index, value, message = FAULTS[case]
    values = ["Aspirin", "A long story", "yes", "Left"]
    values[index] = value
    response = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10), **answers(questions, *values)),
                           headers=HTMX if fragment else {})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_beside(page, questions[index]) == [message]
    assert page.count('class="field-errors"') == 1  # the others are fine
    assert count(Appointment) == 0 and count(IntakeAnswer) == 0
    if value.strip() and index in (0, 1):  # what was typed comes back, to be shortened rather than retyped
        assert html.escape(value) in page


def test_every_faulty_answer_and_field_is_told_in_one_answer(client, clinic, patient):  # type: ignore[no-untyped-def]
    _, provider, questions = clinic
    data = booking_form(provider, wall(3, 10), "r" * 501, **answers(questions, "", "y" * 2001, "perhaps", "Both"))
    response = client.post(f"/book/{provider.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please keep the reason to 500 characters." in page
    assert [errors_beside(page, q) for q in questions] == [
        ["Please answer this question."], ["Please keep this answer to 2000 characters."], ["Answer yes or no."],
        ["Choose one of the answers offered."]]
    assert count(Appointment) == 0 and count(IntakeAnswer) == 0


def test_the_booking_service_checks_the_answers_again_itself(app, clinic):  # type: ignore[no-untyped-def]
    """A caller that skipped the form is refused the same way, every field named, and nothing is kept."""
    _, provider, questions = clinic
    patient = make_user(Role.PATIENT)
    with pytest.raises(Invalid) as refused:
        booking.book_appointment(patient.id, provider.id, provider.services[0].id, wall_start(wall(3, 10)), None,
                                 {questions[0].id: "x" * 201, questions[3].id: "Both"})
    assert refused.value.problems == [
        (questions[0].field_name, "Please keep this answer to 200 characters."),
        (questions[2].field_name, "Please answer this question."),
        (questions[3].field_name, "Choose one of the answers offered."),
    ]
    assert count(Appointment) == 0 and count(IntakeAnswer) == 0


def test_answers_are_kept_trimmed_and_at_their_limits(app, clinic):  # type: ignore[no-untyped-def]
    _, provider, questions = clinic
    patient = make_user(Role.PATIENT)
    booking.book_appointment(patient.id, provider.id, provider.services[0].id, wall_start(wall(3, 10)), None,
                             {questions[0].id: " " + "s" * 200 + " ", questions[1].id: "l" * 2000,
                              questions[2].id: "yes", questions[3].id: "Left"})
    assert [a for _, _, a in answer_rows()] == ["s" * 200, "l" * 2000, "yes", "Left"]


# --- one transaction with the booking -------------------------------------------------------------


def test_answers_sent_for_a_time_lost_to_someone_else_leave_nothing(client, clinic, patient):  # type: ignore[no-untyped-def]
    _, provider, questions = clinic
    winner = make_user(Role.PATIENT)
    booking.book_appointment(winner.id, provider.id, provider.services[0].id, wall_start(wall(3, 10)), None,
                             {questions[0].id: "Winner's medicines", questions[2].id: "yes"})
    lost = client.post(f"/book/{provider.id}", data=booking_form(
        provider, wall(3, 10), **answers(questions, "Loser's medicines", "", "no", "Right")), headers=HTMX)
    assert lost.status_code == 409
    assert [a for _, _, a in answer_rows()] == ["Winner's medicines", "yes"]
    assert count(Appointment) == 1


def test_a_booking_that_fails_after_the_answers_were_written_keeps_none_of_them(app, clinic, monkeypatch):  # type: ignore[no-untyped-def]
    _, provider, questions = clinic
    patient = make_user(Role.PATIENT)

    def mail_fails(appointment):  # type: ignore[no-untyped-def]
        assert db.session.scalar(sa.select(sa.func.count(IntakeAnswer.id))) == 2  # flushed, not committed
        raise RuntimeError("the outbox is full")

    monkeypatch.setattr(notify, "requested", mail_fails)
    with pytest.raises(RuntimeError):
        booking.book_appointment(patient.id, provider.id, provider.services[0].id, wall_start(wall(3, 10)), None,
                                 {questions[0].id: "Aspirin", questions[2].id: "no"})
    assert count(Appointment) == 0 and count(IntakeAnswer) == 0


# --- defining questions -------------------------------------------------------------------------


def test_a_question_is_refused_with_every_fault_at_once(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    cases = [
        (intake.QuestionFields(" \n ", "essay"), [
            ("prompt", "Write the question in up to 200 characters."),
            ("kind", "Choose what kind of answer the question takes.")]),
        (intake.QuestionFields("q" * 201, CHOICE, choices=["Only one"]), [
            ("prompt", "Write the question in up to 200 characters."),
            ("choices", "Give between 2 and 20 answers to choose from, one a line.")]),
        (intake.QuestionFields("Colour?", CHOICE, choices=[str(n) for n in range(21)]), [
            ("choices", "Give between 2 and 20 answers to choose from, one a line.")]),
        (intake.QuestionFields("Colour?", CHOICE, choices=["Red", "c" * 101]), [
            ("choices", "Keep each answer to choose from to 100 characters.")]),
    ]
    for fields, problems in cases:
        with pytest.raises(Invalid) as refused:
            intake.add_question(admin.id, service.id, fields)
        assert refused.value.problems == problems
    assert count(IntakeQuestion) == 0


def test_a_question_at_its_limits_is_kept_as_one_line(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    many = [f"Option {n}" for n in range(20)]
    kept = ask(admin, service.id, "  Which\n" + "q" * 194 + "  ", CHOICE, choices=("Yes", "c" * 100, *many[:18]))
    assert kept.prompt == "Which " + "q" * 194 and len(kept.choices) == 20
    two = ask(admin, service.id, "Which side?", CHOICE, choices=("Left", "Right"))
    assert two.choices == ["Left", "Right"]
    text = ask(admin, service.id, "Other?", SHORT, choices=("ignored", "too"))
    assert text.choices == []  # only a one-of-several question has choices
    plain = intake.add_question(admin.id, service.id, intake.QuestionFields("Anything else?", LONG))
    assert (plain.required, plain.choices) == (False, [])  # optional unless the admin says otherwise


def test_questions_in_the_same_place_are_asked_in_the_order_they_were_added(app):  # type: ignore[no-untyped-def]
    """Two admins adding a question at the same moment may give both the same place."""
    service = make_service()
    db.session.add_all([IntakeQuestion(service_id=service.id, position=1, kind=SHORT, prompt=p) for p in ("A?", "B?")])
    db.session.add(IntakeQuestion(service_id=service.id, position=0, kind=SHORT, prompt="Before?"))
    db.session.commit()
    assert [q.prompt for q in intake.questions_for(service.id)] == ["Before?", "A?", "B?"]


def test_choices_are_read_one_a_line_without_blanks_or_repeats():  # type: ignore[no-untyped-def]
    assert intake.parse_choices(" Left \n\n  Right\r\nLeft\n Far   left ") == ["Left", "Right", "Far left"]
    assert intake.parse_choices(None) == []


def test_posted_answers_are_read_from_the_fields_named_after_their_question():  # type: ignore[no-untyped-def]
    posted = {"intake-12": "a", "intake-0003": "b", "intake-": "c", "intake-x1": "d", "intake-1234567890": "e",
              "reason": "f", "xintake-4": "g", "intake-²": "h", "intake-7": "i", "intake-8x": "j"}
    assert intake.posted_answers(posted) == {12: "a", 3: "b", 7: "i"}
    assert intake.posted_answers({"intake-123456789": "i"}) == {123456789: "i"}


def test_a_service_asks_at_most_thirty_questions(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    for n in range(30):
        ask(admin, service.id, f"Question {n}")
    with pytest.raises(Invalid, match="^A service asks at most 30 questions.$"):
        ask(admin, service.id, "One more")
    assert count(IntakeQuestion) == 30


def test_questions_are_asked_in_the_order_the_admin_sets(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    first, second, third = (ask(admin, service.id, name) for name in ("First", "Second", "Third"))

    def order() -> list[str]:
        db.session.rollback()
        return [q.prompt for q in intake.questions_for(service.id)]

    assert [q.position for q in intake.questions_for(service.id)] == [1, 2, 3]  # each added after the others

    intake.move_question(admin.id, third.id, -1)
    assert order() == ["First", "Third", "Second"]
    intake.move_question(admin.id, first.id, -1)  # already first: stays
    intake.move_question(admin.id, second.id, 1)  # already last: stays
    assert order() == ["First", "Third", "Second"]
    intake.move_question(admin.id, first.id, 1)
    assert order() == ["Third", "First", "Second"]
    intake.remove_question(admin.id, first.id)
    assert order() == ["Third", "Second"]
    fourth = ask(admin, service.id, "Fourth")
    assert order() == ["Third", "Second", "Fourth"]
    intake.move_question(admin.id, fourth.id, -1)
    assert order() == ["Third", "Fourth", "Second"]
    intake.move_question(admin.id, fourth.id, -1)
    assert order() == ["Fourth", "Third", "Second"]
    assert [q.position for q in intake.questions_for(service.id)] == [1, 2, 3]
    for step in (0, 2, -2):
        with pytest.raises(Invalid, match="^A question moves one place up or down.$"):
            intake.move_question(admin.id, second.id, step)
    assert order() == ["Fourth", "Third", "Second"]


def test_an_edited_question_is_asked_as_edited(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    question = ask(admin, service.id, "Which arm?", CHOICE, choices=("Left", "Right"))
    intake.edit_question(admin.id, question.id, intake.QuestionFields("First visit?", YES_NO, True, ["Left", "Right"]))
    db.session.rollback()
    edited = db.session.get(IntakeQuestion, question.id)
    assert (edited.prompt, edited.kind, edited.required, edited.choices) == ("First visit?", YES_NO, True, [])
    with pytest.raises(Invalid):
        intake.edit_question(admin.id, question.id, intake.QuestionFields("", YES_NO))
    with pytest.raises(NotFound, match="^There is no such question.$"):
        intake.edit_question(admin.id, 10**6, intake.QuestionFields("Gone?", YES_NO))
    with pytest.raises(NotFound, match="^There is no such service.$"):
        ask(admin, 10**6, "No such service?")


# --- who may define questions -----------------------------------------------------------------------


def wrong_actors() -> dict[str, User]:
    switched_off = make_user(Role.ADMIN, active=False)
    return {"patient": make_user(Role.PATIENT), "staff": make_user(Role.STAFF), "switched-off admin": switched_off}


def test_only_an_active_admin_defines_questions(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    question = ask(admin, service.id, "Kept as it is?", SHORT)
    attempts = {
        "add": lambda actor: ask(actor, service.id, "Sneaked in?"),
        "edit": lambda actor: intake.edit_question(actor.id, question.id, intake.QuestionFields("Changed?", LONG)),
        "move": lambda actor: intake.move_question(actor.id, question.id, 1),
        "remove": lambda actor: intake.remove_question(actor.id, question.id),
    }
    for who, actor in wrong_actors().items():
        for action, attempt in attempts.items():
            with pytest.raises(Forbidden):
                attempt(actor)
            db.session.rollback()
            assert [(q.prompt, q.kind) for q in intake.questions_for(service.id)] == [("Kept as it is?", SHORT)], \
                (who, action)


# --- the admin's section of the service editor ------------------------------------------------------


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
def test_the_editor_refuses_a_question_with_the_messages_beside_its_fields(app, fragment):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    question = ask(admin, service.id, "Which arm?", CHOICE, choices=("Left", "Right"))
    desk = log_in(app, admin)
    headers = HTMX if fragment else {}
    new = desk.post(f"/admin/services/{service.id}/questions", data={"prompt": "", "kind": CHOICE, "choices": "One"},
                    headers=headers)
    page = new.get_data(as_text=True)
    assert new.status_code == 422
    assert re.search(rf'id="q-new-{service.id}-prompt-errors"><li>Write the question', page)
    assert re.search(rf'id="q-new-{service.id}-choices-errors"><li>Give between 2 and 20', page)
    edit = desk.post(f"/admin/questions/{question.id}", data={"prompt": "Which leg?", "kind": "essay"}, headers=headers)
    page = edit.get_data(as_text=True)
    assert edit.status_code == 422 and f'id="q-{question.id}-kind-errors"' in page
    assert 'value="Which leg?"' in page  # what was typed stays in its form
    assert count(IntakeQuestion) == 1 and intake.questions_for(service.id)[0].prompt == "Which arm?"


def test_the_editor_saves_moves_and_removes_in_place_and_without_javascript(app):  # type: ignore[no-untyped-def]
    admin, service = make_user(Role.ADMIN), make_service()
    first, second = (ask(admin, service.id, prompt).id for prompt in ("First?", "Second?"))
    desk = log_in(app, admin)
    editor = f"/admin/services/{service.id}#intake-{service.id}"

    saved = desk.post(f"/admin/questions/{first}", data={"prompt": "First, reworded?", "kind": LONG, "required": "yes"})
    assert saved.status_code == 303 and saved.headers["Location"] == editor
    moved = desk.post(f"/admin/questions/{second}/move", data={"direction": "up"}, headers=HTMX)
    assert moved.status_code == 200
    assert moved.get_data(as_text=True).index("Second?") < moved.get_data(as_text=True).index("First, reworded?")
    assert desk.post(f"/admin/questions/{second}/move", data={"direction": "sideways"}).status_code == 422
    removed = desk.post(f"/admin/questions/{second}/delete")
    assert removed.status_code == 303 and removed.headers["Location"] == editor
    db.session.rollback()
    [left] = intake.questions_for(service.id)
    assert (left.prompt, left.kind, left.required) == ("First, reworded?", LONG, True)
    assert desk.post(f"/admin/questions/{second}/delete").status_code == 404
    assert desk.post("/admin/services/999999/questions", data={"prompt": "Where?", "kind": SHORT}).status_code == 404
