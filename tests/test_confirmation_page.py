"""The confirmation a patient lands on after booking (/me/appointments/<id>): what, who, when (with the
zone in words), where (with a map), what to bring, until when it can change, what happens next, and the
appointment for their own calendar (Google Calendar, Outlook.com, an .ics file) at the very instants the
e-mails carry, whatever the zone and across a change of the clocks.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from booking.domain.confirmation import change_deadline, deadline_words, next_step, visit_words
from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, OutboxMessage, Service
from booking.services import booking as booking_service
from tests.booking_helpers import booking_form, everyday_provider, local_day, wall
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.html_check import check, h1_count, report

ADDRESS = "4 Harbour Lane, Leith"
ANSWER_HOURS = 36
BRING = "Your referral letter\nA list of the medicines you take"
UTC = timezone.utc


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """A clinic whose address and answer time are not the defaults, so the page is seen to read them."""
    app = make_app(CLINIC_ADDRESS=ADDRESS, CLINIC_ANSWER_HOURS=ANSWER_HOURS)
    with app.app_context():
        yield app


# --- reading the page -------------------------------------------------------------------------------

def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def shown(html: str, name: str) -> str | None:
    """The words of the page's `data-visit=name` element (what, who, when, where, bring, deadline)."""
    match = re.search(rf'<(dd|p)\b[^>]*data-visit="{name}"[^>]*>(.*?)</\1>', html, re.S)
    return text_of(match[2]) if match else None


def next_step_shown(html: str) -> str | None:
    match = re.search(r'<p\b[^>]*data-next-step[^>]*>(.*?)</p>', html, re.S)
    return text_of(match[1]) if match else None


def link(html: str, kind: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)"[^>]*data-calendar="{kind}"', html)
    return unescape(match[1]) if match else None


