"""My appointments with a long history: what still stands first, the rest a page at a time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment
from tests.booking_helpers import ZONE, wall
from tests.conftest import HTMX
from tests.factories import make_appointment

PER_PAGE = 20  # the default PER_PAGE setting
IDS = re.compile(r'data-appointment-id="(\d+)"')


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def ids(html: str) -> list[int]:
    return [int(i) for i in IDS.findall(html)]


def sections(html: str) -> tuple[str, str]:
    upcoming, _, history = html.partition('id="past-title"')
    return (upcoming if history else ""), (history or upcoming)


def add_history(patient, provider, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """`count` finished appointments, one an hour going back from yesterday, newest first."""
    service = provider.services[0]
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    made = []
    for n in range(count):
        begins = start - timedelta(hours=n)
        made.append(Appointment(patient_id=patient.id, provider_id=provider.id, service_id=service.id, start_at=begins,
                                end_at=begins + timedelta(minutes=30),
                                status=(Status.COMPLETED if n % 3 else Status.NO_SHOW).value))
    db.session.add_all(made)
    db.session.commit()
    return [a.id for a in made]


def test_a_cancelled_or_declined_appointment_is_not_listed_as_upcoming(client, patient, provider):  # type: ignore
    standing = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    waiting = make_appointment(patient=patient, provider=provider, start_at=at(wall(4, 10)), status=Status.PENDING)
    cancelled = make_appointment(patient=patient, provider=provider, start_at=at(wall(5, 10)), status=Status.CANCELLED)
    declined = make_appointment(patient=patient, provider=provider, start_at=at(wall(6, 10)), status=Status.REJECTED)

    upcoming, history = sections(client.get("/me/appointments").get_data(as_text=True))

    assert ids(upcoming) == [standing.id, waiting.id]  # soonest first
    assert ids(history) == [declined.id, cancelled.id]  # newest first


def test_hundreds_of_past_appointments_come_a_page_at_a_time(client, patient, provider):  # type: ignore[no-untyped-def]
    ahead = make_appointment(patient=patient, provider=provider, start_at=at(wall(3, 10)), status=Status.APPROVED)
    history = add_history(patient, provider, 250)

    first = client.get("/me/appointments")
    upcoming, past = sections(first.get_data(as_text=True))
    assert first.status_code == 200
    assert ids(upcoming) == [ahead.id]
    assert ids(past) == history[:PER_PAGE]
    assert 'href="/me/appointments?page=2" rel="next"' in past

    second = client.get("/me/appointments?page=2")
    body = second.get_data(as_text=True)
    assert second.status_code == 200
    assert ids(body) == history[PER_PAGE:2 * PER_PAGE]  # no upcoming on later pages
    assert 'id="upcoming-title"' not in body
    assert 'href="/me/appointments" rel="prev"' in body and 'rel="next"' in body

    last_page = -(-len(history) // PER_PAGE)
    last = client.get(f"/me/appointments?page={last_page}").get_data(as_text=True)
    assert ids(last) == history[(last_page - 1) * PER_PAGE:] and 'rel="next"' not in last


def test_page_links_work_with_htmx_too(client, patient, provider):  # type: ignore[no-untyped-def]
    history = add_history(patient, provider, 3 * PER_PAGE)
    fragment = client.get("/me/appointments?page=2", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="my-appointments"')
    assert ids(body) == history[PER_PAGE:2 * PER_PAGE]
    assert 'hx-get="/me/appointments?page=3" hx-target="#my-appointments"' in body
    assert 'hx-push-url="true"' in body
    token = re.search(r'hx-get="/me/appointments\?known=([0-9a-f]+)&amp;page=2"', body)
    assert token is not None  # the live refresh stays on its page
    unchanged = client.get(f"/me/appointments?known={token[1]}&page=2", headers=HTMX)
    assert unchanged.status_code == 204


@pytest.mark.parametrize(("page", "status"), [
    ("abc", 200), ("0", 200), ("-3", 200), ("", 200),  # not a page number: the first page
    ("99999999999999999999", 404), ("100001", 404),  # absurd
    ("4", 404),  # past the last page
])
def test_a_bad_page_is_the_first_page_or_404(client, patient, provider, page, status):  # type: ignore[no-untyped-def]
    history = add_history(patient, provider, 2 * PER_PAGE + 5)  # three pages
    response = client.get(f"/me/appointments?page={page}")
    assert response.status_code == status
    if status == 200:
        assert ids(sections(response.get_data(as_text=True))[1]) == history[:PER_PAGE]


def test_the_page_and_its_queries_stay_bounded_however_long_the_history(client, patient, provider):  # type: ignore
    add_history(patient, provider, 60)
    small = len(client.get("/me/appointments").get_data())
    far = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=400)
    service_id = provider.services[0].id
    db.session.add_all(Appointment(patient_id=patient.id, provider_id=provider.id, service_id=service_id,
                                   start_at=far - timedelta(hours=n), end_at=far - timedelta(hours=n, minutes=-30),
                                   status=Status.COMPLETED.value) for n in range(900))
    db.session.commit()

    statements: list[str] = []
    engine = db.engine

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.get("/me/appointments")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    assert len(response.get_data()) <= small + 200  # 960 past appointments weigh what 60 did
    listing = [s for s in statements if "FROM appointments" in s and "appointments.patient_id" in s]
    assert listing and all("LIMIT" in s.upper() for s in listing), listing
    assert len(statements) <= 15, statements


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_a_patient_pages_through_the_history_in_a_browser(live, browser, javascript):  # type: ignore[no-untyped-def]
    from tests.booking_helpers import everyday_provider
    from tests.factories import DEFAULT_PASSWORD, make_user
    from tests.live import screenshot

    patient = make_user()
    history = add_history(patient, everyday_provider(), 2 * PER_PAGE + 3)
    page = live.page(browser, java_script_enabled=javascript)
    page.goto("/auth/login")
    page.fill("#email", patient.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/book/")
    page.goto("/me/appointments")
    if javascript:
        page.evaluate("window.__same_document = true")
    page.click("a[rel=next]")
    page.wait_for_url("**/me/appointments?page=2")
    page.wait_for_selector("#past-title >> text=(page 2)")
    shown = [int(i) for i in page.eval_on_selector_all("[data-appointment-id]",
                                                      "els => els.map(e => e.dataset.appointmentId)")]
    assert shown == history[PER_PAGE:2 * PER_PAGE]
    assert page.evaluate("window.__same_document === true") is javascript  # htmx swapped; without it, a new page
    screenshot(page, f"my-appointments-page-2-{'htmx' if javascript else 'plain'}")
    page.click("a[rel=prev]")
    page.wait_for_url("**/me/appointments")
    page.wait_for_selector("#upcoming-title")
    page.context.close()
