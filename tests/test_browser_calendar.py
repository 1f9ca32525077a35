"""In Chromium, the month calendar and the slot list as a keyboard and screen reader user meets them: a
focused time taken by someone else leaves the focus on the nearest time and says so; the chosen day and
today are marked (in forced colours too); the grid follows the WAI-ARIA date picker keys; the month's
name never breaks inside a word on a 320 px screen, with WCAG 1.4.12 text spacing or without; and a
booking redraws the day's count at once, with htmx and without JavaScript."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import WorkingHours
from booking.services import booking
from tests.booking_helpers import ZONE, everyday_provider, local_day
from tests.factories import make_user
from tests.live import axe_violations
from tests.test_browser_accessibility import log_in, settle
from tests.test_browser_equal_access import equal_access_violations

# WCAG 1.4.12's text spacing, as the W3C's bookmarklet applies it.
TEXT_SPACING = """* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }"""

ACTIVE = """() => {
    const el = document.activeElement;
    return el ? {id: el.id, slot: el.dataset.slotStart || null, day: el.dataset.day || null} : null;
}"""


def book(provider_id: int, service_id: int, start: str) -> None:
    """Someone else books `start` (provider-local), through the service, as another browser would."""
    someone = make_user(Role.PATIENT).id  # a new one each time: one request a day per patient and provider
    booking.book_appointment(someone, provider_id, service_id, datetime.fromisoformat(start), None)


def patient_page(live: Any, browser: Any, **options: Any) -> Any:
    patient = make_user(Role.PATIENT)
    page = live.page(browser, **options)
    log_in(page, patient.email)
    return page


def quiet(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added, .htmx-swapping')")


# --- a focused time taken by someone else ---------------------------------------------------------


def test_a_focused_time_taken_by_someone_else_leaves_the_focus_on_the_nearest_time(live, browser):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    short = everyday_provider(start=time(9), end=time(10))  # two times a day: 09:00 and 09:30
    ids = provider.id, provider.services[0].id
    short_ids = short.id, short.services[0].id
    day = local_day(3).isoformat()
    book(*ids, f"{day}T09:30")  # so that 10:30 is the one nearest time to 10:00
    zone = datetime.combine(local_day(3), time(10)).replace(tzinfo=ZoneInfo(ZONE)).tzname()

    page = patient_page(live, browser)
    page.goto(f"/book/{ids[0]}?service={ids[1]}&date={day}")
    page.evaluate("() => { document.getElementById('slots-status').dataset.original = 'yes'; }")
    page.focus(f"#slots [data-slot-start='{day}T10:00']")
    book(*ids, f"{day}T10:00")
    page.wait_for_selector(f"#slots [data-slot-start='{day}T10:00']", state="detached", timeout=8_000)
    quiet(page)
    assert page.evaluate(ACTIVE)["slot"] == f"{day}T10:30"
    status = page.locator("#slots-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("data-original") == "yes"
    assert page.evaluate("() => !document.getElementById('slots').contains(document.getElementById('slots-status'))")
    assert re.search(rf"\b10:00 {zone} was just taken\b", status.inner_text()), status.inner_text()
    assert status.is_visible()
    assert axe_violations(page) == [] and equal_access_violations(page) == []  # this state, for both engines
    page.wait_for_timeout(2_500)  # the next refresh (204, or a redraw) leaves both alone
    assert page.evaluate(ACTIVE)["slot"] == f"{day}T10:30"
    assert "10:00" in status.inner_text()

    # The last time of a day taken: the focus goes to the day's heading.
    page.goto(f"/book/{short_ids[0]}?service={short_ids[1]}&date={day}")
    book(*short_ids, f"{day}T09:00")
    page.wait_for_selector(f"#slots [data-slot-start='{day}T09:00']", state="detached", timeout=8_000)
    page.focus(f"#slots [data-slot-start='{day}T09:30']")
    book(*short_ids, f"{day}T09:30")
    page.wait_for_selector(f"#slots [data-slot-start='{day}T09:30']", state="detached", timeout=8_000)
    quiet(page)
    assert page.evaluate(ACTIVE)["id"] == "slots-title"
    text = page.inner_text("#slots-status")
    assert f"09:30 {zone} was just taken" in text and "No free times" in text

    # A day picked afterwards clears the old news.
    page.locator("#calendar a[data-day]").first.click()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'slots-title'")
    assert page.inner_text("#slots-status") == ""
    page.context.close()


# --- the chosen day and today -------------------------------------------------------------------------

MARKS = """() => ({
    selected: [...document.querySelectorAll('#calendar [aria-selected="true"]')].map(
        cell => cell.matches('[data-day]') ? cell.dataset.day : cell.querySelector('[data-day]').dataset.day),
    today: [...document.querySelectorAll('#calendar [aria-current="date"]')].map(el => el.dataset.day),
    cells: [...document.querySelectorAll('#calendar [aria-selected]')].map(el => el.tagName.toLowerCase()),
})"""

LOOK = """([chosen, other]) => {
    const style = el => { const s = getComputedStyle(el);
        return {background: s.backgroundColor, outline: s.outlineWidth, border: s.borderTopWidth, color: s.color}; };
    const probe = document.createElement('span');
    probe.style.forcedColorAdjust = 'none';
    probe.style.backgroundColor = 'Highlight';
    document.body.append(probe);
    const highlight = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return {chosen: style(document.querySelector(chosen)), other: style(document.querySelector(other)), highlight};
}"""


def test_the_chosen_day_is_marked_after_a_click_and_a_full_load_and_today_as_today(live, browser):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    pid, sid = provider.id, provider.services[0].id
    today = local_day(0)
    page = patient_page(live, browser)
    page.goto(f"/book/{pid}?service={sid}")
    marks = page.evaluate(MARKS)
    # It opens on its first day with free times, that day chosen.
    first_free = page.locator("#calendar a[data-day]").first.get_attribute("data-day")
    assert marks["selected"] == [first_free]
    assert marks["today"] == ([today.isoformat()] if first_free[:7] == today.isoformat()[:7] else [])
    free = page.locator("#calendar a[data-day]")
    if free.count() < 2:  # the month's last day: the next month has the days (and no today)
        page.click("#calendar a[rel=next]")
        page.wait_for_function("() => document.querySelectorAll('#calendar a[data-day]').length > 1")
        quiet(page)
    chosen = free.last.get_attribute("data-day")
    other = free.first.get_attribute("data-day")
    free.last.click()
    page.wait_for_function("d => document.querySelector(`#calendar [aria-selected='true'] [data-day='${d}']`)",
                           arg=chosen)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'slots-title'")
    quiet(page)
    marks = page.evaluate(MARKS)
    assert marks["selected"] == [chosen]
    assert marks["cells"] == ["td"]  # on the gridcell, where aria-selected belongs
    assert marks["today"] == ([today.isoformat()] if chosen[:7] == today.isoformat()[:7] else [])
    page.wait_for_timeout(2_500)  # the calendar's own refresh keeps the mark
    assert page.evaluate(MARKS)["selected"] == [chosen]

    page.goto(f"/book/{pid}?service={sid}&date={chosen}")
    marks = page.evaluate(MARKS)
    assert marks["selected"] == [chosen] and chosen not in marks["today"]
    selectors = [f"#calendar a[data-day='{chosen}']", f"#calendar a[data-day='{other}']"]
    look = page.evaluate(LOOK, selectors)
    assert look["chosen"]["background"] != look["other"]["background"]

    page.emulate_media(forced_colors="active")
    settle(page)  # the days' colour transitions
    look = page.evaluate(LOOK, selectors)
    # More than a border's width: a filled system highlight that the other days do not have.
    assert look["chosen"]["background"] == look["highlight"], look
    assert look["other"]["background"] != look["highlight"], look
    page.context.close()


# --- the WAI-ARIA date grid ---------------------------------------------------------------------------


def weekdays_provider():  # type: ignore[no-untyped-def]
    """Works Monday to Friday: weekends are closed days in the grid."""
    provider = everyday_provider()
    provider.working_hours = [WorkingHours(weekday=d, start_time=time(9), end_time=time(17)) for d in range(5)]
    db.session.commit()
    return provider.id, provider.services[0].id


def month_after(day: date, months: int = 1) -> date:
    first = day.replace(day=1)
    for _ in range(months):
        first = (first + timedelta(days=32)).replace(day=1)
    return first


def test_the_month_grid_follows_the_date_picker_keys(live, browser):  # type: ignore[no-untyped-def]
    pid, sid = weekdays_provider()
    start = month_after(local_day(0))
    page = patient_page(live, browser)
    page.goto(f"/book/{pid}?service={sid}&month={start:%Y-%m}")
    page.focus("#calendar a[rel=next]")
    page.keyboard.press("Tab")  # one Tab stop: the 1st, as nothing is chosen and today is in another month
    at = date.fromisoformat(page.evaluate(ACTIVE)["day"])
    assert at == start

    def press(key: str, expected: date) -> None:
        page.keyboard.press(key)
        page.wait_for_function("d => document.activeElement && document.activeElement.dataset.day === d",
                               arg=expected.isoformat())

    # Arrows move a day or a week, closed days included (focusable, announced as unavailable).
    saturday = start + timedelta(days=(5 - start.weekday()) % 7)
    while at != saturday:
        press("ArrowRight", at + timedelta(days=1))
        at += timedelta(days=1)
    closed = page.evaluate("""() => { const el = document.activeElement;
        return {tag: el.tagName.toLowerCase(), disabled: el.getAttribute('aria-disabled'), text: el.innerText}; }""")
    assert closed["tag"] == "td" and closed["disabled"] == "true" and "no free times" in closed["text"]
    press("Enter", saturday)  # a closed day cannot be picked
    press(" ", saturday)
    assert page.inner_text("#slots-title") == "Pick a day"
    press("ArrowDown", saturday + timedelta(days=7))
    press("ArrowUp", saturday)
    press("Home", max(start, saturday - timedelta(days=saturday.weekday())))  # the row's first day of the month
    press("End", saturday + timedelta(days=1))  # the week's Sunday

    # PageDown/PageUp: the same day a month later or earlier, the month loaded.
    sunday = saturday + timedelta(days=1)
    later = month_after(start).replace(day=sunday.day)
    press("PageDown", later)
    assert page.inner_text("#calendar-title") == later.strftime("%B %Y")
    assert f"month={later:%Y-%m}" in page.url
    press("PageUp", sunday)
    assert page.inner_text("#calendar-title") == start.strftime("%B %Y")

    # Across the month's edge: left from the 1st is the last day of the month before, down from the
    # last week is the next month.
    page.focus(f"#calendar [data-day='{start.isoformat()}']")
    press("ArrowLeft", start - timedelta(days=1))
    assert page.inner_text("#calendar-title") == (start - timedelta(days=1)).strftime("%B %Y")
    press("ArrowRight", start)
    assert page.inner_text("#calendar-title") == start.strftime("%B %Y")
    last = month_after(start) - timedelta(days=1)
    page.focus(f"#calendar [data-day='{last.isoformat()}']")
    press("ArrowDown", last + timedelta(days=7))
    assert page.inner_text("#calendar-title") == month_after(start).strftime("%B %Y")
    press("ArrowUp", last)
    at = last
    while at != start:  # back to the 1st, a week at a time and then by days
        step = 7 if (at - start).days >= 7 else 1
        press("ArrowUp" if step == 7 else "ArrowLeft", at - timedelta(days=step))
        at -= timedelta(days=step)

    # Space picks a free day (Enter too, as the link it is); the chosen day becomes the Tab stop.
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    while at != monday:
        press("ArrowRight", at + timedelta(days=1))
        at += timedelta(days=1)
    page.keyboard.press(" ")
    page.wait_for_function("t => document.querySelector('#slots-title').innerText === t",
                           arg=monday.strftime("%A %d %B %Y"))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'slots-title'")
    quiet(page)
    assert page.evaluate(MARKS)["selected"] == [monday.isoformat()]
    tab_stops = page.evaluate("() => [...document.querySelectorAll('#calendar [data-day]')]"
                              ".filter(el => el.tabIndex === 0).map(el => el.dataset.day)")
    assert tab_stops == [monday.isoformat()]

    # The current month has no month before it: PageUp and left from its 1st stay put.
    page.goto(f"/book/{pid}?service={sid}")
    assert page.locator("#calendar a[rel=prev]").count() == 0
    first = local_day(0).replace(day=1)
    page.focus(f"#calendar [data-day='{first.isoformat()}']")
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    assert page.evaluate(ACTIVE)["day"] == first.isoformat()
    page.context.close()


# --- the month's name on a small screen ------------------------------------------------------------

BROKEN_WORDS = """() => {
    const heading = document.getElementById('calendar-title');
    const text = heading.firstChild;
    const broken = [];
    for (const match of text.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(text, match.index);
        range.setEnd(text, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
    }
    const box = heading.getBoundingClientRect();
    const beside = [...document.querySelectorAll('.calendar-nav a')].map(a => a.getBoundingClientRect())
        .filter(r => r.top < box.bottom - 1 && r.bottom > box.top + 1).length;
    const nav = heading.parentElement.getBoundingClientRect();
    return {broken, beside, inside: box.left >= nav.left - 0.5 && box.right <= nav.right + 0.5,
            text: text.data, width: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("spacing", [False, True], ids=["plain", "text-spacing"])
def test_the_month_heading_never_breaks_inside_a_word_at_320px(live, browser, spacing):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    month = local_day(0).replace(day=1)
    while month.month != 9:  # September: the longest name
        month = month_after(month)
    page = patient_page(live, browser, viewport={"width": 320, "height": 640}, bypass_csp=True)
    page.goto(f"/book/{provider.id}?service={provider.services[0].id}&month={month:%Y-%m}")
    if spacing:
        page.add_style_tag(content=TEXT_SPACING)
    settle(page)
    found = page.evaluate(BROKEN_WORDS)
    assert found["text"] == month.strftime("%B %Y")
    assert found["broken"] == [], found
    assert found["beside"] == 0, f"the month's name shares its row with a link: {found}"
    assert found["inside"] and found["width"] <= 320, found
    page.context.close()


# --- a booking redraws the calendar at once ------------------------------------------------------


def day_count(page: Any, day: str) -> str:
    return page.inner_text(f"#calendar a[data-day='{day}'] .day-count")


def test_a_booking_updates_the_days_count_at_once_with_htmx(live, browser):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    pid, sid = provider.id, provider.services[0].id
    day = local_day(3).isoformat()
    page = patient_page(live, browser)
    page.route(re.compile(r"known="), lambda route: route.abort())  # no live refresh: the answer alone
    page.goto(f"/book/{pid}?service={sid}&date={day}")
    assert day_count(page, day).startswith("16 free")
    page.click(f"#slots [data-slot-start='{day}T10:00']")
    page.wait_for_selector("#confirm-title")
    page.click(f"form[action$='/book/{pid}'] button[type=submit]")
    page.wait_for_selector("#booked-title")
    quiet(page)
    assert day_count(page, day).startswith("15 free")
    assert page.evaluate(MARKS)["selected"] == [day]
    page.click(f"#calendar a[data-day='{day}']")
    page.wait_for_selector("#slots [data-slot-start]")
    starts = page.eval_on_selector_all("#slots [data-slot-start]", "els => els.map(e => e.dataset.slotStart)")
    assert f"{day}T10:00" not in starts and f"{day}T10:30" in starts
    page.context.close()


def test_a_booking_without_javascript_shows_the_new_count_on_the_way_back(live, browser):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    pid, sid = provider.id, provider.services[0].id
    day = local_day(3).isoformat()
    page = patient_page(live, browser, java_script_enabled=False)
    page.goto(f"/book/{pid}?service={sid}&date={day}")
    assert day_count(page, day).startswith("16 free")
    page.click(f"#slots [data-slot-start='{day}T10:00']")
    page.wait_for_url(re.compile(r"/confirm\?"))
    page.click(f"form[action$='/book/{pid}'] button[type=submit]")
    page.wait_for_url(re.compile(r"/me/appointments/\d+$"))
    page.go_back()  # the confirm step
    page.go_back()  # the calendar, asked for again (no-store): the count and the times are the new ones
    page.wait_for_selector("#calendar")
    assert day_count(page, day).startswith("15 free")
    starts = page.eval_on_selector_all("#slots [data-slot-start]", "els => els.map(e => e.dataset.slotStart)")
    assert f"{day}T10:00" not in starts and f"{day}T10:30" in starts
    page.context.close()