def query_of(url: str) -> dict[str, str]:
    query = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values()), query
    return {k: v[0] for k, v in query.items()}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def google_times(url: str) -> tuple[datetime, datetime]:
    start, end = query_of(url)["dates"].split("/")
    return (datetime.strptime(start, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
            datetime.strptime(end, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))


def outlook_times(url: str) -> tuple[datetime, datetime]:
    query = query_of(url)
    assert query["startdt"].endswith("Z") and query["enddt"].endswith("Z")
    return instant(query["startdt"]), instant(query["enddt"])


def ics_times(text: str) -> tuple[datetime, datetime]:
    """DTSTART and DTEND of the file's one event, read by icalendar, as UTC instants."""
    [event] = Calendar.from_ical(text).walk("VEVENT")
    return event["DTSTART"].dt.astimezone(UTC), event["DTEND"].dt.astimezone(UTC)


# --- the words, worked out here from zoneinfo alone -----------------------------------------------

def clock(local: datetime, city: str) -> str:
    """"London time (GMT)", "Kolkata time (IST)": the city and the clock's label at that moment."""
    label = local.tzname() or ""
    return f"{city} time ({'UTC' + label if label[:1] in '+-' else label})"


def expected_when(start: datetime, end: datetime, zone: str, city: str) -> str:
    first, last = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    return f"{first:%A} {first.day} {first:%B} {first.year}, {first:%H:%M} to {last:%H:%M} {clock(first, city)}"


def expected_deadline(deadline: datetime, zone: str, city: str) -> str:
    local, today = deadline.astimezone(ZoneInfo(zone)), datetime.now(ZoneInfo(zone))
    year = f" {local.year}" if local.year != today.year else ""
    return f"{local:%A} {local.day} {local:%B}{year}, {local:%H:%M} {clock(local, city)}"


def next_clock_change(zone: str, after: date, within_days: int = 400) -> date | None:
    """The first local day after `after` whose UTC offset at noon differs from the day before's."""
    tz = ZoneInfo(zone)
    for n in range(1, within_days):
        day, before = after + timedelta(days=n), after + timedelta(days=n - 1)
        if (datetime.combine(day, time(12), tz).utcoffset() != datetime.combine(before, time(12), tz).utcoffset()):
            return day
    return None


def book(client, provider, start: str):  # type: ignore[no-untyped-def]
    """Book the classic way and follow where the answer sends the patient: (Location, page HTML, stored row)."""
    answer = client.post(f"/book/{provider.id}", data=booking_form(provider, start, "A check-up"))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    page = client.get(location)
    assert page.status_code == 200
    db.session.rollback()
    stored = db.session.scalars(sa.select(Appointment).order_by(Appointment.id.desc())).first()
    return location, page.get_data(as_text=True), stored


# --- the page after booking -------------------------------------------------------------------------

def test_a_sent_request_lands_on_a_confirmation_with_everything_the_patient_needs(client, patient):  # type: ignore[no-untyped-def]
    """Pending: what, who, when in words, where with a map, what to bring, the cutoff as a moment on the
    clock, the clinic's answer time, and the three ways into a calendar."""
    provider = everyday_provider()
    provider.user.full_name = "Dr Amelia Hart"
    provider.services[0].name = "Physiotherapy"
    provider.services[0].what_to_bring = BRING
    db.session.commit()

    location, html, stored = book(client, provider, wall(4, 10))

    assert location == f"/me/appointments/{stored.id}"
    assert stored.status == Status.PENDING.value
    assert shown(html, "what") == "Physiotherapy (30 min)"
    assert shown(html, "who") == "Dr Amelia Hart"
    assert shown(html, "when") == expected_when(stored.start_at, stored.end_at, "Europe/London", "London")
    assert f'<time datetime="{stored.start_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}">' in html
    assert shown(html, "where") == f"{ADDRESS} (map of {ADDRESS} on OpenStreetMap)"
    map_link = unescape(re.search(r'data-visit="where">.*?<a href="([^"]+)"', html, re.S)[1])
    assert map_link == "https://www.openstreetmap.org/search?query=4%20Harbour%20Lane%2C%20Leith"
    assert shown(html, "bring") == " ".join(BRING.split())
    assert "Your referral letter\nA list of the medicines you take" in html  # its lines kept (CSS pre-line)
    deadline = stored.start_at - timedelta(hours=24)
    assert shown(html, "deadline") == (
        f"You can cancel or move this appointment online until {expected_deadline(deadline, 'Europe/London', 'London')}.")
    assert next_step_shown(html) == (
        f"The clinic answers within {ANSWER_HOURS} hours. You will get an e-mail when it is decided.")
    assert link(html, "google").startswith("https://calendar.google.com/calendar/render?")
    assert link(html, "outlook").startswith("https://outlook.live.com/calendar/0/action/compose?")
    assert link(html, "ics") == f"/me/appointments/{stored.id}/calendar.ics"


def test_an_approved_booking_says_it_is_confirmed(client, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.services[0].auto_approve = True
    db.session.commit()

    _, html, stored = book(client, provider, wall(4, 11))

    assert stored.status == Status.APPROVED.value
    assert next_step_shown(html) == "Confirmed. There is nothing more to do: come at the time above."
    assert "The clinic answers" not in html
    for name in ("what", "who", "when", "where", "deadline"):
        assert shown(html, name), name
    assert shown(html, "bring") is None  # the service asks for nothing
    assert all(link(html, kind) for kind in ("google", "outlook", "ics"))


def test_the_booking_answer_points_the_page_it_swapped_in_to_the_confirmation(client, patient, provider):  # type: ignore[no-untyped-def]
    """With JavaScript the booking is shown in place (the calendar's counts update at once); its card
    leads to the confirmation."""
    answer = client.post(f"/book/{provider.id}", data=booking_form(provider, wall(4, 12)), headers=HTMX)
    assert answer.status_code == 200
    db.session.rollback()
    stored = db.session.scalars(sa.select(Appointment)).one()
    assert re.search(rf'<a class="button" href="/me/appointments/{stored.id}">Your confirmation</a>',
                     answer.get_data(as_text=True))


# --- the same instants everywhere -------------------------------------------------------------------

ZONES = [("Europe/London", "London"), ("America/New_York", "New York"), ("Australia/Sydney", "Sydney"),
         ("Asia/Kolkata", "Kolkata")]


@pytest.mark.parametrize("zone, city", ZONES)
def test_the_calendar_links_the_file_and_the_email_carry_the_stored_instants(client, patient, zone, city):  # type: ignore[no-untyped-def]
    """Booked for the morning of the zone's next clock change (Kolkata has none: ten days ahead), so the
    visit is on the other side of a change from the booking. Google's and Outlook's links, the .ics
    download and the e-mail's invitation all name the stored start and end; and the cutoff is counted in
    real hours, so on the day the clocks change its clock reading differs from the visit's."""
    provider = everyday_provider(zone=zone, horizon_days=400)
    today = local_day(0, zone)
    day = next_clock_change(zone, today + timedelta(days=2)) or today + timedelta(days=10)
    _, html, stored = book(client, provider, f"{day.isoformat()}T10:00")
    expected = (stored.start_at, stored.end_at)
    assert stored.start_at == datetime.combine(day, time(10), ZoneInfo(zone)).astimezone(UTC)

    assert google_times(link(html, "google")) == expected
    assert outlook_times(link(html, "outlook")) == expected
    download = client.get(link(html, "ics"))
    assert download.status_code == 200
    assert download.mimetype == "text/calendar"
    assert download.headers["Content-Disposition"] == f'attachment; filename="appointment-{stored.id}.ics"'
    assert ics_times(download.get_data(as_text=True)) == expected
    mail = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.user_id == patient.id, OutboxMessage.appointment_id == stored.id)).one()
    assert ics_times(mail.ics) == expected

    assert shown(html, "when") == expected_when(*expected, zone, city)
    deadline = stored.start_at - timedelta(hours=24)
    assert shown(html, "deadline") == f"You can cancel or move this appointment online until {expected_deadline(deadline, zone, city)}."


