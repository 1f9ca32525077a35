"""In Chromium, with htmx: staff decide on requests in the queue while the patient watches the status
change; an admin filters the appointments table, writes a note and downloads exactly the filtered CSV;
two patients press the same slot and only one gets it."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentNote
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.factories import make_appointment, make_user
from tests.live import screenshot


def at(start: str):  # type: ignore[no-untyped-def]
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


class StaysOnPage:
    """Watches that a page is never loaded again: a marker on `window` must survive, and the main frame
    must not start a new document (a pushed URL is allowed: it is the same document)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.loads: list[str] = []
        self.navigations: list[str] = []
        page.evaluate("window.__marker = 1")
        page.on("load", lambda p: self.loads.append(p.url))
        page.on("framenavigated", lambda f: f == page.main_frame and self.navigations.append(f.url))

    def check(self, pushed_urls: bool = False) -> None:
        assert self.page.evaluate("window.__marker") == 1, "the page was loaded again"
        assert self.loads == [], f"new documents were loaded: {self.loads}"
        if not pushed_urls:
            assert self.navigations == [], f"the main frame navigated: {self.navigations}"


def badge(page) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text("#pending-count").strip()


def badge_reads(page, count: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("n => document.querySelector('#pending-count').textContent.trim() === n", arg=str(count),
                           timeout=5_000)


def test_staff_decide_inline_and_the_patients_open_pages_follow(live, browser):  # type: ignore[no-untyped-def]
    staff, patient = make_user(Role.STAFF, full_name="Dr Nia Desk"), make_user(Role.PATIENT, full_name="Pat Waiting")
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    to_approve = make_appointment(patient, provider, start_at=at(wall(3, 10)), status=Status.PENDING)
    to_reject = make_appointment(patient, provider, start_at=at(wall(4, 11)), status=Status.PENDING)
    approve_id, reject_id = to_approve.id, to_reject.id

    mine = live.log_in(browser, patient, "/book/")
    mine.goto("/me/appointments")
    own = mine.context.new_page()  # the same patient, the rejected request's own page in another tab
    own.goto(f"/me/appointments/{reject_id}")
    for watched in (mine, own):
        assert "pending" in watched.inner_text(f"[data-appointment-id='{reject_id}']").lower()
    patient_pages = [StaysOnPage(mine), StaysOnPage(own)]

    desk = live.log_in(browser, staff, "/staff/requests")
    assert badge(desk) == "2"
    rows = desk.locator("#request-rows [data-appointment-id]")
    assert [rows.nth(i).get_attribute("data-appointment-id") for i in range(rows.count())] == [
        str(approve_id), str(reject_id)]
    staying = StaysOnPage(desk)

    desk.click(f"tr[data-appointment-id='{approve_id}'] button:has-text('Approve')")
    desk.wait_for_selector(f"tr[data-appointment-id='{approve_id}']", state="detached")
    badge_reads(desk, 1)
    assert "Approved." in desk.inner_text("#messages")

    # While the reason is being typed a new request comes in and the queue redraws itself, badge and
    # all: what was typed stays.
    reason_box = f"#reason-{reject_id}"
    desk.fill(reason_box, "Dr Desk is away that day")
    newcomer = make_appointment(provider=provider, start_at=at(wall(5, 9)), status=Status.PENDING).id
    desk.wait_for_selector(f"tr[data-appointment-id='{newcomer}']", timeout=8_000)
    badge_reads(desk, 2)
    assert desk.input_value(reason_box) == "Dr Desk is away that day"
    desk.click(f"tr[data-appointment-id='{reject_id}'] button:has-text('Reject')")
    desk.wait_for_selector(f"tr[data-appointment-id='{reject_id}']", state="detached")
    badge_reads(desk, 1)
    assert [rows.nth(i).get_attribute("data-appointment-id") for i in range(rows.count())] == [str(newcomer)]
    staying.check()
    assert desk.url.endswith("/staff/requests")

    db.session.rollback()
    assert db.session.get(Appointment, approve_id).status == "approved"
    rejected = db.session.get(Appointment, reject_id)
    assert (rejected.status, rejected.status_reason) == ("rejected", "Dr Desk is away that day")

    # The patient's pages were open all along; they refresh themselves.
    mine.wait_for_function(
        """([a, r]) => {
            const text = id => (document.querySelector(`[data-appointment-id="${id}"]`) || {}).textContent || '';
            return /approved/i.test(text(a)) && /rejected/i.test(text(r));
        }""", arg=[approve_id, reject_id], timeout=10_000)
    assert "Dr Desk is away that day" in mine.inner_text(f"[data-appointment-id='{reject_id}']")
    own.wait_for_function("() => document.querySelector('.status').textContent.trim() === 'rejected'", timeout=10_000)
    assert "Dr Desk is away that day" in own.inner_text("main")
    for watched in patient_pages:
        watched.check()
    screenshot(mine, "journey-patient-sees-decisions")
    desk.context.close()
    mine.context.close()


def test_admin_filters_opens_a_row_adds_a_note_and_downloads_the_filtered_csv(live, browser, tmp_path):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    hart, lee = everyday_provider(), everyday_provider()
    hart.user.full_name, lee.user.full_name = "Dr Amelia Hart", "Dr Ben Lee"
    db.session.commit()
    smiths = [make_user(Role.PATIENT, full_name=f"Jo Smith {n}") for n in range(3)]
    other = make_user(Role.PATIENT, full_name="Kim Other")
    wanted = [  # pending, with Dr Hart, patients called Smith: what the filters should leave
        make_appointment(smiths[0], hart, start_at=at(wall(2, 9)), status=Status.PENDING),
        make_appointment(smiths[1], hart, start_at=at(wall(3, 9)), status=Status.PENDING),
    ]
    make_appointment(smiths[2], hart, start_at=at(wall(2, 10)), status=Status.APPROVED)  # other status
    make_appointment(smiths[2], lee, start_at=at(wall(2, 9)), status=Status.PENDING)  # other provider
    make_appointment(other, hart, start_at=at(wall(2, 11)), status=Status.PENDING)  # other patient
    make_appointment(other, lee, start_at=at(wall(5, 9)), status=Status.CANCELLED)
    wanted_ids = {str(a.id) for a in wanted}

    page = live.log_in(browser, admin, "/admin/appointments")
    table_rows = page.locator("#appointment-table tbody tr[data-appointment-id]")
    assert table_rows.count() == 6
    staying = StaysOnPage(page)

    def shown() -> set[str]:
        return {table_rows.nth(i).get_attribute("data-appointment-id") for i in range(table_rows.count())}

    def settles_at(count: int) -> None:
        page.wait_for_function(
            "n => document.querySelectorAll('#appointment-table tbody tr[data-appointment-id]').length === n",
            arg=count)

    page.select_option("#status", "pending")
    settles_at(4)
    assert "status=pending" in page.url
    page.select_option("#provider", label="Dr Amelia Hart")
    settles_at(3)
    assert f"provider={hart.id}" in page.url
    page.fill("#q", "smith")
    settles_at(2)
    page.wait_for_url(re.compile(r"[?&]q=smith"))
    assert shown() == wanted_ids
    assert "2 appointments" in page.inner_text("#appointment-table .table-tools")
    page.go_back()  # the filters are history entries: back undoes the search, still in place
    settles_at(3)
    assert "q=smith" not in page.url
    page.go_forward()
    settles_at(2)
    assert shown() == wanted_ids

    first = wanted[0].id
    page.click(f"tr[data-appointment-id='{first}'] a:has-text('Details')")
    detail = page.locator(f"tr.detail-row[data-detail-for='{first}']")
    detail.wait_for()
    assert "Jo Smith 0" in detail.inner_text() and "pending" in detail.inner_text().lower()
    page.fill(f"#note-{first}", "Called to confirm the address.")
    page.click(f"#notes-{first} button[type=submit]")
    page.wait_for_selector(f"#notes-{first} [data-note-id]")
    assert "Called to confirm the address." in page.inner_text(f"#notes-{first} .note-list")
    assert "Note added." in page.inner_text("#messages")
    assert page.input_value(f"#note-{first}") == ""
    staying.check(pushed_urls=True)
    db.session.rollback()
    [note] = db.session.scalars(sa.select(AppointmentNote)).all()
    assert (note.appointment_id, note.author_id, note.body) == (first, admin.id, "Called to confirm the address.")

    with page.expect_download() as download_info:
        page.click("#appointment-table a:has-text('Download these as CSV')")
    download = download_info.value
    assert download.suggested_filename == "appointments.csv"
    saved = tmp_path / "appointments.csv"
    download.save_as(saved)
    records = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert {r["id"] for r in records} == wanted_ids and len(records) == 2
    assert {r["status"] for r in records} == {"pending"}
    assert {r["provider"] for r in records} == {"Dr Amelia Hart"}
    assert sorted(r["patient"] for r in records) == ["Jo Smith 0", "Jo Smith 1"]
    staying.check(pushed_urls=True)
    screenshot(page, "journey-admin-filtered")
    page.context.close()


def test_two_patients_race_for_one_slot_and_the_loser_gets_fresh_times(live, browser):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    provider_id, service_id = provider.id, provider.services[0].id
    ana, ben = make_user(Role.PATIENT, full_name="Ana Fast"), make_user(Role.PATIENT, full_name="Ben Slow")
    start = wall(3, 10)
    pages = []
    for patient in (ana, ben):
        page = live.log_in(browser, patient, "/book/")
        page.goto(f"/book/{provider_id}/slots?service={service_id}&date={start[:10]}")
        page.click(f"#slots [data-slot-start='{start}']")
        page.wait_for_selector("#confirm-title")
        assert start[11:] in page.inner_text("#slots")
        pages.append(page)

    # Both press at once: the two requests leave before either answer arrives.
    for page in pages:
        page.evaluate("document.querySelector('#slots form').requestSubmit()")
    for page in pages:
        page.wait_for_selector("#booked-title, #slots .form-errors")

    winners = [p for p in pages if p.locator("#booked-title").count()]
    losers = [p for p in pages if p.locator("#slots .form-errors").count()]
    assert len(winners) == 1 and len(losers) == 1
    winner, loser = winners[0], losers[0]
    assert winner.inner_text("#booked-title") == "Request sent"
    message = loser.inner_text("#slots .form-errors")
    assert message == "That time was just taken; please pick another."
    assert "409" not in loser.inner_text("main") and "Conflict" not in loser.inner_text("main")
    loser.wait_for_selector("#slots [data-slot-start]")  # a fresh list of the same day...
    assert loser.locator(f"#slots [data-slot-start='{start}']").count() == 0  # ...without the taken slot
    assert loser.locator(f"#slots [data-slot-start='{wall(3, 10, 30)}']").count() == 1
    assert start[:10] in loser.get_attribute("#slots [data-slot-start]", "data-slot-start")
    assert message in loser.inner_text("#messages")  # the toast says it too

    db.session.rollback()
    booked = db.session.scalars(sa.select(Appointment)).all()
    assert len(booked) == 1 and booked[0].status == "pending"
    assert booked[0].patient_id == (ana.id if winner is pages[0] else ben.id)
    screenshot(loser, "journey-race-loser")
    for page in pages:
        page.context.close()
