"""In Chromium, a newcomer's way in: from the first page with free times to a sent request, logging in or
registering at the confirm step, with htmx and with JavaScript switched off, counting every click; and
what a visitor who only looks around is given: free times, no one's appointments, no cookie, and a slot
list that a second look revalidates (304) instead of fetching again.

The counts are the design's promise (issue 13 set Calendly's 3 and Doctolib's 4 beside our 7): a change
that adds a step to the journey fails here, on purpose. A click is a press of a link or a button (mouse
or Enter); typing into fields is not counted, nor is opening the link in the confirmation e-mail, which
happens in the mail program, not on our pages.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.live import screenshot
from tests.mailbox import link_in

#: Where a newcomer starts: the clinic's home page, whose provider cards offer their first free times.
START = "/"
PASSWORD = "correct horse battery"
SECRET_NAME = "Zebedee Quartermaine"
SECRET_REASON = "Recurring migraine after the accident"
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])


class Clicks:
    """The journey's presses of links and buttons, each counted: `click` for the mouse, `press` for the
    keyboard's Enter on a focused link or button."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def click(self, selector: str) -> None:
        self.count += 1
        self.page.click(selector)

    def press(self, selector: str) -> None:
        self.count += 1
        self.page.focus(selector)
        self.page.keyboard.press("Enter")


def clinic() -> tuple[int, int]:
    """A provider who works every day with another patient's appointment (name and reason private) on
    their books, and a second provider: (provider id, service id) of the first."""
    provider = everyday_provider(min_notice_min=0)
    provider.user.full_name = "Dr Amelia Hart"
    other = everyday_provider()
    other.user.full_name = "Dr Ben Lee"
    db.session.commit()
    secret = make_user(Role.PATIENT, full_name=SECRET_NAME)
    taken = make_appointment(secret, provider, start_at=datetime.fromisoformat(wall(1, 10)).replace(tzinfo=ZoneInfo(ZONE)),
                             status=Status.APPROVED)
    taken.reason = SECRET_REASON
    db.session.commit()
    return provider.id, provider.services[0].id


def choose_a_time(page: Any, clicks: Clicks, provider_id: int) -> str:
    """From the start page, the provider's first free time (one click): the confirm step, as a visitor."""
    page.goto(START)
    chip = f"[data-provider-id='{provider_id}'] a[data-slot-start]"
    start = page.locator(chip).first.get_attribute("data-slot-start")
    clicks.click(f"{chip} >> nth=0")
    page.wait_for_url(re.compile(rf"/book/{provider_id}/confirm\?"))
    assert page.locator("#login-form").count() == 1 and page.locator("#register-form").count() == 1
    return start


def choose_day(page: Any, day: str, javascript: bool) -> None:
    """Press a day of the open calendar and wait for its free times (swapped in, or a new page)."""
    page.click(f"#calendar a[data-day='{day}']")
    if javascript:
        page.wait_for_function("d => document.querySelector('#slots [data-slot-start]')?.dataset.slotStart"
                               ".startsWith(d)", arg=day)
    else:
        page.wait_for_url(re.compile(rf"date={day}"))


def book(page: Any, clicks: Clicks, provider_id: int, javascript: bool) -> None:
    """The confirm step as a logged-in patient: the request goes with one press of its button."""
    page.fill("textarea[name=reason]", "A cough that will not go")
    clicks.click(f"form[action$='/book/{provider_id}'] button[type=submit]")
    if javascript:
        page.wait_for_selector("#booked-title")
    else:
        page.wait_for_url(re.compile(r"/me/appointments/\d+$"))
    assert "Request sent" in page.inner_text("main")


