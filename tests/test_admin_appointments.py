"""The admin appointments table: filters, sorting, the CSV of exactly those rows, details and notes."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment
from tests.booking_helpers import ZONE, everyday_provider, wall
from tests.conftest import HTMX
from tests.factories import make_appointment, make_user


def at(start: str) -> datetime:
    return datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE))


def ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<tr data-appointment-id="(\d+)"', html)}


@pytest.fixture
def clinic(app, auth):  # type: ignore[no-untyped-def]
    auth.login(make_user(Role.ADMIN).email)
    first, second = everyday_provider(), everyday_provider()
    ann = make_user(Role.PATIENT, full_name="Ann Archer", email="ann@example.com")
    bob = make_user(Role.PATIENT, full_name="Bob Baker", email="bob@example.com")
    bob.phone = "+44 7700 900555"
    db.session.commit()
    rows = {
        "ann_pending": make_appointment(patient=ann, provider=first, start_at=at(wall(2, 10)), status=Status.PENDING),
        "bob_approved": make_appointment(patient=bob, provider=first, start_at=at(wall(3, 10)), status=Status.APPROVED),
        "ann_other": make_appointment(patient=ann, provider=second, start_at=at(wall(5, 10)), status=Status.APPROVED),
    }
    return first, second, {k: v.id for k, v in rows.items()}


def test_filters_narrow_the_table(client, clinic):  # type: ignore[no-untyped-def]
    first, second, rows = clinic
    get = lambda query: ids(client.get(f"/admin/appointments?{query}").get_data(as_text=True))  # noqa: E731
    assert get("") == set(rows.values())
    assert get("status=approved") == {rows["bob_approved"], rows["ann_other"]}
    assert get(f"provider={second.id}") == {rows["ann_other"]}
    assert get(f"specialty={first.specialty_id}") == {rows["ann_pending"], rows["bob_approved"]}
    assert get(f"date_from={wall(3, 0)[:10]}&date_to={wall(4, 0)[:10]}") == {rows["bob_approved"]}
    assert get("q=archer") == {rows["ann_pending"], rows["ann_other"]}
    assert get("q=BOB@EXAMPLE") == {rows["bob_approved"]}
    assert get("q=900555") == {rows["bob_approved"]}
    assert get("q=%25") == set()


def test_sorting_by_a_column_both_ways(client, clinic):  # type: ignore[no-untyped-def]
    _, _, rows = clinic
    ascending = client.get("/admin/appointments?sort=patient").get_data(as_text=True)
    descending = client.get("/admin/appointments?sort=-patient").get_data(as_text=True)
    order = lambda html: [int(i) for i in re.findall(r'<tr data-appointment-id="(\d+)"', html)]  # noqa: E731
    assert order(ascending)[-1] == rows["bob_approved"] and order(descending)[0] == rows["bob_approved"]
    assert 'aria-sort="ascending"' in ascending and 'aria-sort="descending"' in descending
    assert "sort=-patient" in ascending  # the header now offers the other direction


def test_live_filtering_swaps_only_the_table(client, clinic):  # type: ignore[no-untyped-def]
    response = client.get("/admin/appointments?status=pending", headers={**HTMX, "HX-Target": "appointment-table"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="appointment-table"' in body
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query", ["date_from=2026-13-01", "provider=x", "date_to=0000-01-01"])
def test_bad_filters_are_400(client, clinic, query):  # type: ignore[no-untyped-def]
    assert client.get(f"/admin/appointments?{query}").status_code == 400


def test_the_csv_has_exactly_the_filtered_rows_quoted_right(client, clinic):  # type: ignore[no-untyped-def]
    _, _, rows = clinic
    tricky = db.session.get(Appointment, rows["bob_approved"])
    tricky.reason = '=HYPERLINK("x"), with a comma\nand "quotes", Zoë'
    db.session.commit()
    response = client.get("/admin/appointments.csv?status=approved")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert records[0][0] == "id"
    assert {int(r[0]) for r in records[1:]} == {rows["bob_approved"], rows["ann_other"]}
    reason = next(r for r in records[1:] if int(r[0]) == rows["bob_approved"])[10]
    assert reason == "'" + '=HYPERLINK("x"), with a comma\nand "quotes", Zoë'


def test_a_row_opens_with_history_and_takes_a_note(client, clinic):  # type: ignore[no-untyped-def]
    _, _, rows = clinic
    appointment_id = rows["ann_pending"]
    detail = client.get(f"/admin/appointments/{appointment_id}", headers=HTMX).get_data(as_text=True)
    assert detail.startswith('<tr class="detail-row"') and "History" in detail and "No notes yet." in detail

    note = client.post(f"/admin/appointments/{appointment_id}/notes",
                       data={"body": "<script>alert(1)</script> Called the patient", "visible": "yes"}, headers=HTMX)
    body = note.get_data(as_text=True)
    assert note.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Called the patient" in body and "<script>alert" not in body
    assert "visible to the patient" in body
    assert "Note added." in note.headers["HX-Trigger"]

    empty = client.post(f"/admin/appointments/{appointment_id}/notes", data={"body": "  "}, headers=HTMX)
    assert empty.status_code == 422 and "Write the note first." in empty.get_data(as_text=True)
    page = client.get(f"/admin/appointments/{appointment_id}").get_data(as_text=True)
    assert page.count('data-note-id="') == 1


def test_a_decision_from_the_table_asks_the_table_to_redraw(client, clinic):  # type: ignore[no-untyped-def]
    _, _, rows = clinic
    response = client.post(f"/staff/appointments/{rows['ann_pending']}/approve", headers=HTMX)
    assert response.status_code == 200
    assert "appointment-changed" in json.loads(response.headers["HX-Trigger"])


def test_the_patient_sees_only_notes_marked_for_them(app, client, clinic):  # type: ignore[no-untyped-def]
    _, _, rows = clinic
    appointment_id = rows["ann_pending"]
    client.post(f"/admin/appointments/{appointment_id}/notes", data={"body": "Bring your glasses", "visible": "yes"})
    client.post(f"/admin/appointments/{appointment_id}/notes", data={"body": "Private: check allergy file"})
    patient = app.test_client()
    patient.post("/auth/login", data={"email": "ann@example.com", "password": "correct horse battery"})
    page = patient.get(f"/me/appointments/{appointment_id}").get_data(as_text=True)
    assert "Bring your glasses" in page and "check allergy file" not in page
