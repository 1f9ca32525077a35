"""The clinic's locale in a real Chromium: the document's language, 24-hour time fields, and date fields
in the clinic's order wherever the browser formats them by the page's language.

Desktop Chromium formats a native date or time field by its own interface language, whatever the page
says; with language-aware form controls (a Blink feature, on in Android's WebView) it follows the page's
`lang`. So the date check runs in a Chromium with that feature on: it shows that our pages declare the
language that makes a date field read dd/mm/yyyy. Time fields do not depend on the browser at all under
a 24-hour locale (booking/domain/locale.py), and that is checked in the plain browser everyone gets.
"""
from __future__ import annotations

from typing import Any

import pytest

from booking.domain.roles import Role
from booking.extensions import db
from tests.booking_helpers import everyday_provider
from tests.factories import make_user
from tests.live import CHROMIUM, FLAGS, screenshot

LANG_AWARE = "--enable-blink-features=LangAttributeAwareFormControlUI"
BROWSER_LOCALE = "en-US"  # a browser speaking US English, as many in the UK do


@pytest.fixture(params=[None, "de-DE", "en-US"], ids=["default", "de-DE", "en-US"])
def live_config(request) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {} if request.param is None else {"LOCALE": request.param}


@pytest.fixture(scope="module")
def lang_aware_browser(browser):  # type: ignore[no-untyped-def]
    """Chromium whose form controls follow the page's language (desktop Chromium's follow its own),
    launched by the suite's own Playwright (one per process)."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*FLAGS, LANG_AWARE])
    yield chromium
    chromium.close()


def expected_lang(live_config: dict[str, Any]) -> str:
    return live_config.get("LOCALE", "en-GB")


def spinbuttons(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The parts of the page's date and time fields, in order, as Chromium's accessibility tree has them."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    names = [n.get("name", {}).get("value", "") for n in nodes if n.get("role", {}).get("value") == "spinbutton"]
    return [name.split()[0] for name in names if name]


def test_the_document_language_follows_the_setting(live, browser, live_config):  # type: ignore[no-untyped-def]
    page = live.page(browser)
    page.goto("/auth/login")
    assert page.evaluate("document.documentElement.lang") == expected_lang(live_config)
    page.context.close()


def test_time_fields_are_24_hour_under_a_24_hour_locale(live, browser, live_config):  # type: ignore[no-untyped-def]
    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    page = live.log_in(browser, staff, "/staff/requests", locale=BROWSER_LOCALE)
    page.goto("/staff/hours")
    parts = spinbuttons(page)
    if expected_lang(live_config) == "en-US":  # a 12-hour clinic keeps the browser's native time field
        assert "AM/PM" in parts
        return
    assert "AM/PM" not in parts and "Hours" not in parts  # no native time field is left to the browser
    assert page.input_value("#new-start") == "09:00" and page.input_value("#new-end") == "17:00"
    page.fill("#new-start", "18:30")
    page.fill("#new-end", "24:00")
    page.select_option("#new-day", "5")
    page.click("#hours button:text-is('Add')")
    page.wait_for_selector("#hours input[value='18:30']")
    screenshot(page, f"staff-hours-{expected_lang(live_config)}")
    page.fill("#new-start", "6:30 PM")
    assert page.evaluate("document.querySelector('#new-start').validity.patternMismatch")

    page.goto("/staff/time-off")  # a date field and a 24-hour time, not a datetime-local with AM/PM
    assert "AM/PM" not in spinbuttons(page)
    page.fill("#off-start", "2031-03-14")
    page.fill("#off-start-time", "13:00")
    page.fill("#off-end", "2031-03-14")
    page.fill("#off-end-time", "17:30")
    page.fill("#off-reason", "Training")
    page.click("#time_off button:text-is('Add time off')")
    page.wait_for_selector("[data-time-off-id]")
    assert "13:00" in page.inner_text("[data-time-off-id]") and "17:30" in page.inner_text("[data-time-off-id]")
    screenshot(page, f"staff-time-off-{expected_lang(live_config)}")
    page.context.close()


def test_a_date_field_reads_in_the_clinics_order(live, lang_aware_browser, live_config):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    page = live.log_in(lang_aware_browser, admin, "/admin/appointments", locale=BROWSER_LOCALE)
    page.fill("#date_from", "2026-03-14")
    parts = [p for p in spinbuttons(page) if p in ("Day", "Month", "Year")][:3]
    order = {"en-GB": ["Day", "Month", "Year"], "de-DE": ["Day", "Month", "Year"], "en-US": ["Month", "Day", "Year"]}
    assert parts == order[expected_lang(live_config)]
    if expected_lang(live_config) == "en-GB":
        screenshot(page, "admin-date-filter-en-GB")
    page.context.close()
