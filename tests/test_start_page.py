"""The public start page, and the links that lead back to it from error pages and the header."""
from __future__ import annotations

import re

import pytest

from booking.domain.roles import Role
from tests.factories import make_user

START_LINK = re.compile(r'<a href="([^"]+)">Go to the start page</a>')


def test_the_start_page_works_for_a_visitor_without_an_account(client):  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'data-page="home"' in body
    assert 'href="/auth/login"' in body and 'href="/auth/register"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_a_404_leads_a_visitor_to_the_public_start_page(client, htmx):  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page", headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 404
    link = START_LINK.search(response.get_data(as_text=True))
    assert link is not None
    assert link.group(1) == "/"
    followed = client.get(link.group(1))
    assert followed.status_code == 200  # not a redirect to the login page
    assert 'data-page="home"' in followed.get_data(as_text=True)


def test_the_header_brand_leads_a_visitor_to_the_start_page(client):  # type: ignore[no-untyped-def]
    body = client.get("/auth/login").get_data(as_text=True)
    assert '<a class="brand" href="/">' in body


@pytest.mark.parametrize("role, home", [(Role.PATIENT, "/book/"), (Role.STAFF, "/staff/requests"),
                                        (Role.ADMIN, "/admin/appointments")])
def test_a_404_leads_someone_logged_in_to_their_own_home(client, auth, role, home):  # type: ignore[no-untyped-def]
    auth.login(make_user(role).email)
    link = START_LINK.search(client.get("/no-such-page").get_data(as_text=True))
    assert link is not None and link.group(1) == home
    start = client.get("/").get_data(as_text=True)
    assert f'href="{home}"' in start


def test_the_start_page_passes_axe_in_a_browser(live, browser):  # type: ignore[no-untyped-def]
    from tests.live import axe_violations, screenshot

    page = live.page(browser)
    page.goto("/no-such-page")
    page.click("text=Go to the start page")
    page.wait_for_url(f"{live.url}/")
    assert page.locator("[data-page=home]").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "start-page-visitor")
    page.context.close()