def test_the_calendar_entries_name_the_place_and_lead_back_to_the_page(client, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.services[0].what_to_bring = "Your glasses & hearing aid"
    db.session.commit()
    _, html, stored = book(client, provider, wall(5, 9))
    title = f"{stored.service.name} with {provider.name}"
    details = f"Your appointment at Riverside Clinic: http://localhost/me/appointments/{stored.id}\n\n" \
              "What to bring: Your glasses & hearing aid"
    google, outlook = query_of(link(html, "google")), query_of(link(html, "outlook"))
    assert (google["text"], google["location"], google["details"]) == (title, ADDRESS, details)
    assert (outlook["subject"], outlook["location"], outlook["body"]) == (title, ADDRESS, details)
    [event] = Calendar.from_ical(client.get(link(html, "ics")).get_data(as_text=True)).walk("VEVENT")
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == (title, ADDRESS)


def test_a_provider_seen_at_a_branch_sends_the_patient_there(client, patient):  # type: ignore[no-untyped-def]
    """Where the clinic set a location for the provider, the page, the map, both calendar links and the
    .ics all name it instead of the clinic's address."""
    branch = "Leith Walk Branch, 2 Shore Road, Edinburgh"
    provider = everyday_provider()
    provider.location = branch
    db.session.commit()
    _, html, stored = book(client, provider, wall(5, 10))
    assert shown(html, "where") == f"{branch} (map of {branch} on OpenStreetMap)"
    assert ADDRESS not in html
    assert query_of(link(html, "google"))["location"] == query_of(link(html, "outlook"))["location"] == branch
    [event] = Calendar.from_ical(client.get(link(html, "ics")).get_data(as_text=True)).walk("VEVENT")
    assert str(event["LOCATION"]) == branch
    map_link = unescape(re.search(r'data-visit="where">.*?<a href="([^"]+)"', html, re.S)[1])
    assert query_of(map_link) == {"query": branch}


# --- after the cutoff, and once it is off ------------------------------------------------------------

def test_inside_the_cutoff_the_page_says_when_online_changes_closed(client, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    own = make_appointment(patient=patient, provider=provider, start_at=start, status=Status.APPROVED)

    html = client.get(f"/me/appointments/{own.id}").get_data(as_text=True)

    words = expected_deadline(start - timedelta(hours=24), "Europe/London", "London")
    assert shown(html, "deadline") == (
        f"Changes online closed at {words}, 24 hours before the start; to cancel or move it now, please call the clinic.")
    assert "Move to another time" not in html and "Cancel appointment" not in html
    assert link(html, "google") and link(html, "ics")  # still worth putting in a calendar


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.REJECTED, Status.COMPLETED])
def test_an_appointment_that_is_off_or_over_offers_no_calendar_and_nothing_to_bring(client, patient, status):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.services[0].what_to_bring = BRING
    db.session.commit()
    own = make_appointment(patient=patient, provider=provider, status=status)

    html = client.get(f"/me/appointments/{own.id}").get_data(as_text=True)

    assert [link(html, kind) for kind in ("google", "outlook", "ics")] == [None, None, None]
    assert shown(html, "bring") is None and shown(html, "deadline") is None and next_step_shown(html) is None
    assert shown(html, "where") and shown(html, "when")


def test_a_patient_who_cancels_sees_the_confirmation_lose_its_calendar_links(client, patient, provider):  # type: ignore[no-untyped-def]
    _, html, stored = book(client, provider, wall(4, 14))
    assert link(html, "google")
    assert client.post(f"/me/appointments/{stored.id}/cancel", data={"reason": ""}).status_code == 303
    after = client.get(f"/me/appointments/{stored.id}").get_data(as_text=True)
    assert link(after, "google") is None and next_step_shown(after) is None


# --- what to bring, from the service editor to the page and the e-mails ------------------------------

