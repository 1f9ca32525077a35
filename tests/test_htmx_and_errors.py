"""htmx gets fragments and toasts, browsers get whole pages, and every error has a page of its own."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import abort
from werkzeug.exceptions import TooManyRequests

from booking.domain.roles import Role
from booking.errors import MESSAGES
from booking.extensions import db
from booking.models import User
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_user

HOMES = {Role.PATIENT: "/book/", Role.STAFF: "/staff/requests", Role.ADMIN: "/admin/appointments"}
NAV = '<nav class="nav"'


def toasts(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return json.loads(response.headers["HX-Trigger"])["toast"]["messages"]


def error_toast(code: int) -> list[dict[str, str]]:
    return [{"level": "error", "text": MESSAGES[code][1]}]


def login(client, email: str, headers=None):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", data={"email": email, "password": DEFAULT_PASSWORD}, headers=headers or {})


# --- page or fragment ----------------------------------------------------------------------------


def test_a_browser_gets_the_whole_login_page(app, client):
    response = client.get("/auth/login")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body
    assert 'id="login-form"' in body
    assert "HX-Request" in response.vary


def test_htmx_gets_only_the_login_form(app, client):
    response = client.get("/auth/login", headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith("<form")
    assert 'id="login-form"' in body
    assert "HX-Request" in response.vary


@pytest.mark.parametrize(
    "extra", [{"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}], ids=["boosted", "history-restore"]
)
def test_htmx_requests_that_swap_the_whole_body_get_the_whole_page(app, client, extra):
    response = client.get("/auth/login", headers={**HTMX, **extra})

    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.vary


def test_a_failed_htmx_login_answers_with_the_form_and_its_message(app, client):
    data = {"email": "nobody@example.com", "password": "wrong password"}
    response = client.post("/auth/login", data=data, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body
    assert 'id="login-form"' in body
    assert "The e-mail or password is not right." in body


@pytest.mark.parametrize("role", list(Role))
def test_a_successful_htmx_login_redirects_the_whole_page_home(app, client, role):
    """A 3xx would be followed by the XHR and the home page swapped into the form; HX-Redirect is not."""
    user = make_user(role)

    response = login(client, user.email, headers=HTMX)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == HOMES[role]
    assert "Location" not in response.headers
    assert "HX-Trigger" not in response.headers, "the welcome is kept for the page it leads to"
    assert "Welcome, " in client.get(HOMES[role]).get_data(as_text=True)


# --- flashed messages and toasts -----------------------------------------------------------------


def test_a_flash_before_an_htmx_redirect_waits_for_the_next_full_page(app, client):
    response = client.post("/auth/reset", data={"email": "htmx.patient@example.com"}, headers=HTMX)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/login"
    assert "HX-Trigger" not in response.headers
    assert "we sent it a link to choose a new password" in client.get("/auth/login").get_data(as_text=True)


def test_a_flash_pending_when_a_fragment_is_answered_travels_as_a_toast(app, client):
    user = make_user()
    login(client, user.email)
    client.post("/auth/logout")  # flashes "You are logged out." for the next page

    fragment = client.get("/auth/login", headers=HTMX)

    assert "<html" not in fragment.get_data(as_text=True)
    assert toasts(fragment) == [{"level": "info", "text": "You are logged out."}]
    page = client.get("/auth/login").get_data(as_text=True)
    assert "You are logged out." not in page, "a message is delivered once"


def test_an_htmx_request_for_a_missing_page_gets_an_error_toast(app, client):
    response = client.get("/no-such-page", headers=HTMX)

    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True)
    assert "Not found" in response.get_data(as_text=True)
    assert toasts(response) == error_toast(404)


def test_an_error_toast_and_a_pending_flash_arrive_together(app, client):
    user = make_user()
    login(client, user.email)
    client.post("/auth/logout")

    response = client.get("/no-such-page", headers=HTMX)

    assert toasts(response) == [*error_toast(404), {"level": "info", "text": "You are logged out."}]


# --- error pages ---------------------------------------------------------------------------------


def test_a_missing_page_is_a_full_page_in_the_site_layout(app, client):
    response = client.get("/no-such-page")

    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" in body
    assert NAV in body
    assert "Not found" in body
    assert MESSAGES[404][1] in body


def test_a_wrong_method_keeps_the_allow_header(app, client):
    response = client.get("/auth/logout")

    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "GET" not in allowed
    assert MESSAGES[405][1] in response.get_data(as_text=True)


def test_a_patient_on_an_admin_page_sees_the_forbidden_page(app, client):
    login(client, make_user(Role.PATIENT).email)

    response = client.get("/admin/appointments")

    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<html" in body
    assert 'data-error-code="403"' in body
    assert MESSAGES[403][1] in body


@pytest.mark.parametrize(
    ("method", "path", "role", "code"),
    [
        ("GET", "/no-such-page", None, 404),
        ("GET", "/auth/logout", None, 405),
        ("GET", "/admin/appointments", Role.PATIENT, 403),
    ],
)
def test_json_clients_get_json_errors(app, client, method, path, role, code):
    if role is not None:
        login(client, make_user(role).email)

    response = client.open(path, method=method, headers={"Accept": "application/json"})

    assert response.status_code == code
    assert response.is_json
    assert response.get_json() == {"error": MESSAGES[code][0], "message": MESSAGES[code][1]}


def test_a_browser_that_also_accepts_json_gets_html(app, client):
    response = client.get("/no-such-page", headers={"Accept": "text/html,application/json;q=0.9,*/*;q=0.8"})

    assert response.status_code == 404
    assert response.mimetype == "text/html"


# --- 409, 422, 429, 500: from test-only routes ---------------------------------------------------

NEVER_SAVED = "never.saved@example.com"


@pytest.fixture
def failing_app(make_app):  # type: ignore[no-untyped-def]
    """A fresh app with routes that fail in each way the error pages must handle (added before its first request)."""
    failing = make_app()

    def conflict():  # type: ignore[no-untyped-def]
        abort(409)

    def unprocessable():  # type: ignore[no-untyped-def]
        abort(422)

    def too_many():  # type: ignore[no-untyped-def]
        raise TooManyRequests(retry_after=30)

    def crash():  # type: ignore[no-untyped-def]
        db.session.add(User(email=NEVER_SAVED, full_name="Never Saved", role="patient", password_hash="x"))
        db.session.flush()
        raise RuntimeError("boom")

    def crash_in_the_database():  # type: ignore[no-untyped-def]
        """Leaves the session unusable (a failed flush) until someone rolls it back."""
        taken = db.session.scalars(sa.select(User.email)).first()
        db.session.add(User(email=taken, full_name="Duplicate", role="patient", password_hash="x"))
        db.session.flush()

    for view in (conflict, unprocessable, too_many, crash, crash_in_the_database):
        failing.add_url_rule(f"/_test/{view.__name__}", view_func=view)
    return failing


def stored(email: str) -> User | None:
    db.session.rollback()  # see what the requests committed, not an older snapshot
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.mark.parametrize(
    ("path", "code"),
    [("/_test/conflict", 409), ("/_test/unprocessable", 422), ("/_test/too_many", 429), ("/_test/crash", 500)],
)
def test_each_error_has_a_full_page(app, failing_app, path, code):
    response = failing_app.test_client().get(path)

    body = response.get_data(as_text=True)
    assert response.status_code == code
    assert "<html" in body
    assert NAV in body
    assert f"<h1>{MESSAGES[code][0]}</h1>" in body
    assert MESSAGES[code][1] in body


@pytest.mark.parametrize(
    ("path", "code"),
    [("/_test/conflict", 409), ("/_test/unprocessable", 422), ("/_test/too_many", 429), ("/_test/crash", 500)],
)
def test_each_error_is_a_fragment_with_a_toast_for_htmx(app, failing_app, path, code):
    response = failing_app.test_client().get(path, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == code
    assert "<html" not in body
    assert f'data-error-code="{code}"' in body
    assert toasts(response) == error_toast(code)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_too_many_requests_says_when_to_retry(app, failing_app, headers):
    response = failing_app.test_client().get("/_test/too_many", headers=headers)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_crash_saves_nothing_and_says_so(app, failing_app, headers):
    response = failing_app.test_client().get("/_test/crash", headers=headers)

    assert response.status_code == 500
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert stored(NEVER_SAVED) is None


def test_the_error_page_still_renders_after_a_failed_database_write(app, failing_app):
    """The page needs the database (to load the logged-in user); it can only get it after a rollback."""
    user = make_user(full_name="Dana Failing")
    client = failing_app.test_client()
    assert login(client, user.email).status_code == 303

    response = client.get("/_test/crash_in_the_database")

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Dana Failing" in body
    assert MESSAGES[500][1] in body


# --- visitors, htmx and health -------------------------------------------------------------------


def test_an_anonymous_htmx_request_is_sent_to_login_by_hx_redirect(app, client):
    """A 302 would be followed by the XHR and the login page swapped into a fragment."""
    response = client.get("/me/appointments", headers=HTMX)

    assert response.status_code == 401
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/auth/login"
    assert "HX-Trigger" not in response.headers


@pytest.mark.parametrize(
    ("current_url", "expected_next"),
    [
        ("http://localhost/me/appointments?page=2", ["/me/appointments?page=2"]),
        ("https://evil.example/me/appointments", None),
        (None, None),
    ],
)
def test_after_an_htmx_login_redirect_the_user_returns_to_their_page(app, client, current_url, expected_next):
    """htmx asked for a fragment; the page to come back to is the one in HX-Current-URL, if it is ours."""
    headers = {**HTMX, **({"HX-Current-URL": current_url} if current_url else {})}
    response = client.get("/me/appointments", headers=headers)

    assert response.status_code == 401
    query = parse_qs(urlsplit(response.headers["HX-Redirect"]).query)
    assert query.get("next") == expected_next


def test_health_check(app, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/admin/appointments?page=99999999999999999999", 404),
        ("/admin/appointments?page=100001", 404),
        ("/admin/appointments?page=-3", 200),
        ("/admin/appointments?page=abc", 200),
        ("/admin/users?page=999999999999999999", 404),
        ("/me/appointments/99999999999999999999", 404),
        ("/me/appointments/2147483648", 404),
        ("/me/appointments/0", 404),
        ("/me/appointments/-1", 404),
    ],
)
def test_out_of_range_numbers_are_not_found_not_a_crash(app, client, auth, url, expected):
    """Numbers larger than the database's integers must not reach it (PostgreSQL would raise)."""
    role = Role.PATIENT if url.startswith("/me/") else Role.ADMIN
    auth.login(make_user(role).email)
    assert client.get(url).status_code == expected


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("POST", "/auth/register", {"full_name": "a\x00b", "email": "nul@example.com",
                                     "password": "correct horse battery", "password_confirm": "correct horse battery"}),
        ("POST", "/auth/login", {"email": "a\x00@example.com", "password": "whatever password"}),
        ("GET", "/auth/login?next=/a%00b", None),
        ("GET", "/auth/login?email=%1b%5b31m", None),
    ],
)
def test_control_characters_are_refused_before_they_reach_the_database(app, client, method, url, data):
    response = client.open(url, method=method, data=data)

    assert response.status_code == 400
    assert "characters that are not allowed" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_a_malformed_current_url_header_is_ignored(app, client):
    response = client.get("/me/appointments", headers={**HTMX, "HX-Current-URL": "http://[oops/"})

    assert response.status_code == 401
    assert "next=" not in response.headers["HX-Redirect"]


@pytest.mark.parametrize("url", ["/auth/login", "/auth/register"])
def test_forms_render_no_empty_attributes(client, url):
    """A field's optional attributes appear only when they apply, never as the word None."""
    html = client.get(url).get_data(as_text=True)
    assert '="None"' not in html
    assert html.count("autofocus") == 1


def test_an_invalid_field_is_marked_for_assistive_technology(client):
    html = client.post("/auth/register", data={"full_name": "", "email": "x"}).get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="full_name-errors"' in html and 'id="full_name-errors"' in html
