"""Links we send lead to the configured public address (BASE_URL), never to the Host a request names;
a Host that is not trusted is answered 400 before any view runs; a forwarded host counts only when the
proxy is said to set it. An attacker asking for a reset with `Host: evil.example` must never receive
the victim's link."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

from booking import create_app
from booking.config import public_base_url, trusted_hosts
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import OutboxMessage
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.mailbox import arrived, bodies
from tests.suite_log import remember_secret

PUBLIC = "https://booking.clinic.example"
EVIL = "evil.example"
LINK = re.compile(r"https?://[^\s\"'<>]+")


def outbox() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def links_in(text: str) -> list[str]:
    found = LINK.findall(text)
    for link in found:
        if re.search(r"/(auth/reset|auth/verify|calendar)/.", link):
            remember_secret(link.rsplit("/", 1)[-1])  # reset and confirmation tokens: no log may show them
    return found


def assert_links_are_public(messages: list[OutboxMessage], base: str = PUBLIC) -> None:
    assert messages, "the flow should have written mail"
    for message in messages:
        everything = "\n".join(filter(None, [message.text_body, message.html_body, message.ics]))
        assert EVIL not in everything
        found = links_in(everything)
        assert found, f"{message.subject!r} carries no link"
        assert all(link.startswith(base + "/") for link in found), (message.subject, found)


def ask_for_reset(client, email: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/reset", data={"email": email}, headers=headers)


# --- a forged Host ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:80", "localhost.evil.example", "evil.example@localhost", ""])
def test_a_reset_asked_for_with_a_forged_host_is_refused_and_mails_nothing(mail_app, host):
    app, box = mail_app
    user = make_user(Role.PATIENT, email="victim@example.com")

    response = ask_for_reset(app.test_client(), user.email, Host=host)

    assert response.status_code == 400
    assert "does not answer to that address" in response.get_data(as_text=True)
    assert "<html" in response.get_data(as_text=True), "a whole page, with working links"
    assert outbox() == []
    assert box.to(user.email) == []


def test_a_forged_host_gets_a_fragment_with_a_toast_for_htmx_and_json_for_json(app):
    client = app.test_client()
    fragment = client.post("/auth/reset", data={"email": "a@example.com"}, headers={**HTMX, "Host": EVIL})
    assert fragment.status_code == 400
    assert "<html" not in fragment.get_data(as_text=True)
    assert "does not answer to that address" in fragment.headers["HX-Trigger"]
    as_json = client.get("/healthz", headers={"Host": EVIL, "Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["error"] == "Bad request"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/register", "/book/", "/account/", "/nowhere",
                                  "/auth/reset/not-a-token", "/healthz"])
def test_every_page_refuses_a_forged_host_cleanly(app, caplog, path):
    for method in ("GET", "POST"):
        response = app.test_client().open(path, method=method, headers={"Host": EVIL})
        assert response.status_code == 400, (method, path)
        assert EVIL not in response.get_data(as_text=True)
    assert "request for a host that is not trusted" in caplog.text


def test_a_registration_with_a_forged_host_writes_nothing(app):
    from booking.models import User

    response = app.test_client().post("/auth/register", headers={"Host": EVIL}, data={
        "full_name": "Eve", "email": "eve@example.com", "password": "correct horse battery",
        "password_confirm": "correct horse battery"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    assert outbox() == []


def test_the_hosts_listed_in_trusted_hosts_are_answered(make_app):
    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS="localhost, .clinic.example")
    assert app.config["TRUSTED_HOSTS"] == ["booking.clinic.example", "localhost", ".clinic.example"]
    client = app.test_client()
    for host in ("booking.clinic.example", "localhost", "www.clinic.example", "booking.clinic.example:8443"):
        assert client.get("/auth/login", headers={"Host": host}).status_code == 200, host
    assert client.get("/auth/login", headers={"Host": "clinic.example.evil.example"}).status_code == 400


# --- links come from BASE_URL --------------------------------------------------------------------


def test_links_in_every_account_mail_come_from_the_base_url_not_the_request(make_app, smtp):
    """The request arrives on a trusted host that is not BASE_URL's: every link still names BASE_URL."""
    box, port = smtp
    app = make_app(BASE_URL=PUBLIC + "/", TRUSTED_HOSTS=["localhost"], MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                   MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        owner = make_user(Role.PATIENT, email="owner@example.com")
        client = app.test_client()
        form = {"full_name": "New Person", "password": "correct horse battery",
                "password_confirm": "correct horse battery"}
        assert client.post("/auth/register", data={**form, "email": "new@example.com"}).status_code == 303
        assert client.post("/auth/register", data={**form, "email": owner.email}).status_code == 303
        assert ask_for_reset(client, owner.email).status_code == 303
        [reset] = [m for m in outbox() if m.subject == "Reset your password"]
        path = re.search(r"/auth/reset/\S+", reset.text_body)[0]
        remember_secret(path.rsplit("/", 1)[-1])
        new = "a brand new passphrase"
        assert client.post(path, data={"password": new, "password_confirm": new}).status_code == 303

        messages = outbox()
        assert {m.subject for m in messages} == {
            "Confirm your e-mail address", "Someone tried to register with your e-mail address",
            "Reset your password", "Your password was changed"}
        assert_links_are_public(messages)
        received = arrived(box, owner.email, "Your password was changed")
        assert received and all(link.startswith(PUBLIC + "/")
                                for link in links_in(bodies(received[0])["text/plain"]))


@pytest.mark.parametrize("proxies, forwarded_host, status", [
    (0, False, 303),  # no proxy trusted: X-Forwarded-Host is a header like any other
    (1, False, 303),  # the proxy is trusted for the address and scheme, not for the host
    (1, True, 400),  # the proxy's host is believed, and it is not a trusted host
], ids=["no-proxy", "proxy-without-host", "proxy-with-host"])
def test_x_forwarded_host_never_reaches_a_mail(make_app, smtp, proxies, forwarded_host, status):
    box, port = smtp
    app = make_app(TRUSTED_PROXIES=proxies, TRUST_FORWARDED_HOST=forwarded_host, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        user = make_user(Role.PATIENT, email="victim@example.com")
        response = ask_for_reset(app.test_client(), user.email, **{"X-Forwarded-Host": EVIL,
                                                                   "X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == status
        if status == 400:
            assert outbox() == [] and box.to(user.email) == []
            return
        assert_links_are_public(outbox(), "http://localhost")
        [mail] = arrived(box, user.email, "Reset your password")
        assert EVIL not in mail.as_string()
        assert links_in(bodies(mail)["text/plain"])[0].startswith("http://localhost/auth/reset/")


def test_a_forwarded_host_that_is_trusted_is_served_but_links_keep_the_base_url(make_app):
    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS=["localhost", "internal.clinic.example"], TRUSTED_PROXIES=1,
                   TRUST_FORWARDED_HOST=True)
    with app.app_context():
        user = make_user(Role.PATIENT, email="victim@example.com")
        response = ask_for_reset(app.test_client(), user.email, **{"X-Forwarded-Host": "internal.clinic.example"})
        assert response.status_code == 303
        assert_links_are_public(outbox())


def test_appointment_mails_calendar_files_and_feeds_never_carry_a_forwarded_host(make_app):
    """Booked, approved, moved and cancelled with X-Forwarded-Host: evil.example behind a trusted proxy:
    nothing written for anyone (bodies, .ics files, the feeds) names that host, and any link names BASE_URL."""
    from tests.booking_helpers import booking_form, everyday_provider, wall

    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS=["localhost"], TRUSTED_PROXIES=1)
    forged = {"X-Forwarded-Host": EVIL, "X-Forwarded-For": "203.0.113.7"}
    with app.app_context():
        provider = everyday_provider()
        patient = make_user(Role.PATIENT)
        visitor, staff = app.test_client(), app.test_client()
        visitor.post("/auth/login", data={"email": patient.email, "password": DEFAULT_PASSWORD}, headers=forged)
        staff.post("/auth/login", data={"email": provider.user.email, "password": DEFAULT_PASSWORD}, headers=forged)
        assert visitor.post(f"/book/{provider.id}", data=booking_form(provider, wall(3, 10)),
                            headers=forged).status_code == 303
        [booked] = [m.appointment_id for m in outbox() if m.appointment_id][:1]
        assert staff.post(f"/staff/appointments/{booked}/approve", headers=forged).status_code in (200, 303)
        assert visitor.post(f"/me/appointments/{booked}/cancel", data={"reason": "Away"},
                            headers=forged).status_code in (200, 303)
        messages = [m for m in outbox() if m.appointment_id]
        assert len(messages) >= 3 and any(m.ics for m in messages)
        for message in messages:
            everything = "\n".join(filter(None, [message.text_body, message.html_body, message.ics]))
            assert EVIL not in everything, message.subject
            assert all(link.startswith(PUBLIC + "/") for link in links_in(everything)), message.subject
        for client in (visitor, staff):
            page = client.get("/account/", headers=forged).get_data(as_text=True)
            address = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)[1]
            remember_secret(address.rsplit("/", 1)[-1].removesuffix(".ics"))
            feed = client.get(address.removeprefix(PUBLIC), headers=forged).get_data(as_text=True)
            assert "BEGIN:VCALENDAR" in feed and EVIL not in feed
            assert all(link.startswith(PUBLIC + "/") for link in links_in(feed))


def test_the_calendar_feed_address_on_the_account_page_comes_from_the_base_url(make_app):
    app = make_app(BASE_URL=PUBLIC, TRUSTED_HOSTS=["localhost"])
    with app.app_context():
        user = make_user(Role.PATIENT)
        client = app.test_client()
        client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
        page = client.get("/account/", headers={"X-Forwarded-Host": EVIL}).get_data(as_text=True)
        address = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)[1]
        remember_secret(address.rsplit("/", 1)[-1].removesuffix(".ics"))
        assert address.startswith(PUBLIC + "/calendar/") and address.endswith(".ics")
        assert f'href="webcal://booking.clinic.example/calendar/' in page
        assert EVIL not in page
        feed = client.get(address.removeprefix(PUBLIC), headers={"X-Forwarded-Host": EVIL})
        assert feed.status_code == 200 and EVIL not in feed.get_data(as_text=True)


