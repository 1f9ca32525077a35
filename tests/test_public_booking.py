"""The public face: anyone sees the directory, calendars and free times without an account, and is asked
for one at the confirm step, which the login and registration forms come back to with the chosen time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User
from tests.booking_helpers import ZONE, booking_form, everyday_provider, local_day, wall
from tests.factories import DEFAULT_PASSWORD, make_appointment, make_user
from tests.mailbox import link_in

SECRET_NAME = "Zebedee Quartermaine"
SECRET_REASON = "Recurring migraine after the accident"


@pytest.fixture
def busy(app):  # type: ignore[no-untyped-def]
    """A provider with someone else's appointment at 10:00 in three days, its patient and reason private."""
    provider = everyday_provider()
    patient = make_user(Role.PATIENT, full_name=SECRET_NAME)
    start = datetime.fromisoformat(wall(3, 10)).replace(tzinfo=ZoneInfo(ZONE))
    taken = make_appointment(patient=patient, provider=provider, start_at=start, status=Status.APPROVED)
    taken.reason = SECRET_REASON
    db.session.commit()
    return provider


def public_pages(provider) -> list[str]:  # type: ignore[no-untyped-def]
    service = provider.services[0].id
    day = local_day(3)
    return ["/book/", f"/book/?q={provider.user.full_name.split()[0]}", f"/book/{provider.id}?service={service}",
            f"/book/{provider.id}?service={service}&month={day:%Y-%m}&date={day.isoformat()}",
            f"/book/{provider.id}/slots?service={service}&date={day.isoformat()}"]


def test_a_visitor_sees_the_directory_calendar_and_free_times_without_an_account(client, busy):  # type: ignore[no-untyped-def]
    for path in public_pages(busy):
        response = client.get(path)
        assert response.status_code == 200, path
    slots = client.get(public_pages(busy)[-1]).get_data(as_text=True)
    free = re.findall(r'data-slot-start="([^"]+)"', slots)
    assert wall(3, 9) in free and wall(3, 10, 30) in free
    assert wall(3, 10) not in free, "a taken time is not offered"


@pytest.mark.parametrize("htmx", [False, True])
def test_no_public_page_tells_a_visitor_who_booked_what(client, busy, htmx):  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true"} if htmx else {}
    for path in public_pages(busy):
        body = client.get(path, headers=headers).get_data(as_text=True)
        for secret in (SECRET_NAME, "Zebedee", "Quartermaine", SECRET_REASON, "migraine", "approved", "pending"):
            assert secret.lower() not in body.lower(), f"{path} shows {secret!r}"


def test_a_visitor_gets_no_cookie_and_an_etag_that_answers_304_until_the_times_change(client, busy):  # type: ignore[no-untyped-def]
    path = public_pages(busy)[-1]
    first = client.get(path)
    assert "Set-Cookie" not in first.headers, "browsing sets no cookie"
    assert client.get_cookie("session") is None
    assert "X-CSRFToken" not in first.get_data(as_text=True), "nothing on a visitor's page posts"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    make_appointment(provider=busy, start_at=datetime.fromisoformat(wall(3, 9)).replace(tzinfo=ZoneInfo(ZONE)))
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert wall(3, 9) not in changed.get_data(as_text=True), "the time booked meanwhile is gone"


def test_a_public_page_and_its_fragment_have_their_own_etag(client, busy):  # type: ignore[no-untyped-def]
    for path in public_pages(busy):
        page, fragment = (client.get(path, headers=headers) for headers in ({}, {"HX-Request": "true"}))
        assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"], path
        assert page.headers["ETag"] != fragment.headers["ETag"], path
        stale = client.get(path, headers={"HX-Request": "true", "If-None-Match": page.headers["ETag"]})
        assert stale.status_code == 200, "the page's tag does not stand for its fragment"


def test_logged_in_people_get_their_pages_uncached(client, auth, busy):  # type: ignore[no-untyped-def]
    for role in (Role.PATIENT, Role.STAFF, Role.ADMIN):
        user = make_user(role)
        auth.login(user.email)
        for path in public_pages(busy):
            response = client.get(path)
            assert response.status_code == 200, (role, path)
            assert "ETag" not in response.headers, (role, path)
        auth.logout()


