"""The W3C Nu HTML Checker: its one filter (htmx's hx-* attributes, nothing else), and every HTML e-mail.

Pages and the states htmx swaps in are checked in Chromium by tests/test_browser_html.py.
"""
from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import template_rendered

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import OutboxMessage
from booking.services import notify
from tests.booking_helpers import everyday_provider
from tests.factories import make_appointment, make_user
from tests.html_check import CANARY_ERROR, check, h1_count, is_htmx_attribute, report

# --- the filter ---------------------------------------------------------------------------------------

Q = "\u201c{}\u201d".format  # the checker quotes names with curly quotes


@pytest.mark.parametrize("attribute, element", [
    ("hx-get", "a"), ("hx-post", "form"), ("hx-swap-oob", "span"), ("hx-on::after-request", "form"),
    ("hx-on:htmx:before-swap", "div"), ("hx-vals", "button"), ("hx-headers", "body"), ("hx-push-url", "tr"),
])
def test_the_filter_forgives_htmx_attributes_on_any_element(attribute, element):  # type: ignore[no-untyped-def]
    assert is_htmx_attribute(f"Attribute {Q(attribute)} not allowed on element {Q(element)} at this point.")


@pytest.mark.parametrize("message", [
    CANARY_ERROR,
    f"Attribute {Q('foo')} not allowed on element {Q('p')} at this point.",
    f"Attribute {Q('xhx-get')} not allowed on element {Q('a')} at this point.",
    f"Attribute {Q('hx')} not allowed on element {Q('a')} at this point.",
    f"Attribute {Q('hx-')} not allowed on element {Q('a')} at this point.",
    f"Attribute {Q('data-x hx-get')} not allowed on element {Q('a')} at this point.",
    f"Attribute {Q('hx-get')} not allowed on element {Q('a')} at this point. And more.",
    f"Attribute {Q('hx-get')} not allowed here.",
    f"Attribute {Q('required')} not allowed on element {Q('input')} at this point.",
    f"Attribute {Q('hx-get')} is only allowed when the input type is {Q('text')}.",
    f"Bad value {Q('hx-get')} for attribute {Q('id')} on element {Q('a')}.",
    f"Element {Q('hx-get')} not allowed as child of element {Q('div')} in this context.",
    f"Duplicate ID {Q('hx-get')}.",
    f"The {Q('aria-label')} attribute must not be specified on any {Q('span')} element unless the element has a role.",
    "Attribute \"hx-get\" not allowed on element \"a\" at this point.",  # straight quotes: not the checker's
    "",
])
def test_the_filter_forgives_nothing_else(message):  # type: ignore[no-untyped-def]
    assert not is_htmx_attribute(message)


def test_the_checker_reports_everything_but_htmx_attributes():  # type: ignore[no-untyped-def]
    """The real checker's words still match the filter: hx-* goes, the rest stays (and a second run of
    the filter cannot hide errors the checker words differently)."""
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body><main>'
            '<h1 hx-get="/a" hx-trigger="load">t</h1><form hx-post="/b" hx-on::after-request="x">'
            '<input type="hidden" name="n" required><input type="hidden" name="n" id="n"><input id="n">'
            '</form><span aria-label="2 pending" hx-swap-oob="true">2</span>'
            '<time datetime="2026-01-01T10:00:00.123456+00:00">x</time></main></body></html>')

    problems = check({"page": page}, "filter")

    messages = [p.message for p in problems]
    assert not [m for m in messages if "hx-" in m], messages
    assert any(m.startswith(f"Attribute {Q('required')} not allowed") for m in messages), messages
    assert f"Duplicate ID {Q('n')}." in messages
    assert any(m.startswith(f"The {Q('aria-label')} attribute must not be specified") for m in messages), messages
    assert any("fraction of a second" in m for m in messages), messages


@pytest.mark.parametrize("missing", ["java", "vnu.jar"])
def test_without_the_checker_the_check_skips_except_in_ci(monkeypatch, tmp_path, missing):  # type: ignore[no-untyped-def]
    from tests import html_check

    if missing == "java":
        monkeypatch.setattr(html_check.shutil, "which", lambda name: None)
    else:
        monkeypatch.setattr(html_check, "VNU", tmp_path / "vnu.jar")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Java" if missing == "java" else "vnu.jar"):
        html_check.checker_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the HTML checker"):
        html_check.checker_or_skip()


