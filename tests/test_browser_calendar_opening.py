"""In Chromium: a calendar opens on its first day with free times, and on a phone, where the times sit
below the month, they come into view with the focus on their heading; on a wide screen nothing moves."""
from __future__ import annotations

from tests.booking_helpers import everyday_provider, local_day
from tests.live import DESKTOP, PHONE, screenshot


def test_on_a_phone_the_first_free_days_times_are_in_view_when_a_calendar_opens(live, browser):  # type: ignore[no-untyped-def]
    with live.app.app_context():
        provider = everyday_provider(min_notice_min=0)
        provider.bio = "Twenty years of family medicine. " * 4
        path = f"/book/{provider.id}?service={provider.services[0].id}"
    page = live.page(browser, viewport=PHONE)
    page.goto(path)
    first = page.locator("#slots [data-slot-start]").first
    first.wait_for()
    assert page.evaluate("document.activeElement.id") == "slots-title"
    box = first.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]
    assert page.locator("#calendar [aria-selected=true] [data-day]").count() + page.locator(
        "#calendar [aria-selected=true][data-day]").count() == 1
    screenshot(page, "calendar-opens-phone")
    page.context.close()

    wide = live.page(browser, viewport=DESKTOP)
    wide.goto(path)
    wide.locator("#slots [data-slot-start]").first.wait_for()
    assert wide.evaluate("window.scrollY") == 0, "a wide screen shows month and times side by side: no scrolling"
    assert wide.evaluate("document.activeElement.id") != "slots-title"
    wide.context.close()


def test_a_day_named_in_the_address_is_shown_as_asked_without_moving_the_page(live, browser):  # type: ignore[no-untyped-def]
    with live.app.app_context():
        provider = everyday_provider(min_notice_min=0)
        path = f"/book/{provider.id}?service={provider.services[0].id}&date={local_day(5).isoformat()}"
    page = live.page(browser, viewport=PHONE)
    page.goto(path)
    page.locator("#slots [data-slot-start]").first.wait_for()
    assert page.evaluate("window.scrollY") == 0
    page.context.close()
