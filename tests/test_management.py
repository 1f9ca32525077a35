"""Admins manage accounts, services and specialties."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import Service, Specialty, User
from booking.services import management
from booking.services.errors import Forbidden
from tests.booking_helpers import everyday_provider
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_service, make_user


@pytest.fixture
def admin(app, auth):  # type: ignore[no-untyped-def]
    user = make_user(Role.ADMIN, full_name="Ada Admin")
    auth.login(user.email)
    return user


def reload(model, key):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.get(model, key)


def test_searching_and_creating_staff_accounts(client, admin):  # type: ignore[no-untyped-def]
    make_user(Role.PATIENT, full_name="Zed Zebra", email="zed@example.com")
    found = client.get("/admin/users?q=zebra", headers={**HTMX, "HX-Target": "user-table"}).get_data(as_text=True)
    assert "Zed Zebra" in found and "Ada Admin" not in found and "<html" not in found

    created = client.post("/admin/users", data={"full_name": "Nina Nurse", "email": "nina@clinic.example",
                                                "role": "staff", "password": "a good long password"})
    assert created.status_code == 303
    db.session.rollback()
    nina = db.session.scalar(sa.select(User).where(User.email == "nina@clinic.example"))
    assert nina.role == "staff" and nina.email_verified

    again = client.post("/admin/users", data={"full_name": "Nina", "email": "NINA@clinic.example",
                                              "role": "staff", "password": "a good long password"})
    assert again.status_code == 422 and "already exists" in again.get_data(as_text=True)
    patient = client.post("/admin/users", data={"full_name": "P", "email": "p@clinic.example", "role": "patient",
                                                "password": "a good long password"})
    assert patient.status_code == 422


def test_switching_an_account_off_logs_it_out_and_back_on(app, client, admin):  # type: ignore[no-untyped-def]
    staff = make_user(Role.STAFF)
    theirs = app.test_client()
    theirs.post("/auth/login", data={"email": staff.email, "password": DEFAULT_PASSWORD})
    assert theirs.get("/staff/requests").status_code == 200

    row = client.post(f"/admin/users/{staff.id}/deactivate", headers=HTMX)
    assert row.status_code == 200 and "Switched off" in row.get_data(as_text=True)
    assert theirs.get("/staff/requests").status_code == 302
    assert theirs.post("/auth/login", data={"email": staff.email, "password": DEFAULT_PASSWORD}).status_code == 422

    assert client.post(f"/admin/users/{staff.id}/activate").status_code == 303
    assert reload(User, staff.id).active


def test_nobody_switches_themselves_off_nor_the_last_admin(app, client, admin):  # type: ignore[no-untyped-def]
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 409 and "your own account" in response.get_data(as_text=True)
    assert reload(User, admin.id).active
    staff = make_user(Role.STAFF)
    with pytest.raises(Forbidden):  # the service checks who acts, whatever the route did
        management.set_active(staff.id, admin.id, False)
    assert reload(User, admin.id).active


def test_services_are_added_and_edited_inline(client, admin):  # type: ignore[no-untyped-def]
    added = client.post("/admin/services", data={"name": "Eye test", "duration_min": "20", "price": "35.50"})
    assert added.status_code == 303
    db.session.rollback()
    eye = db.session.scalar(sa.select(Service).where(Service.name == "Eye test"))
    assert (eye.duration_min, eye.price_cents, eye.auto_approve) == (20, 3550, False)

    editor = client.get(f"/admin/services/{eye.id}", headers=HTMX).get_data(as_text=True)
    assert 'class="editing"' in editor and "<html" not in editor
    saved = client.post(f"/admin/services/{eye.id}", headers=HTMX, data={
        "name": "Eye test", "duration_min": "25", "price": "40", "auto_approve": "yes", "active": "yes"})
    assert saved.status_code == 200 and "25 min" in saved.get_data(as_text=True)
    assert reload(Service, eye.id).auto_approve


def test_a_service_may_last_a_whole_day(client, admin):  # type: ignore[no-untyped-def]
    """For a block of 00:00-24:00 (round-the-clock monitoring, a day's hire)."""
    added = client.post("/admin/services", data={"name": "Monitoring", "duration_min": "1440", "price": "0"})
    assert added.status_code == 303
    db.session.rollback()
    assert db.session.scalar(sa.select(Service.duration_min).where(Service.name == "Monitoring")) == 1440


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "duration_min": "20", "price": "1"}, "name of up to 120"),
        ({"name": "X", "duration_min": "0", "price": "1"}, "between 5 and 1440"),
        ({"name": "X", "duration_min": "1441", "price": "1"}, "between 5 and 1440"),
        ({"name": "X", "duration_min": "abc", "price": "1"}, "between 5 and 1440"),
        ({"name": "X", "duration_min": "20", "price": "-3"}, "like 45 or 45.50"),
        ({"name": "X", "duration_min": "20", "price": "1e9"}, "like 45 or 45.50"),
    ],
)
def test_bad_services_are_refused(client, admin, form, message):  # type: ignore[no-untyped-def]
    response = client.post("/admin/services", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Service.id))) == 0


def test_a_duplicate_service_name_is_refused_inline(client, admin):  # type: ignore[no-untyped-def]
    make_service(name="Taken")
    other = make_service(name="Other")
    response = client.post(f"/admin/services/{other.id}", headers=HTMX,
                           data={"name": "Taken", "duration_min": "30", "price": "1"})
    assert response.status_code == 422 and "exists already" in response.get_data(as_text=True)
    assert reload(Service, other.id).name == "Other"


