"""The role homes: simple for now, but each shows the right rows to the right person."""
from __future__ import annotations

import re

from booking.domain.roles import Role
from booking.domain.status import Status
from tests.factories import make_appointment, make_provider, make_user


def appointment_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-appointment-id="(\d+)"', html)}


def test_staff_see_only_their_providers_pending_requests_and_the_badge(app, client, auth):  # type: ignore[no-untyped-def]
    mine = make_provider(user=make_user(Role.STAFF))
    other = make_provider()
    waiting = [make_appointment(provider=mine) for _ in range(3)]
    make_appointment(provider=mine, status=Status.APPROVED)
    make_appointment(provider=other)
    waiting_ids = {a.id for a in waiting}

    auth.login(mine.user.email)
    html = client.get("/staff/requests").get_data(as_text=True)

    assert appointment_ids(html) == waiting_ids
    assert re.search(r'id="pending-count"[^>]*>3<', html)


def test_admins_see_every_pending_request(app, client, auth):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    pending = {make_appointment().id for _ in range(2)}
    make_appointment(status=Status.CANCELLED)

    auth.login(admin.email)
    html = client.get("/staff/requests").get_data(as_text=True)

    assert appointment_ids(html) == pending
    assert re.search(r'id="pending-count"[^>]*>2<', html)


def test_patients_have_no_pending_badge(app, client, auth):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    assert 'id="pending-count"' not in client.get("/book/").get_data(as_text=True)


def test_a_patient_sees_their_own_appointments_only(app, client, auth):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    own = {make_appointment(patient=patient).id for _ in range(2)}
    make_appointment()

    auth.login(patient.email)
    html = client.get("/me/appointments").get_data(as_text=True)

    assert appointment_ids(html) == own


def test_times_are_shown_in_the_providers_zone_with_its_label(app, client, auth):  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    patient = make_user(Role.PATIENT)
    provider = make_provider(timezone_name="America/New_York")
    make_appointment(patient=patient, provider=provider, start_at=datetime(2031, 7, 1, 13, 0, tzinfo=timezone.utc))

    auth.login(patient.email)
    html = client.get("/me/appointments").get_data(as_text=True)

    assert "Tue 01 Jul 2031, 09:00 EDT" in html


def test_the_admin_table_filters_by_status_and_pages(app, client, auth):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    provider = make_provider()
    pending = {make_appointment(provider=provider, patient=make_user(Role.PATIENT)).id for _ in range(22)}
    cancelled = make_appointment(provider=provider, status=Status.CANCELLED).id

    auth.login(admin.email)
    first = client.get("/admin/appointments?status=pending").get_data(as_text=True)
    second = client.get("/admin/appointments?status=pending&page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'href="/admin/appointments?page=2&amp;status=pending"' in first
    assert appointment_ids(first) | appointment_ids(second) == pending
    assert cancelled not in appointment_ids(first) | appointment_ids(second)
    # an unknown status is ignored, not an error: every appointment is listed
    unknown = [client.get(f"/admin/appointments?status=bogus&page={n}") for n in (1, 2)]
    assert all(r.status_code == 200 for r in unknown)
    assert set().union(*(appointment_ids(r.get_data(as_text=True)) for r in unknown)) == pending | {cancelled}
