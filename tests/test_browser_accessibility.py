"""In Chromium, axe-core (WCAG 2.0/2.1 A and AA) on every page of every role, in light and dark mode, in
the states htmx swaps in; live regions on what changes in place; no motion for people who asked for none.

The page walks (`anonymous_pages`, `visitor_pages`, `patient_pages`, ...) are the list of the product's
pages: each drives a browser through one role's pages and yields a name whenever one is ready to be
looked at.
tests/test_browser_layout.py walks the same pages for its screenshots.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

import pytest

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Provider, User
from booking.services import booking, decisions, intake, notes, photos
from tests.booking_helpers import everyday_provider, local_day
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.images import picture
from tests.live import DESKTOP, axe_violations

# --- the clinic and the page walks (shared with test_browser_layout.py) ----------------------------


@dataclass(frozen=True)
class Clinic:
    patient_email: str
    staff_email: str
    admin_email: str
    provider_id: int
    service_id: int
    patient_id: int
    appointment_id: int  # the patient's own, approved, days ahead: it can be moved and cancelled


def open_clinic() -> Clinic:
    """A provider who works every day, their staff member, an admin, and a patient with a history:
    an approved appointment with a shared note, a completed one, and, from another patient, requests
    waiting in the queue and an appointment under way today. The service asks intake questions of
    every kind, and the requests carry their answers."""
    provider = everyday_provider(start=time(8), end=time(20))
    provider.user.full_name = "Dr Amelia Hart"
    provider.specialty.name = "General Practice"
    provider.services[0].name = "Consultation"
    provider.services[0].what_to_bring = "Your referral letter\nA list of the medicines you take"
    db.session.commit()
    staff_email, provider_id, service_id = provider.user.email, provider.id, provider.services[0].id
    admin = make_user(Role.ADMIN, full_name="Ada Admin")
    patient = make_user(Role.PATIENT, full_name="Pat Patient")
    other = make_user(Role.PATIENT, full_name="Olly Other")
    medicines, *_ = [intake.add_question(admin.id, service_id, intake.QuestionFields(*fields)) for fields in (
        ("Which medicines do you take?", "short_text", True), ("Anything else the doctor should know?", "long_text"),
        ("Is this your first visit?", "yes_no"), ("Which arm for the blood test?", "choice", False, ["Left", "Right"]))]

    def book(who: int, days: int, hh: int, reason: str) -> int:
        wall = datetime.combine(local_day(days), time(hh))
        answers = {medicines.id: "Ibuprofen now and then"}
        return booking.book_appointment(who, provider_id, service_id, wall, reason, answers).appointment_id

    here = db.session.get(Provider, provider_id)  # a profile with a photo, on the cards and the calendar
    here.languages, here.location, here.bio = "English, Welsh", "Room 4, first floor", "Sees families and children."
    db.session.commit()
    photos.set_photo(admin.id, provider_id, photos.Upload(picture((600, 600)), "amelia.jpg", "image/jpeg"))
    own = book(patient.id, 6, 10, "A check-up")
    decisions.approve(admin.id, own)
    notes.add_note(admin.id, own, "Please bring your last blood test.", visible_to_patient=True)
    book(other.id, 7, 11, "Headaches since Monday")
    book(other.id, 8, 12, "A sore knee")
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    here = db.session.get(Provider, provider_id)
    make_appointment(db.session.get(User, patient.id), here, start_at=now - timedelta(days=20), status=Status.COMPLETED)
    make_appointment(db.session.get(User, other.id), here, start_at=now - timedelta(minutes=10), status=Status.APPROVED)
    return Clinic(patient.email, staff_email, admin.email, provider_id, service_id, patient.id, own)


def log_in(page: Any, email: str) -> None:
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)


def settle(page: Any) -> None:
    """Wait for htmx's settling and for fades and toasts to finish: contrast is judged at rest."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')"
                           " && document.getAnimations().every(a => a.playState !== 'running')")