def confirm_path(provider, start: str) -> str:  # type: ignore[no-untyped-def]
    return f"/book/{provider.id}/confirm?service={provider.services[0].id}&start={start}"


def test_the_confirm_step_asks_a_visitor_to_log_in_or_register_and_both_come_back_to_it(client, busy):  # type: ignore[no-untyped-def]
    page = client.get(confirm_path(busy, wall(3, 11)))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="login-form"' in html and 'id="register-form"' in html
    assert 'name="reason"' not in html, "no booking form before there is an account"
    assert "11:00" in html, "the chosen time stays in view"
    forms = dict(re.findall(r'<form id="(login-form|register-form)" method="post" action="([^"]+)"', html))
    for action in forms.values():
        (back,) = parse_qs(urlsplit(action.replace("&amp;", "&")).query)["next"]
        assert back == confirm_path(busy, wall(3, 11))


def test_a_visitor_logs_in_at_the_confirm_step_and_books_the_time_chosen(client, busy):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    back = confirm_path(busy, wall(3, 11))
    client.get(back)
    logged_in = client.post(f"/auth/login?next={back.replace('&', '%26')}",
                            data={"email": patient.email, "password": DEFAULT_PASSWORD})
    assert logged_in.status_code == 303 and logged_in.headers["Location"] == back
    step = client.get(back).get_data(as_text=True)
    assert 'name="reason"' in step and 'id="login-form"' not in step
    booked = client.post(f"/book/{busy.id}", data=booking_form(busy, wall(3, 11)))
    assert booked.status_code == 303
    db.session.rollback()
    mine = db.session.scalars(sa.select(Appointment).where(Appointment.patient_id == patient.id)).one()
    assert mine.start_at == datetime.fromisoformat(wall(3, 11)).replace(tzinfo=ZoneInfo(ZONE))


def test_a_time_that_went_while_the_visitor_logged_in_is_answered_with_fresh_times(client, busy):  # type: ignore[no-untyped-def]
    patient = make_user(Role.PATIENT)
    back = confirm_path(busy, wall(3, 11))
    client.get(back)
    make_appointment(provider=busy, start_at=datetime.fromisoformat(wall(3, 11)).replace(tzinfo=ZoneInfo(ZONE)))
    client.post(f"/auth/login?next={back.replace('&', '%26')}", data={"email": patient.email, "password": DEFAULT_PASSWORD})
    again = client.get(back)
    assert again.status_code == 409
    free = re.findall(r'data-slot-start="([^"]+)"', again.get_data(as_text=True))
    assert wall(3, 11) not in free and wall(3, 11, 30) in free


def test_registering_at_the_confirm_step_leads_back_to_the_time_through_the_confirmation_link(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    client = app.test_client()
    back = confirm_path(provider, wall(3, 11))
    password = "correct horse battery"
    registered = client.post(f"/auth/register?next={back.replace('&', '%26')}", data={
        "full_name": "New Person", "email": "new@example.com", "password": password, "password_confirm": password})
    assert registered.status_code == 303
    check = urlsplit(registered.headers["Location"])
    assert check.path == "/auth/register/check-email" and parse_qs(check.query)["next"] == [back]
    assert "Back to the time you chose" in client.get(registered.headers["Location"]).get_data(as_text=True)

    link = link_in(box, "new@example.com", "Confirm your e-mail address", "/auth/verify/")
    confirmed = client.get(link)
    login = urlsplit(confirmed.headers["Location"])
    assert (login.path, parse_qs(login.query)["next"]) == ("/auth/login", [back])
    logged_in = client.post(confirmed.headers["Location"], data={"email": "new@example.com", "password": password})
    assert logged_in.headers["Location"] == back
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 11))).status_code == 303