def booked_by(email: str) -> list[tuple[str, str]]:
    db.session.rollback()
    rows = db.session.execute(sa.select(Appointment.start_at, Appointment.status).join(User, Appointment.patient_id == User.id)
                              .where(User.email == email)).all()
    return [(start.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M"), status) for start, status in rows]


@JAVASCRIPT
def test_a_visitor_books_a_time_from_the_start_page_logging_in_at_the_confirm_step_in_three_clicks(
        live, browser, javascript):  # type: ignore[no-untyped-def]
    """Time, log in, send: the account is asked for at the end and the chosen time survives the login."""
    provider_id, _ = clinic()
    patient = make_user(Role.PATIENT, email=f"returning-{'js' if javascript else 'nojs'}@example.test")
    page = live.page(browser, java_script_enabled=javascript)
    clicks = Clicks(page)

    start = choose_a_time(page, clicks, provider_id)
    confirm_url = page.url
    page.fill("#login-form [name=email]", patient.email)
    page.fill("#login-form [name=password]", DEFAULT_PASSWORD)
    clicks.click("#login-form button[type=submit]")
    page.wait_for_selector("textarea[name=reason]")
    assert page.url == confirm_url, "the login comes back to the chosen time"
    assert page.locator("#login-form").count() == 0
    book(page, clicks, provider_id, javascript)
    screenshot(page, f"public-journey-login-{'js' if javascript else 'nojs'}")
    page.context.close()

    assert clicks.count == 3
    assert booked_by(patient.email) == [(start, "pending")]


@JAVASCRIPT
def test_a_newcomer_books_a_time_from_the_start_page_registering_at_the_confirm_step_in_four_clicks(
        live, browser, javascript):  # type: ignore[no-untyped-def]
    """Time, create the account, (the e-mail's link,) log in, send: the confirmation rule holds (no
    booking before the address is confirmed), and every step leads back to the same time."""
    provider_id, _ = clinic()
    email = f"newcomer-{'js' if javascript else 'nojs'}@example.test"
    page = live.page(browser, java_script_enabled=javascript)
    clicks = Clicks(page)

    start = choose_a_time(page, clicks, provider_id)
    confirm_path = page.url.removeprefix(live.url)
    page.fill("#register-form [name=full_name]", "Nina Newcomer")
    page.fill("#register-form [name=email]", email)
    page.fill("#register-form [name=password]", PASSWORD)
    page.fill("#register-form [name=password_confirm]", PASSWORD)
    clicks.press("#register-form button[type=submit]")  # the keyboard's way: Enter on the button
    page.wait_for_url(re.compile(r"/auth/register/check-email\?next="))
    assert parse_qs(urlsplit(page.url).query)["next"] == [confirm_path]
    assert "Back to the time you chose" in page.inner_text("main")
    assert booked_by(email) == [], "nothing is booked before the address is confirmed"

    page.goto(link_in(live.box, email, "Confirm your e-mail address", "/auth/verify/"))  # in the mail program
    page.wait_for_url(re.compile(r"/auth/login\?next="))
    assert page.input_value("#email") == email, "the login form comes filled in with the address"
    page.fill("#password", PASSWORD)
    clicks.click("#login-form button[type=submit]")
    page.wait_for_selector("textarea[name=reason]")
    assert page.url.removeprefix(live.url) == confirm_path, "the confirmation leads back to the chosen time"
    book(page, clicks, provider_id, javascript)
    screenshot(page, f"public-journey-register-{'js' if javascript else 'nojs'}")
    page.context.close()

    assert clicks.count == 4
    assert booked_by(email) == [(start, "pending")]


@JAVASCRIPT
def test_a_visitor_looking_at_calendars_and_times_sees_no_one_elses_appointment_and_gets_no_cookie(
        live, browser, javascript):  # type: ignore[no-untyped-def]
    """The pages as the browser holds them after each step (swapped fragments included): a taken time
    is simply missing, with no name, reason or status of anyone's appointment."""
    provider_id, service_id = clinic()
    page = live.page(browser, java_script_enabled=javascript)
    seen: list[str] = []
    page.goto(START)
    seen.append(page.content())
    page.click(f"[data-provider-id='{provider_id}'] :is(h2, h3) a")  # the card's name
    page.wait_for_url(re.compile(rf"/book/{provider_id}\?"))
    seen.append(page.content())
    taken_day = wall(1, 10)[:10]
    if page.locator(f"#calendar a[data-day='{taken_day}']").count() == 0:  # tomorrow is in next month
        page.click("#calendar a[rel=next]")
    choose_day(page, taken_day, javascript)
    seen.append(page.content())
    page.goto(f"/book/{provider_id}/slots?service={service_id}&date={taken_day}")
    seen.append(page.content())

    free = set(re.findall(r'data-slot-start="([^"]+)"', seen[-1]))
    assert wall(1, 9, 30) in free and wall(1, 10) not in free, "the taken time is simply not offered"
    for html in seen:
        for secret in (SECRET_NAME, "Zebedee", "Quartermaine", SECRET_REASON, "migraine", "approved", "pending"):
            assert secret.lower() not in html.lower(), f"a visitor is shown {secret!r}"
    assert page.context.cookies() == [], "browsing sets no cookie"
    page.context.close()


class ServerAnswers:
    """Every request's URL and the status the server answered it with, in the order asked. Playwright
    (like the page) sees a revalidated answer as the 200 the browser rebuilt from its cache; DevTools'
    raw response still has the server's 304. Its events may arrive in any order: they are matched by
    request id."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.asked: dict[str, str] = {}
        self.status: dict[str, int] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", lambda e: self.asked.setdefault(e["requestId"], e["request"]["url"]))
        session.on("Network.responseReceivedExtraInfo", lambda e: self.status.setdefault(e["requestId"], e["statusCode"]))
        session.send("Network.enable")

    def to(self, pattern: str) -> list[tuple[str, int]]:
        """(URL, status) of the requests whose URL matches `pattern`, once each has its answer."""
        wanted = lambda: [rid for rid, url in self.asked.items() if re.search(pattern, url)]  # noqa: E731
        for _ in range(200):
            if all(rid in self.status for rid in wanted()):
                break
            self.page.wait_for_timeout(50)  # the events are delivered while Playwright waits
        return [(self.asked[rid], self.status[rid]) for rid in wanted()]


@JAVASCRIPT
def test_a_slot_list_looked_at_again_is_answered_304_by_the_server(live, browser, javascript):  # type: ignore[no-untyped-def]
    """The browser keeps the list and asks with its ETag; nothing changed, so nothing is sent again:
    with htmx when a day is chosen a second time, without JavaScript when its page is opened again."""
    provider_id, service_id = clinic()
    page = live.page(browser, java_script_enabled=javascript)
    answers = ServerAnswers(page)
    first, second = next((wall(n, 9)[:10], wall(n + 1, 9)[:10]) for n in range(2, 9)
                         if wall(n, 9)[:7] == wall(n + 1, 9)[:7])  # two days of one month
    page.goto(f"/book/{provider_id}?service={service_id}&month={first[:7]}")
    for day in (first, second, first):
        choose_day(page, day, javascript)
    slot_lists = [(re.search(r"date=([\d-]+)", url)[1], status)
                  for url, status in answers.to(rf"/book/{provider_id}(/slots)?\?(?!.*known=).*date=")]
    assert slot_lists == [(first, 200), (second, 200), (first, 304)]
    page.context.close()