def test_public_url_works_outside_a_request_and_keeps_a_path_prefix(make_app):
    from booking.views import public_url

    app = make_app(BASE_URL="https://clinic.example/booking/")
    with app.app_context():
        assert public_url("auth.login") == "https://clinic.example/booking/auth/login"
        assert public_url("account.calendar_feed", token="abc") == "https://clinic.example/booking/calendar/abc.ics"


# --- configuration -------------------------------------------------------------------------------


def test_a_missing_base_url_stops_start_up_outside_development_and_tests(tmp_path):
    with pytest.raises(RuntimeError, match="BOOKING_BASE_URL is not set"):
        create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
    app = create_app({"SECRET_KEY": "k", "BASE_URL": PUBLIC, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["BASE_URL"] == PUBLIC and app.config["TRUSTED_HOSTS"] == ["booking.clinic.example"]


def test_a_missing_base_url_stops_the_command_line_with_a_clear_message(tmp_path):
    code = ("from booking import create_app\n"
            f"create_app({{'SECRET_KEY': 'k', 'DATABASE_URL': 'sqlite:///{tmp_path}/y.sqlite'}})\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "BOOKING_BASE_URL is not set" in result.stderr


def test_development_and_tests_have_a_local_base_url(tmp_path):
    testing = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/t.sqlite"})
    debugging = create_app({"DEBUG": True, "DATABASE_URL": f"sqlite:///{tmp_path}/d.sqlite"})
    assert testing.config["BASE_URL"] == "http://localhost"
    assert testing.config["TRUSTED_HOSTS"] == ["localhost"]
    assert debugging.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert debugging.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]


@pytest.mark.parametrize("url", [
    "ftp://clinic.example", "clinic.example", "https://", "https:///path", "https://clinic.example/?a=1",
    "https://clinic.example/#top", "https://clinic.example?", "https://user:pw@clinic.example",
    "https://clinic.example:99999", "https://clinic.example:port", "https://bücher.example", 42,
    "javascript:alert(1)",
])
def test_a_base_url_that_is_not_a_plain_address_stops_start_up(tmp_path, url):
    with pytest.raises(RuntimeError, match="not a usable public address"):
        create_app({"SECRET_KEY": "k", "BASE_URL": url, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


@pytest.mark.parametrize(("url", "spelled"), [
    ("HTTPS://Booking.Clinic.Example/", "https://booking.clinic.example"),
    (" http://127.0.0.1:5000 ", "http://127.0.0.1:5000"),
    ("https://clinic.example/booking/", "https://clinic.example/booking"),
    ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
])
def test_a_base_url_is_spelled_one_way(url, spelled):
    assert public_base_url(url) == spelled


@pytest.mark.parametrize(("extra", "hosts"), [
    (None, ["clinic.example"]),
    ([], ["clinic.example"]),
    ("a.example, .b.example  c.example", ["clinic.example", "a.example", ".b.example", "c.example"]),
    (["Clinic.Example", "a.example"], ["clinic.example", "a.example"]),
])
def test_trusted_hosts_start_with_the_base_urls(extra, hosts):
    assert trusted_hosts("https://clinic.example:8443", extra) == hosts


def test_trusted_hosts_that_are_not_names_stop_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="BOOKING_TRUSTED_HOSTS"):
        create_app({"TESTING": True, "TRUSTED_HOSTS": {"a": 1}, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})