def service_form(service: Service, **changes: str) -> dict[str, str]:
    return {"name": service.name, "duration_min": str(service.duration_min), "price": "50.00",
            "description": "", "active": "yes", **changes}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_an_admin_sets_what_to_bring_and_the_patient_sees_it(app, headers):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    patient = make_user(Role.PATIENT)
    admin = make_user(Role.ADMIN)
    own = make_appointment(patient=patient, provider=provider, status=Status.APPROVED)
    service_id = provider.services[0].id
    desk, person = app.test_client(), app.test_client()
    desk.post("/auth/login", data={"email": admin.email, "password": DEFAULT_PASSWORD})
    person.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD})
    before = person.get(f"/me/appointments/{own.id}").get_data(as_text=True)
    assert shown(before, "bring") is None
    token = re.search(r"known=([0-9a-f]+)", before)[1]

    editor = desk.get(f"/admin/services/{service_id}", headers=HTMX).get_data(as_text=True)
    assert 'name="what_to_bring"' in editor and '<label for="bring-' in editor
    saved = desk.post(f"/admin/services/{service_id}", headers=headers,
                      data=service_form(provider.services[0], what_to_bring=f"  {BRING}  "))
    assert saved.status_code == (200 if headers else 303)

    db.session.rollback()
    assert db.session.get(Service, service_id).what_to_bring == BRING  # trimmed
    refreshed = person.get(f"/me/appointments/{own.id}?known={token}", headers=HTMX)
    assert refreshed.status_code == 200, "a live refresh must bring the new text, not 204"
    assert shown(person.get(f"/me/appointments/{own.id}").get_data(as_text=True), "bring") == " ".join(BRING.split())

    desk.post(f"/admin/services/{service_id}", headers=headers, data=service_form(provider.services[0], what_to_bring=" "))
    db.session.rollback()
    assert db.session.get(Service, service_id).what_to_bring is None  # blank: nothing to bring


def test_a_new_service_can_say_what_to_bring(client, auth):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    auth.login(admin.email)
    page = client.get("/admin/services").get_data(as_text=True)
    assert '<label for="what_to_bring">What to bring</label>' in page
    answer = client.post("/admin/services", data={"name": "Eye test", "duration_min": "20", "price": "30",
                                                  "what_to_bring": "Your glasses"})
    assert answer.status_code == 303
    db.session.rollback()
    assert db.session.scalars(sa.select(Service.what_to_bring).where(Service.name == "Eye test")).one() == "Your glasses"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_what_to_bring_longer_than_a_thousand_characters_is_refused_beside_the_form(client, auth, headers):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    provider = everyday_provider()
    service = provider.services[0]
    auth.login(admin.email)
    answer = client.post(f"/admin/services/{service.id}", headers=headers,
                         data=service_form(service, what_to_bring="x" * 1001))
    assert answer.status_code == 422
    assert "Keep what to bring to 1,000 characters." in answer.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Service, service.id).what_to_bring is None
    exactly = client.post(f"/admin/services/{service.id}", data=service_form(service, what_to_bring="x" * 1000))
    assert exactly.status_code == 303


def test_the_patients_emails_say_what_to_bring_and_the_staffs_do_not(client, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider.services[0].what_to_bring = BRING
    db.session.commit()
    _, _, stored = book(client, provider, wall(4, 15))
    mails = {m.user_id: m for m in db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.appointment_id == stored.id))}
    to_patient, to_staff = mails[patient.id], mails[provider.user_id]
    assert f"What to bring: {BRING}" in to_patient.text_body
    assert "What to bring" in to_patient.html_body and "A list of the medicines you take" in to_patient.html_body
    assert "What to bring" not in to_staff.text_body and "What to bring" not in (to_staff.html_body or "")

    booking_service.cancel_by_patient(patient.id, stored.id, None, timedelta(hours=24))
    cancelled = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.appointment_id == stored.id, OutboxMessage.user_id == patient.id)
        .order_by(OutboxMessage.id.desc())).first()
    assert cancelled.subject.startswith("Cancelled") and "What to bring" not in cancelled.text_body


# --- the pages are valid HTML -----------------------------------------------------------------------