def test_a_switched_off_service_cannot_be_booked(app, client, admin):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    service = provider.services[0]
    client.post(f"/admin/services/{service.id}", data={
        "name": service.name, "duration_min": "30", "price": "50", "active": "no"})
    patient = app.test_client()
    patient.post("/auth/login", data={"email": make_user(Role.PATIENT).email, "password": DEFAULT_PASSWORD})
    assert patient.get(f"/book/{provider.id}?service={service.id}").status_code == 404


def test_specialties_are_added_and_renamed(client, admin):  # type: ignore[no-untyped-def]
    assert client.post("/admin/specialties", data={"name": "Cardiology"}).status_code == 303
    db.session.rollback()
    cardio = db.session.scalar(sa.select(Specialty).where(Specialty.name == "Cardiology"))
    assert client.post("/admin/specialties", data={"name": "Cardiology"}).status_code == 422
    assert client.post(f"/admin/specialties/{cardio.id}", data={"name": "Heart"}).status_code == 303
    assert reload(Specialty, cardio.id).name == "Heart"
    assert client.post(f"/admin/specialties/{cardio.id}", data={"name": ""}).status_code == 422


def provider_form(account, service_ids, **overrides):  # type: ignore[no-untyped-def]
    data = {"user_id": str(account), "timezone": "Europe/Paris", "buffer_before_min": "5", "buffer_after_min": "10",
            "slot_step_min": "", "min_notice_min": "60", "horizon_days": "30", "license_number": "RPPS-1",
            "years_experience": "12", "fee": "55.00", "bio": "Eyes.", "active": "yes"}
    data.update(overrides)
    return [*data.items(), *(("service_ids", str(i)) for i in service_ids)]


def test_a_provider_is_created_and_edited_with_every_setting(client, admin):  # type: ignore[no-untyped-def]
    from werkzeug.datastructures import MultiDict

    from booking.models import Provider

    staff = make_user(Role.STAFF, full_name="Dr Iris Optic")
    eye, lens = make_service(name="Eye exam"), make_service(name="Lens fitting")
    assert client.get("/admin/providers/new").status_code == 200
    created = client.post("/admin/providers/new", data=MultiDict(provider_form(staff.id, [eye.id, lens.id])))
    assert created.status_code == 303
    db.session.rollback()
    provider = db.session.scalar(sa.select(Provider).where(Provider.user_id == staff.id))
    assert (provider.timezone, provider.buffer_after_min, provider.fee_cents, provider.horizon_days) == (
        "Europe/Paris", 10, 5500, 30)
    assert {s.name for s in provider.services} == {"Eye exam", "Lens fitting"}

    edited = client.post(f"/admin/providers/{provider.id}", data=MultiDict(
        provider_form(staff.id, [eye.id], slot_step_min="15", active="no")))
    assert edited.status_code == 303
    provider = reload(Provider, provider.id)
    assert (provider.slot_step_min, provider.active, [s.name for s in provider.services]) == (15, False, ["Eye exam"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"buffer_after_min": "999"}, "between 0 and 240"),
        ({"horizon_days": "0"}, "between 1 and 730"),
        ({"slot_step_min": "2"}, "slot step"),
        ({"fee": "free"}, "like 45 or 45.50"),
        ({"years_experience": "-1"}, "whole number"),
        ({"user_id": "0"}, "staff account"),  # nobody: the form's own user is replaced
        ({"license_number": "x" * 65}, "64 characters"),  # longer than its column
    ],
)
def test_bad_provider_settings_are_refused(client, admin, overrides, message):  # type: ignore[no-untyped-def]
    from werkzeug.datastructures import MultiDict

    staff = make_user(Role.STAFF)
    response = client.post("/admin/providers/new", data=MultiDict(provider_form(staff.id, [], **overrides)))
    assert response.status_code == 422 and message in response.get_data(as_text=True)


@pytest.mark.parametrize("service_id", ["²", "9" * 5_000, "9" * 12])
def test_a_service_id_that_is_no_id_is_left_out(client, admin, service_id):  # type: ignore[no-untyped-def]
    from werkzeug.datastructures import MultiDict

    from booking.models import Provider

    staff = make_user(Role.STAFF)
    eye = make_service(name="Eye exam")
    response = client.post("/admin/providers/new", data=MultiDict(provider_form(staff.id, [eye.id, service_id])))
    assert response.status_code == 303
    db.session.rollback()
    provider = db.session.scalar(sa.select(Provider).where(Provider.user_id == staff.id))
    assert [s.name for s in provider.services] == ["Eye exam"]


def test_a_name_longer_than_its_column_is_refused(client, admin):  # type: ignore[no-untyped-def]
    response = client.post("/admin/users", data={"full_name": "N" * 121, "email": "long@clinic.example",
                                                 "role": "staff", "password": "a good long password"})
    assert response.status_code == 422 and "120 characters" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "long@clinic.example")) is None


def test_one_staff_account_works_as_one_provider(client, admin):  # type: ignore[no-untyped-def]
    from werkzeug.datastructures import MultiDict

    taken = everyday_provider()
    response = client.post("/admin/providers/new", data=MultiDict(provider_form(taken.user_id, [])))
    assert response.status_code == 422 and "already works as a provider" in response.get_data(as_text=True)