def test_someone_registering_again_with_their_own_address_is_sent_a_login_link_back_to_the_time(mail_app):  # type: ignore[no-untyped-def]
    app, box = mail_app
    provider = everyday_provider()
    owner = make_user(Role.PATIENT, email="owner@example.com")
    client = app.test_client()
    back = confirm_path(provider, wall(3, 11))
    client.post(f"/auth/register?next={back.replace('&', '%26')}", data={
        "full_name": "Owner", "email": owner.email, "password": "another long secret", "password_confirm": "another long secret"})
    link = link_in(box, owner.email, "Someone tried to register with your e-mail address", "/auth/login")
    assert parse_qs(urlsplit(link).query)["next"] == [back]


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_registration_never_carries_a_way_off_the_site(client, app, next_url):  # type: ignore[no-untyped-def]
    registered = client.post("/auth/register", query_string={"next": next_url}, data={
        "full_name": "New Person", "email": "new@example.com", "password": "correct horse battery",
        "password_confirm": "correct horse battery"})
    assert registered.headers["Location"] == "/auth/register/check-email"


def test_staff_and_admins_browse_the_directory_but_do_not_book(client, auth, busy):  # type: ignore[no-untyped-def]
    for role in (Role.STAFF, Role.ADMIN):
        user = make_user(role)
        auth.login(user.email)
        assert client.get("/book/").status_code == 200
        refused = client.get(confirm_path(busy, wall(3, 11)))
        assert refused.status_code == 403 and "cannot book" in refused.get_data(as_text=True)
        assert client.post(f"/book/{busy.id}", data=booking_form(busy, wall(3, 11))).status_code == 403
        auth.logout()


def test_a_visitor_who_posts_a_booking_or_asks_to_move_one_is_sent_to_log_in(client, busy):  # type: ignore[no-untyped-def]
    posted = client.post(f"/book/{busy.id}", data=booking_form(busy, wall(3, 11)))
    assert posted.status_code == 302 and urlsplit(posted.headers["Location"]).path == "/auth/login"
    moved = client.get(f"/book/{busy.id}?reschedule=1")
    assert moved.status_code == 302 and urlsplit(moved.headers["Location"]).path == "/auth/login"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_a_directory_card_offers_the_first_three_free_times_each_opening_the_confirm_step(client, auth, app):  # type: ignore[no-untyped-def]
    """Two clicks from the directory to a sent request: the time on the card, then the confirm button."""
    provider = everyday_provider(min_notice_min=0)
    for days_ahead in (0, 1):  # today and tomorrow fully booked: the first free times are the day after
        for half_hour in range(16):
            start = wall(days_ahead, 9 + half_hour // 2, 30 * (half_hour % 2))
            make_appointment(provider=provider, start_at=datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE)))
    first_three = [wall(2, 9), wall(2, 9, 30), wall(2, 10)]
    html = client.get("/book/").get_data(as_text=True)
    card = html[html.index(f'data-provider-id="{provider.id}"'):]
    assert re.findall(r'data-slot-start="([^"]+)"', card) == first_three
    hrefs = re.findall(r'<a class="button button-small" data-slot-start="[^"]+"\s+href="([^"]+)"', card)
    assert [h.replace("&amp;", "&") for h in hrefs] == [confirm_path(provider, start) for start in first_three]

    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    step = client.get(hrefs[1].replace("&amp;", "&"))  # click 1: the time
    assert step.status_code == 200 and 'name="reason"' in step.get_data(as_text=True)
    assert client.post(f"/book/{provider.id}", data=booking_form(provider, first_three[1])).status_code == 303  # click 2


def test_a_calendar_opens_on_its_first_day_with_free_times_with_those_times_listed(client, app):  # type: ignore[no-untyped-def]
    provider = everyday_provider(min_notice_min=0)
    for days_ahead in (0, 1):
        for half_hour in range(16):
            start = wall(days_ahead, 9 + half_hour // 2, 30 * (half_hour % 2))
            make_appointment(provider=provider, start_at=datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(ZONE)))
    html = client.get(f"/book/{provider.id}?service={provider.services[0].id}").get_data(as_text=True)
    assert re.search(rf'aria-selected="true">\s*<a id="day-{local_day(2).isoformat()}"', html)
    assert len(re.findall(r'aria-selected="true"', html)) == 1
    assert re.findall(r'data-slot-start="([^"]+)"', html)[:2] == [wall(2, 9), wall(2, 9, 30)]
    later = (local_day(2).replace(day=1) + timedelta(days=40)).replace(day=1)
    other_month = client.get(f"/book/{provider.id}?service={provider.services[0].id}&month={later:%Y-%m}")
    assert 'aria-selected="true"' not in other_month.get_data(as_text=True), "a month asked for is shown as it is"