def test_every_state_of_the_confirmation_is_valid_html(client, patient):  # type: ignore[no-untyped-def]
    """Pending with something to bring, approved, past its cutoff, cancelled: each page as served and
    the fragment its live refresh swaps in (judged inside the page)."""
    provider = everyday_provider()
    provider.services[0].what_to_bring = BRING
    db.session.commit()
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    states = {
        "pending": make_appointment(patient=patient, provider=provider, status=Status.PENDING),
        "approved": make_appointment(patient=patient, provider=provider, status=Status.APPROVED),
        "closed": make_appointment(patient=patient, provider=provider, start_at=soon, status=Status.APPROVED),
        "cancelled": make_appointment(patient=patient, provider=provider, status=Status.CANCELLED),
    }
    documents = {}
    for name, appointment in states.items():
        page = client.get(f"/me/appointments/{appointment.id}").get_data(as_text=True)
        assert h1_count(page) == 1, name
        documents[f"confirmation-{name}"] = page
        fragment = client.get(f"/me/appointments/{appointment.id}", headers=HTMX).get_data(as_text=True)
        documents[f"confirmation-{name}-refreshed"] = re.sub(r'<article id="appointment".*</article>', lambda _: fragment,
                                                            page, flags=re.S)
    problems = check(documents, "confirmation")
    assert not problems, report(problems, len(documents))


# --- the words, one rule at a time ------------------------------------------------------------------

def test_the_deadline_is_the_instant_the_booking_rules_stop_changes(app, patient):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    own = make_appointment(patient=patient, provider=provider, status=Status.APPROVED)
    cutoff = timedelta(hours=24)
    deadline = change_deadline(own.start_at, cutoff)
    assert booking_service.can_change(own, cutoff, now=deadline)
    assert not booking_service.can_change(own, cutoff, now=deadline + timedelta(microseconds=1))


@pytest.mark.parametrize("start, minutes, zone, words", [
    (datetime(2027, 1, 12, 9, 30, tzinfo=UTC), 30, "Europe/London",
     "Tuesday 12 January 2027, 09:30 to 10:00 London time (GMT)"),
    (datetime(2027, 7, 6, 23, 0, tzinfo=UTC), 120, "Europe/London",  # starting at midnight: one day
     "Wednesday 7 July 2027, 00:00 to 02:00 London time (BST)"),
    (datetime(2027, 7, 6, 22, 0, tzinfo=UTC), 120, "Europe/London",  # past midnight: the end's day is named
     "Tuesday 6 July 2027, 23:00 to Wednesday 7 July, 01:00 London time (BST)"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 60, "Europe/London",  # the clocks go back inside it
     "Sunday 25 October 2026, 01:30 London time (BST) to 01:30 London time (GMT)"),
    (datetime(2027, 1, 12, 9, 30, tzinfo=UTC), 30, "Asia/Dubai",  # tzdata has no letters for it: "+04"
     "Tuesday 12 January 2027, 13:30 to 14:00 Dubai time (UTC+04)"),
    (datetime(2027, 1, 12, 9, 30, tzinfo=UTC), 30, "UTC", "Tuesday 12 January 2027, 09:30 to 10:00 UTC"),
])
def test_a_visit_is_said_with_its_zone_once(start, minutes, zone, words):  # type: ignore[no-untyped-def]
    assert visit_words(start, start + timedelta(minutes=minutes), zone) == words


def test_the_deadline_names_its_year_only_when_it_is_not_this_one():  # type: ignore[no-untyped-def]
    deadline = datetime(2027, 12, 8, 9, 30, tzinfo=UTC)
    assert deadline_words(deadline, "Europe/London", datetime(2027, 12, 1, tzinfo=UTC)) == \
        "Wednesday 8 December, 09:30 London time (GMT)"
    assert deadline_words(deadline, "Europe/London", datetime(2026, 12, 1, tzinfo=UTC)) == \
        "Wednesday 8 December 2027, 09:30 London time (GMT)"
    # the year is the one on the provider's clock: New Year's Eve in UTC is already New Year in Sydney
    assert deadline_words(datetime(2027, 1, 1, 9, tzinfo=UTC), "Australia/Sydney",
                          datetime(2026, 12, 31, 20, tzinfo=UTC)) == "Friday 1 January, 20:00 Sydney time (AEDT)"


@pytest.mark.parametrize("status, hours, words", [
    ("approved", 24, "Confirmed. There is nothing more to do: come at the time above."),
    ("pending", 24, "The clinic answers within 24 hours. You will get an e-mail when it is decided."),
    ("pending", 1, "The clinic answers within 1 hour. You will get an e-mail when it is decided."),
    ("pending", 2, "The clinic answers within 2 hours. You will get an e-mail when it is decided."),
    ("cancelled", 24, None), ("rejected", 24, None), ("completed", 24, None), ("no_show", 24, None),
])
def test_what_happens_next_depends_on_the_status(status, hours, words):  # type: ignore[no-untyped-def]
    assert next_step(status, hours) == words
