"""The staff day schedule on paper: content only, every appointment whole, statuses in words."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.live import screenshot


def test_the_day_schedule_prints_without_controls(live, browser):  # type: ignore[no-untyped-def]
    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    for hour, status in ((9, Status.APPROVED), (10, Status.PENDING), (11, Status.APPROVED)):
        start = datetime.fromisoformat(wall(1, hour)).replace(tzinfo=ZoneInfo(ZONE))
        make_appointment(provider=provider, start_at=start, status=status)
    day = wall(1, 9)[:10]
    page = live.page(browser)
    page.goto("/auth/login")
    page.fill("#email", staff.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/staff/requests")
    page.goto(f"/staff/schedule?view=day&date={day}")
    assert page.locator(".timeline-item").count() == 3
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.site-header', '.schedule-nav', '.cancel-form', 'button']
        .map(s => [...document.querySelectorAll(s)].every(e => getComputedStyle(e).display === 'none'))""")
    assert all(hidden)
    items = page.evaluate("""() => [...document.querySelectorAll('.timeline-item')].map(e => {
        const style = getComputedStyle(e);
        return [style.breakInside, style.backgroundColor, e.innerText];
    })""")
    assert all(item[0] == "avoid" for item in items)
    assert all(item[1] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)") for item in items)
    assert sorted(word for *_, text in items for word in ("approved", "pending") if word in text.lower()) == [
        "approved", "approved", "pending"]
    assert page.locator(".print-only").is_visible()
    screenshot(page, "staff-schedule-print")
    page.context.close()
