"""The home page a clinic puts in front of patients, and what search engines read from the public pages:
description, canonical address, schema.org data, robots.txt and the sitemap."""
from __future__ import annotations

import json
import re
from html import unescape
from xml.etree import ElementTree

import pytest

from booking import create_app
from booking.domain.opening_hours import OpeningHoursError, read
from booking.domain.roles import Role
from booking.extensions import db
from tests.booking_helpers import everyday_provider
from tests.factories import make_user


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def test_the_home_page_says_who_the_clinic_is_where_when_and_how_to_reach_it(client, app):  # type: ignore[no-untyped-def]
    app.config.update(CLINIC_NAME="Harbour Health", CLINIC_ADDRESS="4 Quay Road, Bristol", CLINIC_PHONE="+44 117 496 0000",
                      CLINIC_OPENING_HOURS=["Mo-Fr 08:00-18:00", "Sa 09:00-12:30"])
    html = unescape(client.get("/").get_data(as_text=True))
    for text in ("Harbour Health", "4 Quay Road, Bristol", "Monday to Friday: 08:00–18:00", "Saturday: 09:00–12:30",
                 "+44 117 496 0000", 'href="tel:+441174960000"', f'href="mailto:{app.config["CLINIC_EMAIL"]}"',
                 "https://www.openstreetmap.org/search?query=4"):
        assert text in html, text


def test_the_home_page_offers_search_specialties_and_providers_with_times_to_book(client, app):  # type: ignore[no-untyped-def]
    provider = everyday_provider(min_notice_min=0)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<form class="home-search" role="search" method="get" action="/book/">', html)
    assert f'href="/book/?specialty={provider.specialty_id}"' in html and provider.specialty.name in html
    card = html[html.index(f'data-provider-id="{provider.id}"'):]
    times = re.findall(r'data-slot-start="[^"]+"\s+href="([^"]+)"', card)
    assert len(times) == 3 and all(t.startswith(f"/book/{provider.id}/confirm?") for t in times)
    assert client.get(unescape(times[0])).status_code == 200, "a visitor opens the confirm step from the home page"


def test_specialties_without_a_bookable_provider_are_left_off_the_home_page(client, app):  # type: ignore[no-untyped-def]
    away = everyday_provider()
    away.active = False
    db.session.commit()
    assert away.specialty.name not in client.get("/").get_data(as_text=True)


def test_the_home_page_shows_six_providers_and_leads_to_the_rest(client, app):  # type: ignore[no-untyped-def]
    for _ in range(7):
        everyday_provider()
    html = client.get("/").get_data(as_text=True)
    assert len(re.findall(r"data-provider-id=", html)) == 6 and "See all providers" in html


@pytest.mark.parametrize(("role", "link"), [(Role.STAFF, "/staff/requests"), (Role.ADMIN, "/admin/appointments")])
def test_staff_and_admins_go_to_their_own_work_from_the_home_page(client, auth, role, link):  # type: ignore[no-untyped-def]
    auth.login(make_user(role).email)
    assert re.search(rf'<a class="button" href="{link}">Go to your work page</a>', client.get("/").get_data(as_text=True))


def test_the_home_page_is_cacheable_for_a_visitor(client, app):  # type: ignore[no-untyped-def]
    everyday_provider()
    first = client.get("/")
    assert "Set-Cookie" not in first.headers and first.headers["ETag"].startswith('W/"')
    assert client.get("/", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_public_pages_carry_a_description_and_an_absolute_canonical_address(client, app):  # type: ignore[no-untyped-def]
    provider = everyday_provider()
    for path, canonical in [("/", "http://localhost/"), ("/book/?q=x&page=2", "http://localhost/book/"),
                            (f"/book/{provider.id}?service={provider.services[0].id}&month=2031-01",
                             f"http://localhost/book/{provider.id}")]:
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<meta name="description" content="[^"]{40,}">', html), path
        assert f'<link rel="canonical" href="{canonical}">' in html, path


