"""Intake questions in Chromium, with htmx and without JavaScript: the admin defines them in the service
editor's section, the patient answers them at the confirm step (a missed required one is told beside
it), and the answers are stored with the appointment."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import IntakeAnswer
from booking.services import intake
from tests.booking_helpers import everyday_provider, wall
from tests.factories import make_user


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_an_admin_defines_questions_and_a_patient_answers_them_in_a_browser(live, browser, javascript):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    service_id, provider_id = provider.services[0].id, provider.id
    admin, patient = make_user(Role.ADMIN), make_user(Role.PATIENT)
    section = f"#intake-{service_id}"

    page = live.log_in(browser, admin, "/admin/appointments", java_script_enabled=javascript)
    page.on("dialog", lambda dialog: dialog.accept())  # the removal's hx-confirm
    if javascript:
        page.goto("/admin/services")
        page.click(f"tr[data-service-id='{service_id}'] a:has-text('Edit')")
        page.wait_for_selector(section)
        page.evaluate("window.__same_document = true")
    else:
        page.goto(f"/admin/services/{service_id}")
    for prompt, kind, choices in (("Is this your first visit?", "yes_no", ""),
                                  ("Which arm?", "choice", "Left\nRight"),
                                  ("Which medicines do you take?", "short_text", "")):
        page.fill(f"#q-new-{service_id}-prompt", prompt)
        page.select_option(f"#q-new-{service_id}-kind", kind)
        page.fill(f"#q-new-{service_id}-choices", choices)
        if prompt.startswith("Which medicines"):
            page.check(f"#q-new-{service_id}-required")
        page.click(f"{section} form[action$='/questions'] button[type=submit]")
        page.wait_for_selector(f"{section} [data-question-id] input[value='{prompt}']")
    page.click(f"{section} li:nth-child(3) button:has-text('Move up')")
    page.wait_for_function(f"() => document.querySelector('{section} li:nth-child(2) input[name=prompt]')"
                           ".value === 'Which medicines do you take?'")
    page.click(f"{section} li:nth-child(1) button:has-text('Remove')")
    page.wait_for_function(f"() => document.querySelectorAll('{section} li[data-question-id]').length === 2")
    if javascript:
        assert page.evaluate("window.__same_document === true")  # each change swapped the section in place
    page.context.close()
    db.session.rollback()
    assert [(q.prompt, q.required) for q in intake.questions_for(service_id)] == [
        ("Which medicines do you take?", True), ("Which arm?", False)]

    page = live.log_in(browser, patient, "/book/", java_script_enabled=javascript)
    page.goto(f"/book/{provider_id}/confirm?service={service_id}&start={wall(3, 10)}")
    page.click(f"form[action$='/book/{provider_id}'] button[type=submit]")
    page.wait_for_selector("[data-intake-question] .field-errors >> text=Please answer this question.")
    page.fill("[data-intake-question] input[type=text]", "Ibuprofen")
    page.check("[data-intake-question] input[type=radio][value=Right]")
    page.click(f"form[action$='/book/{provider_id}'] button[type=submit]")
    page.wait_for_selector("#booked-title" if javascript else "#appointment")
    page.context.close()
    db.session.rollback()
    assert db.session.execute(sa.select(IntakeAnswer.question, IntakeAnswer.answer)
                              .order_by(IntakeAnswer.position)).all() == [
        ("Which medicines do you take?", "Ibuprofen"), ("Which arm?", "Right")]