# --- every HTML e-mail -----------------------------------------------------------------------------------

NOT_MAIL = {"optional_emails_for"}


def kinds_of_mail() -> list[Any]:
    """Every function of booking.services.notify that writes an e-mail (new ones are found by themselves)."""
    return [f for name, f in inspect.getmembers(notify, inspect.isfunction)
            if f.__module__ == notify.__name__ and not name.startswith("_") and name not in NOT_MAIL]


def calls(function: Any, people: dict[str, Any], appointments: list[Any]) -> list[dict[str, Any]]:
    """The arguments to call `function` with: each appointment (in each status) and each actor it may take."""
    found: list[dict[str, Any]] = [{}]
    for name in inspect.signature(function).parameters:
        if name == "appointment":
            choices: list[Any] = appointments
        elif name == "actor":
            choices = [people["staff"], people["patient"], None]
        elif name == "person":
            choices = [people["patient"], people["staff"]]
        elif name.endswith("link"):
            choices = ["https://clinic.example/auth/reset/a-token"]
        elif name == "minutes":
            choices = [30]
        elif name in ("reason", "body"):
            choices = ["The doctor is away <that day> & the next."]
        elif name == "old_start":
            choices = [appointments[0].start_at - timedelta(days=1)]
        else:
            pytest.fail(f"tell test_html_check how to call notify.{function.__name__}: what is `{name}`?")
        found = [{**call, name: choice} for call in found for choice in choices]
    return found


def test_every_html_email_is_valid_html(app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    patient = make_user(Role.PATIENT, full_name="Pat <Patient> & Co")
    patient.profile.timezone = "America/New_York"  # the mail shows the patient's own time too
    people = {"patient": patient, "staff": provider.user}
    appointments = [make_appointment(patient, provider, status=status)
                    for status in (Status.PENDING, Status.APPROVED, Status.REJECTED, Status.CANCELLED)]
    rendered: set[str] = set()

    def remember(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        rendered.add(template.name)

    documents: dict[str, str] = {}
    with template_rendered.connected_to(remember, app):
        for function in kinds_of_mail():
            for n, arguments in enumerate(calls(function, people, appointments)):
                before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
                function(**arguments)
                db.session.flush()
                new = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > before)).all()
                documents.update({f"{function.__name__}-{n}-{m.id}": m.html_body for m in new if m.html_body})
            assert any(name.startswith(f"{function.__name__}-") for name in documents), (
                f"notify.{function.__name__} wrote no HTML e-mail")
    db.session.rollback()

    email_templates = {name for name in app.jinja_env.list_templates() if name.startswith("email/")
                       and name.endswith(".html") and name != "email/base.html"}
    assert email_templates <= rendered, f"never rendered: {email_templates - rendered}"
    problems = check(documents, "email")

    assert len(documents) >= 20, sorted(documents)
    assert not problems, report(problems, len(documents))
    assert all(h1_count(html) == 1 for html in documents.values())


# --- the sources of what the checker found -------------------------------------------------------------


def test_machine_times_are_utc_to_the_second():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from booking.views import machine_time

    assert machine_time(datetime(2026, 11, 23, 9, 30, 5, 123456, tzinfo=timezone.utc)) == "2026-11-23T09:30:05Z"
    assert machine_time(datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))) == "2026-07-01T09:00:00Z"
    assert machine_time(datetime(2026, 7, 1, 10, 0, 0, 1)) == "2026-07-01T10:00:00Z"  # stored times are UTC


def test_hidden_inputs_carry_no_id_and_no_required(make_app):  # type: ignore[no-untyped-def]
    """Several forms on one page each carry a CSRF token: one id many times, and `required` is not
    allowed on a hidden input. Visible fields keep both."""
    from booking.auth.forms import LoginForm
    from booking.patient.forms import BookingForm

    with make_app(WTF_CSRF_ENABLED=True).test_request_context():
        booking = BookingForm(formdata=None, service_id=1, start="2026-01-01T10:00")
        hidden = [str(booking.service_id(type="hidden")), *str(booking.hidden_tag()).split("\n")]
        login = str(LoginForm().email())
    assert len(hidden) == 3 and all(' id="' not in h and "required" not in h for h in hidden), hidden
    assert 'id="email"' in login and "required" in login