def test_the_clinic_and_each_provider_are_described_as_schema_org_data(client, app):  # type: ignore[no-untyped-def]
    app.config.update(CLINIC_OPENING_HOURS=["Mo-Fr 08:00-18:00"], CLINIC_PHONE="+44 20 7946 0001")
    provider = everyday_provider()
    provider.bio = "Family doctor.</script><script>alert(1)</script>"
    db.session.commit()
    [clinic] = json_ld(client.get("/").get_data(as_text=True))
    assert clinic["@context"] == "https://schema.org" and clinic["@type"] == "MedicalClinic"
    assert (clinic["url"], clinic["openingHours"], clinic["telephone"]) == (
        "http://localhost/", ["Mo-Fr 08:00-18:00"], "+44 20 7946 0001")
    html = client.get(f"/book/{provider.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html, "no text in the data can close its element"
    [person] = json_ld(html)
    assert person["@type"] == "Person" and person["name"] == provider.user.full_name
    assert person["jobTitle"] == provider.specialty.name and person["description"] == provider.bio
    assert person["worksFor"]["@id"] == clinic["@id"] and person["url"] == f"http://localhost/book/{provider.id}"


def test_robots_txt_keeps_accounts_staff_and_admin_pages_out_of_search_engines(client):  # type: ignore[no-untyped-def]
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    rules = response.get_data(as_text=True).splitlines()
    for private in ("/auth/", "/me/", "/account/", "/staff/", "/admin/", "/api/"):
        assert f"Disallow: {private}" in rules
    assert "Disallow: /book/" not in rules and "Disallow: /" not in rules
    assert "Sitemap: http://localhost/sitemap.xml" in rules


def test_the_sitemap_lists_the_public_pages_and_every_bookable_provider(client, app):  # type: ignore[no-untyped-def]
    shown, hidden = everyday_provider(), everyday_provider()
    hidden.active = False
    db.session.commit()
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    addresses = re.findall(r"<loc>([^<]+)</loc>", response.get_data(as_text=True))
    assert addresses == ["http://localhost/", "http://localhost/book/", f"http://localhost/book/{shown.id}"]
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    root = ElementTree.fromstring(response.get_data())  # a real XML parser reads the same addresses
    assert root.tag == f"{namespace}urlset"
    assert [loc.text for loc in root.iter(f"{namespace}loc")] == addresses


@pytest.mark.parametrize(("entries", "words"), [
    (["Mo-Fr 08:00-18:00"], [("Monday to Friday", "08:00–18:00")]),
    (["Mo,We,Fr 09:00-12:00", "Sa-Su 10:00-24:00"], [("Monday, Wednesday, Friday", "09:00–12:00"),
                                                     ("Saturday to Sunday", "10:00–24:00")]),
    (["Tu-Th 07:30-19:45", "Mo 00:00-23:59"], [("Tuesday to Thursday", "07:30–19:45"), ("Monday", "00:00–23:59")]),
    ([], []),
])
def test_opening_hours_in_the_short_form_read_as_words(entries, words):  # type: ignore[no-untyped-def]
    assert [(line.days, line.hours) for line in read(entries)] == words
    assert [line.entry for line in read(entries)] == entries


NOT_LIKE = 'is not like "Mo-Fr 08:00-18:00" (days Mo Tu We Th Fr Sa Su'


@pytest.mark.parametrize(("entries", "message"), [
    ("Mo-Fr 08:00-18:00", "'Mo-Fr 08:00-18:00' must be a list such as [\"Mo-Fr 08:00-18:00\", \"Sa 09:00-13:00\"]."),
    (None, "None must be a list such as"),
    (["Mon-Fri 08:00-18:00"], "'Mon-Fri 08:00-18:00' " + NOT_LIKE), (["Mo-Fr 8:00-18:00"], NOT_LIKE),
    (["Mo-Fr 08:00-24:30"], NOT_LIKE), (["Mo-Fr 08:00-18:00 "], NOT_LIKE), (["Mo-Fr 08:60-18:00"], NOT_LIKE),
    ([7], "7 " + NOT_LIKE), (["Mo-Fr 24:00-24:00"], NOT_LIKE),  # no day opens at 24:00
    (["Mo-Fr 18:00-08:00"], "'Mo-Fr 18:00-08:00' closes before it opens."),
    (["Mo-Fr 08:00-08:00"], "closes before it opens."),
    (["Fr-Mo 08:00-18:00"], "the days 'Fr-Mo' run backwards; write them from the first to the last."),
    (["Mo-Mo 08:00-18:00"], "the days 'Mo-Mo' run backwards"),
])
def test_opening_hours_not_in_the_short_form_are_refused_saying_what_is_wrong(entries, message):  # type: ignore[no-untyped-def]
    with pytest.raises(OpeningHoursError) as refused:
        read(entries)
    assert message in str(refused.value)
    if message.endswith(NOT_LIKE):
        assert str(refused.value).endswith("a range with -, several with commas; then opening and closing time).")


def test_the_app_refuses_to_start_with_opening_hours_it_cannot_show(tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="BOOKING_CLINIC_OPENING_HOURS: 'Mon 9-5' is not like"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "BASE_URL": "http://localhost",
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "CLINIC_OPENING_HOURS": ["Mon 9-5"]})
