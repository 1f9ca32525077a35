"""In Chromium, with the keyboard alone: a patient logs in, finds a provider, changes months, picks a day
and a time, and books, with Tab, Shift+Tab, the arrow keys, Enter, Space and Escape. At every step the
focus is on an element (never lost to the page), shows a visible focus ring, and after each htmx swap it
lands on the new content's heading."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, Provider
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.live import screenshot
from tests.test_browser_booking import clinic
from tests.test_browser_journeys import at

# What has the focus, and whether it can be seen: a focus ring (outline) or a box-shadow, and Chromium's
# own judgement that the focus should show (:focus-visible).
FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 60),
        day: el.dataset.day || null, slot: el.dataset.slotStart || null,
        ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        shadow: style.boxShadow !== 'none',
        visible: el.matches(':focus-visible'),
    };
}"""


def focus(page) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The focused element, after checking that there is one and that its focus can be seen."""
    state = page.evaluate(FOCUS)
    assert state is not None, "the keyboard focus was lost to the page"
    assert state["visible"] and (state["ring"] or state["shadow"]), f"no visible focus indicator on {state}"
    return state


def press(page, key: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    page.keyboard.press(key)
    return focus(page)


def tab_to(page, selector: str, backwards: bool = False, limit: int = 40) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Tab (or Shift+Tab) until `selector` has the focus, checking the focus ring on every stop."""
    for _ in range(limit):
        state = press(page, "Shift+Tab" if backwards else "Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return state
    raise AssertionError(f"{selector} never got the focus in {limit} presses of Tab")


def focus_lands_on(page, selector: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """After an htmx swap the focus moves to `selector` (the new content's heading)."""
    page.wait_for_function("s => document.activeElement && document.activeElement.matches(s)", arg=selector)
    return focus(page)


def moved(day: date, key: str) -> date:
    """Where a key takes the focus in a month of free days."""
    steps = {"ArrowRight": 1, "ArrowLeft": -1, "ArrowDown": 7, "ArrowUp": -7}
    if key in steps:
        return day + timedelta(days=steps[key])
    edge = day - timedelta(days=day.weekday()) + timedelta(days=6 if key == "End" else 0)
    return min(max(edge, day.replace(day=1)), (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1))


def only(page, provider_id: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the provider list shows this one provider alone."""
    page.wait_for_function(
        """id => {
            const cards = document.querySelectorAll('[data-provider-id]');
            return cards.length === 1 && cards[0].dataset.providerId === id;
        }""", arg=str(provider_id))


def test_a_patient_books_with_the_keyboard_alone(live, browser):  # type: ignore[no-untyped-def]
    physio_id, skin_id = clinic()
    patient = make_user(Role.PATIENT, full_name="Kai Keys")
    page = live.page(browser)

    # Log in: the e-mail field has the focus when the page opens.
    page.goto("/auth/login")
    assert focus(page)["id"] == "email"
    page.keyboard.type(patient.email)
    assert press(page, "Tab")["id"] == "password"
    page.keyboard.type(DEFAULT_PASSWORD)
    tab_to(page, "#login-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/")

    # Find the provider: a name search, cleared with Escape, then the specialty with the arrow keys.
    tab_to(page, "#q")
    page.keyboard.type("Sam")
    page.wait_for_function("() => document.querySelectorAll('[data-provider-id]').length === 1")
    assert "Dr Sam Skin" in page.inner_text("#provider-list")
    assert press(page, "Escape")["id"] == "q"
    page.wait_for_function("() => document.querySelectorAll('[data-provider-id]').length === 2")
    assert page.input_value("#q") == ""
    tab_to(page, "#specialty")
    press(page, "ArrowDown")  # Dermatology
    only(page, skin_id)
    press(page, "ArrowDown")  # Physiotherapy
    only(page, physio_id)
    assert focus(page)["id"] == "specialty"  # the list was redrawn, the focus stayed on the filter
    assert tab_to(page, "[data-provider-id] h2 a")["text"] == "Dr Ada Physio"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/book/{physio_id}\b"))

    # The calendar: the skip link, then to the next month and back; each time the month's heading has
    # the focus.
    assert tab_to(page, ".skip-link")["text"] == "Skip to content"
    page.keyboard.press("Enter")
    assert tab_to(page, ".service-tabs a")["text"].startswith("Service")
    this_month = page.inner_text("#calendar-title")
    tab_to(page, "#calendar a[rel=next]")
    page.keyboard.press("Enter")
    next_month = focus_lands_on(page, "#calendar-title")["text"]
    assert next_month != this_month
    tab_to(page, "#calendar a[rel=prev]", backwards=True)
    page.keyboard.press("Enter")
    assert focus_lands_on(page, "#calendar-title")["text"] == this_month
    tab_to(page, "#calendar a[rel=next]")
    page.keyboard.press("Enter")
    assert focus_lands_on(page, "#calendar-title")["text"] == next_month

    # The month grid is one Tab stop; the arrow keys move between its days (every day is free here),
    # Home and End to the ends of the week.
    first = tab_to(page, "#calendar a[data-day]")["day"]
    assert first.endswith("-01")
    expected = date.fromisoformat(first)
    for key in ["ArrowRight", "ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp", "ArrowDown", "End", "Home",
                "ArrowRight", "ArrowRight"]:
        expected = moved(expected, key)
        assert press(page, key)["day"] == expected.isoformat(), key
    chosen = expected.isoformat()
    assert tab_to(page, "#calendar a[rel=next]", backwards=True, limit=1)
    assert press(page, "Tab")["day"] == chosen  # back into the grid on the day left

    # Someone books on that day: the calendar redraws itself, and the focus stays on the day.
    provider = db.session.get(Provider, physio_id)
    day_link = page.locator(f"#calendar a[data-day='{chosen}']")
    before = day_link.inner_text()
    make_appointment(provider=provider, start_at=at(f"{chosen}T16:30"), status=Status.APPROVED)
    page.wait_for_function(  # redrawn, and settled: htmx has taken over the new links
        "([s, t]) => document.querySelector(s).innerText !== t && !document.querySelector('.htmx-added')",
        arg=[f"#calendar a[data-day='{chosen}']", before], timeout=8_000)
    assert focus(page)["day"] == chosen
    page.keyboard.press("Enter")
    heading = focus_lands_on(page, "#slots-title")
    assert heading["text"] == expected.strftime("%A %d %B %Y")

    # The day's times: Tab to them and between them. A live refresh (someone books another time)
    # redraws the list but leaves the focus where it was.
    assert tab_to(page, "#slots [data-slot-start]")["slot"] == f"{chosen}T09:00"
    assert press(page, "Tab")["slot"] == f"{chosen}T09:30"
    assert press(page, "Tab")["slot"] == f"{chosen}T10:00"
    assert press(page, "Shift+Tab")["slot"] == f"{chosen}T09:30"
    taken = page.locator(f"#slots [data-slot-start='{chosen}T11:00']")
    assert taken.count() == 1
    make_appointment(provider=provider, start_at=at(f"{chosen}T11:00"), status=Status.APPROVED)
    taken.wait_for(state="detached", timeout=8_000)
    page.wait_for_function("() => !document.querySelector('.htmx-added')")
    assert focus(page)["slot"] == f"{chosen}T09:30"

    # Confirm with Space; the confirm step's heading takes the focus; the reason is typed; Enter books.
    page.keyboard.press("Space")
    assert focus_lands_on(page, "#confirm-title")["text"] == "Confirm your booking"
    assert "09:30" in page.inner_text("#slots")
    assert press(page, "Tab")["id"] == "reason"
    page.keyboard.type("My knee hurts")
    assert press(page, "Tab")["text"] == "Send request"
    page.keyboard.press("Enter")
    assert focus_lands_on(page, "#booked-title")["text"] == "Request sent"
    screenshot(page, "keyboard-booked")
    tab_to(page, "#slots a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/me/appointments/\d+$"))
    assert "pending" in page.inner_text("[data-appointment-id] .status").lower()

    db.session.rollback()
    booked = db.session.scalar(sa.select(Appointment).where(Appointment.patient_id == patient.id))
    assert booked is not None and booked.status == "pending" and booked.reason == "My knee hurts"
    assert booked.start_at == at(f"{chosen}T09:30")
    page.context.close()


def test_a_refused_form_puts_the_focus_on_its_first_field_in_error(live, browser):  # type: ignore[no-untyped-def]
    page = live.page(browser)
    page.goto("/auth/register")
    page.fill("#full_name", "Ana Patient")
    page.fill("#email", "ana@example.com")
    page.fill("#password", "short")
    page.fill("#password_confirm", "short")
    page.click("#register-form button[type=submit]")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'password'")
    described = page.get_attribute("#password", "aria-describedby") or ""
    assert "password-errors" in described.split()
    assert "at least 10 characters" in page.inner_text("#password-errors")
    page.context.close()


def test_deciding_a_request_moves_the_focus_to_the_next_one(live, browser):  # type: ignore[no-untyped-def]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from booking.domain.roles import Role
    from booking.extensions import db
    from tests.booking_helpers import ZONE, everyday_provider, wall
    from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user

    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    first, second = (make_appointment(provider=provider, start_at=datetime.fromisoformat(wall(3, h)).replace(
        tzinfo=ZoneInfo(ZONE))) for h in (10, 11))
    first_id, second_id = first.id, second.id
    page = live.page(browser)
    page.goto("/auth/login")
    page.fill("#email", staff.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/requests")
    page.focus(f"tr[data-appointment-id='{first_id}'] form button")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"tr[data-appointment-id='{first_id}']", state="detached")
    page.wait_for_function("id => document.activeElement.closest(`tr[data-appointment-id='${id}']`) !== null",
                           arg=str(second_id))
    page.focus(f"tr[data-appointment-id='{second_id}'] form button")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"tr[data-appointment-id='{second_id}']", state="detached")
    page.wait_for_function("() => document.activeElement.matches('main h1')")
    page.context.close()