def visit(page: Any, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"


def anonymous_pages(page: Any) -> Iterator[str]:
    visit(page, "/auth/login")
    yield "login"
    visit(page, "/auth/register")
    yield "register"
    page.fill("#full_name", "Ana")
    page.fill("#email", "not an address")
    page.fill("#password", "short")
    with page.expect_response(lambda r: r.url.endswith("/auth/register") and r.request.method == "POST") as answer:
        page.click("#register-form button[type=submit]")
    assert answer.value.status == 422
    page.wait_for_selector("#register-form .field-errors")
    yield "register-422"
    visit(page, "/auth/reset")
    yield "forgot-password"
    visit(page, "/no/such/page", 404)
    yield "404"


def visitor_pages(page: Any, clinic: Clinic) -> Iterator[str]:
    """Someone without an account on the way to a time: the home page and the directory with their time
    chips, a calendar and its times, the confirm step with its login and registration forms (opened
    from a chip, and swapped into the calendar) and their refusals in place, and the check-email page
    that leads back to the chosen time."""
    visit(page, "/")
    yield "home"
    visit(page, "/book/")
    page.wait_for_selector(f"[data-provider-id='{clinic.provider_id}'] a[data-slot-start]")
    yield "directory"
    page.click(f"[data-provider-id='{clinic.provider_id}'] a[data-slot-start] >> nth=0")
    page.wait_for_selector("#confirm-title")
    yield "confirm"  # the whole page a time chip opens
    visit(page, f"/book/{clinic.provider_id}?service={clinic.service_id}")
    page.wait_for_selector("#slots [data-slot-start]")  # the first day with free times, chosen
    yield "calendar"
    page.locator("#calendar a[data-day]").last.click()
    page.wait_for_selector("#slots-title")
    yield "slots"
    page.locator("#slots [data-slot-start]").first.click()
    page.wait_for_selector("#slots #login-form")
    yield "confirm-swapped"  # the step swapped into the calendar, both forms in it
    page.fill("#login-form [name=email]", "nobody@example.test")
    page.fill("#login-form [name=password]", "not the password")
    with page.expect_response(lambda r: "/auth/login" in r.url and r.request.method == "POST") as answer:
        page.click("#login-form button[type=submit]")
    assert answer.value.status == 422
    page.wait_for_selector("#login-form .form-errors")
    yield "confirm-login-refused"
    with page.expect_response(lambda r: "/auth/register" in r.url and r.request.method == "POST") as answer:
        page.click("#register-form button[type=submit]")
    assert answer.value.status == 422
    page.wait_for_selector("#register-form .field-errors")
    yield "confirm-register-refused"
    page.fill("#register-form [name=full_name]", "Vera Visitor")
    page.fill("#register-form [name=email]", "vera@example.test")
    page.fill("#register-form [name=password]", "correct horse battery")
    page.fill("#register-form [name=password_confirm]", "correct horse battery")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#check-email")
    assert "next=" in page.url
    yield "check-email"


def patient_pages(page: Any, clinic: Clinic, day: int = 0) -> Iterator[str]:
    """`day`: which of the calendar's free days to book (a second walk books another)."""
    log_in(page, clinic.patient_email)
    visit(page, "/book/")
    yield "book"
    visit(page, f"/book/{clinic.provider_id}?service={clinic.service_id}")
    yield "calendar"
    days = page.locator("#calendar a[data-day]")
    if days.count() <= day:  # the end of a month: the next month has the days
        page.click("#calendar a[rel=next]")
        page.wait_for_function("() => document.querySelectorAll('#calendar a[data-day]').length > 0")
    days.nth(min(day, days.count() - 1)).click()
    page.wait_for_selector("#slots [data-slot-start]")
    yield "slots"
    page.locator("#slots [data-slot-start]").first.click()
    page.wait_for_selector("#confirm-title")
    yield "confirm"
    page.fill("textarea[name=reason]", "A cough that will not go")
    page.click(f"form[action$='/book/{clinic.provider_id}'] button[type=submit]")
    page.wait_for_selector("#slots [data-intake-question] .field-errors")  # the required question unanswered
    yield "confirm-unanswered"
    page.fill("#slots [data-intake-question] input[type=text]", "Ibuprofen now and then")
    page.check("#slots [data-intake-question] input[type=radio][value=yes]")
    page.click(f"form[action$='/book/{clinic.provider_id}'] button[type=submit]")
    page.wait_for_selector("#booked-title")
    page.wait_for_selector("#messages .toast")
    yield "booked"
    page.click("#booked-title ~ p a[href^='/me/appointments/']")
    page.wait_for_selector("#appointment [data-next-step]")
    yield "booked-confirmation"  # a request waiting for the clinic: what to bring, add to calendar
    visit(page, "/me/appointments")
    yield "appointments"
    visit(page, f"/me/appointments/{clinic.appointment_id}")
    yield "appointment"
    visit(page, f"/me/appointments/{clinic.appointment_id}/cancel")
    yield "cancel"
    visit(page, "/account/")
    yield "account"
    visit(page, "/account/password")
    yield "password"
    visit(page, "/account/delete")
    yield "delete-account"
    visit(page, "/staff/requests", 403)
    yield "403"


def staff_pages(page: Any, clinic: Clinic) -> Iterator[str]:
    log_in(page, clinic.staff_email)
    visit(page, "/staff/requests")
    page.wait_for_selector("#request-rows .reject-form")  # each row carries its own reject form
    yield "requests"
    before = page.locator("#request-rows tr[data-appointment-id]").count()
    page.locator("#request-rows tr[data-appointment-id] button:has-text('Approve')").first.click()
    page.wait_for_function("n => document.querySelectorAll('#request-rows tr[data-appointment-id]').length < n", arg=before)
    page.wait_for_selector("#messages .toast")
    yield "requests-approved"
    visit(page, "/staff/schedule")
    yield "schedule-day"
    visit(page, "/staff/schedule?view=week")
    yield "schedule-week"
    visit(page, "/staff/hours")
    yield "hours"
    visit(page, "/staff/time-off")
    yield "time-off"
    visit(page, f"/staff/patients/{clinic.patient_id}")
    yield "patient"
    visit(page, "/staff/profile")
    yield "profile"
    visit(page, "/account/")
    yield "account"


def admin_pages(page: Any, clinic: Clinic) -> Iterator[str]:
    log_in(page, clinic.admin_email)
    visit(page, "/admin/")
    yield "dashboard"
    visit(page, "/admin/appointments")
    with page.expect_response(lambda r: "status=approved" in r.url):
        page.select_option("#status", "approved")
    page.wait_for_function("() => [...document.querySelectorAll('#appointment-table .status')]"
                           ".every(s => s.textContent.trim() === 'approved')")
    yield "appointments-filtered"
    page.locator("#appointment-table tr[data-appointment-id] a:has-text('Details')").first.click()
    page.wait_for_selector("#appointment-table tr.detail-row textarea")
    yield "appointment-open"
    visit(page, "/admin/providers")
    yield "providers"
    visit(page, f"/admin/providers/{clinic.provider_id}")
    yield "provider-form"
    page.set_input_files("#photo", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Not a photo"}])
    with page.expect_response(lambda r: r.url.endswith("/photo") and r.request.method == "POST") as answer:
        page.click(".photo-upload button[type=submit]")
    assert answer.value.status == 422
    page.wait_for_selector("#photo-errors")
    yield "provider-photo-refused"
    visit(page, "/admin/services")
    page.locator(f"tr[data-service-id='{clinic.service_id}'] a:has-text('Edit')").click()
    page.wait_for_selector(f"tr.editing[data-service-id='{clinic.service_id}'] input[name=name]")
    yield "services-editing"
    visit(page, "/admin/specialties")
    yield "specialties"
    visit(page, "/admin/users")
    yield "users"
    visit(page, "/admin/outbox")
    yield "outbox"


#: role -> walk(page, clinic, run): `run` counts the walks of one role over the same clinic.
WALKS = {
    "anonymous": lambda page, clinic, run=0: anonymous_pages(page),
    "visitor": lambda page, clinic, run=0: visitor_pages(page, clinic),
    "patient": lambda page, clinic, run=0: patient_pages(page, clinic, day=run),
    "staff": lambda page, clinic, run=0: staff_pages(page, clinic),
    "admin": lambda page, clinic, run=0: admin_pages(page, clinic),
}


# --- axe --------------------------------------------------------------------------------------------


class Audit:
    """Collects axe's findings over many pages, to fail once with all of them."""

    def __init__(self) -> None:
        self.found: dict[str, list[dict[str, Any]]] = {}
        self.pages: dict[str, str] = {}  # name -> URL

    def check(self, page: Any, name: str) -> None:
        self.pages[name] = page.url
        settle(page)
        violations = axe_violations(page) + structure_violations(page)
        if violations:
            self.found[name] = violations

    def report(self) -> str:
        lines = [f"axe found problems on {len(self.found)} of {len(self.pages)} pages:"]
        for name, violations in self.found.items():
            lines.append(f"{name} ({self.pages[name]})")
            for v in violations:
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
                lines.extend(f"      at {target}" for target in v["nodes"])
        return "\n".join(lines)


def structure_violations(page: Any) -> list[dict[str, Any]]:
    """axe's best-practice rules on landmarks and headings (beyond the WCAG tags of axe_violations)."""
    return list(page.evaluate(
        """async () => {
            const found = await axe.run(document, {runOnly: {type: 'tag', values: ['best-practice']}});
            return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role", list(WALKS))
def test_every_page_passes_axe(live, browser, role, scheme):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=DESKTOP, color_scheme=scheme)
    audit = Audit()
    for name in WALKS[role](page, clinic):
        audit.check(page, f"{role}-{name}")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.context.close()
    dark = sum(int(c) for c in re.findall(r"\d+", background)[:3]) < 3 * 64
    assert dark == (scheme == "dark"), f"the {scheme} scheme did not apply: the page is {background}"
    assert len(audit.pages) >= 5
    assert not audit.found, audit.report()


# --- what changes in place is announced; nothing moves for people who asked for stillness ------------

ANNOUNCED = """sel => {
    const region = document.querySelector(sel);
    if (!region) return 'missing';
    if (region.closest('[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]')) return 'live';
    if (region.contains(document.activeElement)) return 'focused';
    return 'silent';
}"""

MOTION = """sel => {
    const seconds = value => Math.max(...value.split(',').map(v => v.trim().endsWith('ms')
        ? parseFloat(v) / 1000 : parseFloat(v)));
    return Math.max(...[...document.querySelectorAll(sel)].flatMap(el => [el, ...el.querySelectorAll('*')])
        .map(el => getComputedStyle(el))
        .map(s => Math.max(seconds(s.transitionDuration), seconds(s.animationDuration))));
}"""


def announced(page: Any, selector: str) -> str:
    """'live', 'focused' or 'silent' (after giving htmx a moment to settle and move the focus)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"sel => ({ANNOUNCED})(sel) !== 'silent'", arg=selector, timeout=2000)
    except PlaywrightTimeout:
        pass
    return str(page.evaluate(ANNOUNCED, selector))


def motion(page: Any, selector: str) -> float:
    """The longest transition or animation of the elements matching `selector` and their insides."""
    return float(page.evaluate(MOTION, selector))


@pytest.mark.parametrize("reduced_motion", ["no-preference", "reduce"])
def test_swaps_are_announced_and_still_when_asked(live, browser, reduced_motion):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=DESKTOP, reduced_motion=reduced_motion)
    moving = reduced_motion == "no-preference"
    log_in(page, clinic.patient_email)
    assert page.get_attribute("#messages", "aria-live") == "polite"
    assert page.get_attribute("#messages", "role") == "status"

    visit(page, "/book/")
    page.select_option("#specialty", index=1)
    page.wait_for_function("() => location.search.includes('specialty=')")
    assert announced(page, "#provider-list") == "live"

    visit(page, f"/book/{clinic.provider_id}?service={clinic.service_id}")
    page.click("#calendar a[rel=next]")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'calendar-title'")
    page.click("#calendar a[rel=prev]")
    page.wait_for_selector("#calendar a[data-day]")
    page.locator("#calendar a[data-day]").first.click()
    page.wait_for_selector("#slots [data-slot-start]")
    assert announced(page, "#slots") == "live"
    # htmx moves the focus when the swap settles, a moment after the new times appear
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'slots-title'")
    if moving:  # the check sees motion where there is some...
        assert motion(page, ".slots, .button, td.day-free a") >= 0.1
    else:  # ...and none where it was asked away
        assert motion(page, "body") < 0.001

    page.locator("#slots [data-slot-start]").first.click()
    page.wait_for_selector("#confirm-title")
    assert announced(page, "#slots") in ("live", "focused")
    page.fill("#slots [data-intake-question] input[type=text]", "Ibuprofen now and then")  # the one required answer
    page.click(f"form[action$='/book/{clinic.provider_id}'] button[type=submit]")
    page.wait_for_selector("#booked-title")
    toast = page.wait_for_selector("#messages .toast")
    assert "Request sent" in toast.inner_text()
    assert announced(page, "#slots") in ("live", "focused")
    assert announced(page, "#messages .toast") == "live"
    if moving:
        assert motion(page, "#messages .toast") >= 0.1
    else:
        assert motion(page, "#messages .toast, #slots") < 0.001
        assert motion(page, "body") < 0.001
    page.context.close()


def test_admin_swaps_are_announced(live, browser):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=DESKTOP)
    log_in(page, clinic.admin_email)
    visit(page, "/admin/appointments")
    with page.expect_response(lambda r: "status=pending" in r.url):
        page.select_option("#status", "pending")
    page.wait_for_selector("#appointment-table tr[data-appointment-id]")
    assert announced(page, "#appointment-table") == "live"
    page.locator("#appointment-table a:has-text('Details')").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#appointment-table tr.detail-row")
    assert announced(page, "#appointment-table tr.detail-row") == "live"

    visit(page, "/admin/users")
    with page.expect_response(lambda r: "q=Olly" in r.url):
        page.fill("#q", "Olly")
    page.wait_for_function("() => document.querySelectorAll('#user-table tr[data-user-id]').length === 1")
    assert announced(page, "#user-table") == "live"

    visit(page, "/admin/services")
    row = f"tr[data-service-id='{clinic.service_id}']"
    page.locator(f"{row} a:has-text('Edit')").focus()
    page.keyboard.press("Enter")  # the link is swapped away with its row: the keyboard must not be lost
    page.wait_for_selector(f"{row}.editing")
    assert announced(page, row) == "focused"
    page.locator(f"{row} a:has-text('Cancel')").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row}:not(.editing) a:has-text('Edit')")
    assert announced(page, row) == "focused"
    page.context.close()
