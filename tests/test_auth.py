"""Register, log in, log out: the journeys a visitor takes, and the ways they must not go wrong."""
from __future__ import annotations

import io
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from flask import session as flask_session
from flask_login import current_user

from booking.auth.access import leave, role_required, safe_next
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import OutboxMessage, User
from tests.conftest import HTMX
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "a brand new long secret"
HOMES = {Role.PATIENT: "/book/", Role.STAFF: "/staff/requests", Role.ADMIN: "/admin/appointments"}
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def register(  # type: ignore[no-untyped-def]
    client, email="new.patient@example.com", password=NEW_PASSWORD, confirm=None, headers=None, **extra
):
    data = {
        "full_name": "New Patient",
        "email": email,
        "password": password,
        "password_confirm": password if confirm is None else confirm,
        **extra,
    }
    return client.post("/auth/register", data=data, headers=headers or {})


def stored_user(email: str) -> User | None:
    # Requests run in their own sessions; end ours so that a read snapshot (SQLite WAL) is not stale.
    db.session.rollback()
    return db.session.scalar(sa.select(User).where(User.email == email))


def count_users(email: str) -> int:
    db.session.rollback()
    query = sa.select(sa.func.count()).select_from(User).where(sa.func.lower(User.email) == email.lower())
    return db.session.scalar(query)


def outbox_to(email: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                   .order_by(OutboxMessage.id)))


def confirmation_path(email: str) -> str:
    """The app-relative link of the last confirmation e-mail queued for `email`."""
    [*_, message] = [m for m in outbox_to(email) if m.subject == "Confirm your e-mail address"]
    return re.search(r"http://localhost(/auth/verify/\S+)", message.text_body)[1]


def logged_in_user_id(client) -> str | None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.get("_user_id")


def without_csrf(body: str) -> str:
    body = CSRF_INPUT.sub('name="csrf_token" value=""', body)
    return CSRF_HEADER.sub('"X-CSRFToken": ""', body)


# --- registering ---------------------------------------------------------------------------------


def test_a_visitor_registers_is_asked_to_confirm_and_logs_in_after_confirming(app, client):
    response = register(client, email="New.Patient@Example.com")

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/register/check-email"
    assert "Check your e-mail" in client.get("/auth/register/check-email").get_data(as_text=True)
    user = stored_user("new.patient@example.com")
    assert user is not None
    assert user.role == Role.PATIENT.value
    assert user.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.password_hash
    assert user.profile is not None
    assert not user.email_verified
    assert logged_in_user_id(client) is None, "nobody is logged in by registering (a taken address is not either)"

    confirmed = client.get(confirmation_path("new.patient@example.com"))
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/auth/login"
    login_page = client.get("/auth/login").get_data(as_text=True)
    assert "your e-mail address is confirmed" in login_page
    assert 'value="new.patient@example.com"' in login_page, "the login form is filled in with the address"
    assert re.search(r'<input[^>]*autofocus[^>]*id="password"', login_page), "the password is what is left to type"
    assert logged_in_user_id(client) is None, "a confirmation link alone opens no session"
    assert client.post("/auth/login", data={"email": "new.patient@example.com", "password": NEW_PASSWORD}
                       ).headers["Location"] == "/book/"
    assert client.get("/me/appointments").status_code == 200


def test_an_unconfirmed_account_cannot_log_in_and_is_answered_like_a_wrong_password(app, client):
    """Else registering an address with one's own password and trying it would tell a taken address."""
    register(client, email="fresh@example.com")
    unconfirmed = client.post("/auth/login", data={"email": "fresh@example.com", "password": NEW_PASSWORD})
    wrong = client.post("/auth/login", data={"email": "fresh@example.com", "password": NEW_PASSWORD + "x"})
    unknown = client.post("/auth/login", data={"email": "nobody@example.com", "password": NEW_PASSWORD})

    assert unconfirmed.status_code == wrong.status_code == unknown.status_code == 422
    assert unconfirmed.get_data() == wrong.get_data()
    assert unconfirmed.get_data(as_text=True) == unknown.get_data(as_text=True).replace("nobody@", "fresh@")
    assert "confirmed with the link we sent" in unconfirmed.get_data(as_text=True)
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize("spelling", ["ann@example.com", "Ann@Example.com", "ANN@EXAMPLE.COM", " ann@example.com "])
def test_an_email_already_registered_in_any_letter_case_gets_the_answer_a_new_one_gets(app, client, spelling):
    owner = make_user(email="ann@example.com")
    hash_before = owner.password_hash

    response = register(client, email=spelling)

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/register/check-email"
    assert count_users("ann@example.com") == 1
    assert stored_user("ann@example.com").password_hash == hash_before, "the account is left as it was"
    assert logged_in_user_id(client) is None
    [warning] = outbox_to("ann@example.com")
    assert warning.subject == "Someone tried to register with your e-mail address"


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        pytest.param("short", None, "Use at least 10 characters.", id="too-short"),
        pytest.param(("long pass " * 13)[:129], None, "Use at most 128 characters.", id="too-long"),
        pytest.param("password123", None, "too easy to guess", id="common"),
        pytest.param("PassWord123", None, "too easy to guess", id="common-other-case"),
        pytest.param("aaaaaaaaaaaa", None, "too easy to guess", id="too-few-distinct-characters"),
        pytest.param("weak.one@example.com", None, "Do not use your e-mail address", id="the-email-itself"),
        pytest.param(NEW_PASSWORD, NEW_PASSWORD + "!", "The passwords do not match.", id="mismatched-confirmation"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(app, client, password, confirm, message):
    response = register(client, email="weak.one@example.com", password=password, confirm=confirm)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_user("weak.one@example.com") is None


@pytest.mark.parametrize("email", ["not-an-email", "ann@", "@example.com", "ann@example", "ann@@example.com"])
def test_an_invalid_email_is_refused(app, client, email):
    response = register(client, email=email)

    assert response.status_code == 422
    assert 'id="email-errors"' in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("body", [  # built per run: an upload's file is read, and closed, by the request
    lambda: {"data": {"email": (io.BytesIO(b"ann@example.com"), "email.txt"), "password": "x"},
             "content_type": "multipart/form-data"},
    lambda: {"json": {"email": 12, "password": ["a", "b"]}},
    lambda: {"json": [1, 2]},
], ids=["file", "json", "json-array"])
def test_a_form_reads_form_fields_only(app, client, body):
    """Files and JSON bodies never reach a form's fields (a file or a number where text belongs was a 500)."""
    response = client.post("/auth/login", **body())
    assert response.status_code == 422


# --- logging in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_own_home_after_login(app, client, auth, role):
    user = make_user(role)

    response = auth.login(user.email)

    assert response.status_code == 303
    assert response.headers["Location"] == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


def test_login_ignores_the_case_and_spaces_of_the_email(app, client, auth):
    make_user(email="bob@example.com")

    assert auth.login("  Bob@Example.COM ").status_code == 303


def test_remember_me_sets_a_cookie_that_alone_keeps_the_user_logged_in(app, client, auth):
    user = make_user()

    assert auth.login(user.email, remember="y").status_code == 303
    assert client.get_cookie("remember_token") is not None

    client.delete_cookie("session")
    assert client.get_cookie("session") is None
    assert client.get("/me/appointments").status_code == 200


def test_without_remember_me_there_is_no_remember_cookie(app, client, auth):
    user = make_user()

    assert auth.login(user.email).status_code == 303
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_wrong_password_and_unknown_email_get_the_same_answer(app, client, auth, headers):
    """Whether an address has an account must not leak: same status, same body, byte for byte.

    The same address is tried before its account exists and after, so the echoed e-mail is alike."""
    email = "carol@example.com"
    unknown = client.post("/auth/login", data={"email": email, "password": "not the password"}, headers=headers)
    make_user(email=email)
    wrong = client.post("/auth/login", data={"email": email, "password": "not the password"}, headers=headers)

    assert unknown.status_code == wrong.status_code == 422
    assert "The e-mail or password is not right." in wrong.get_data(as_text=True)
    assert without_csrf(unknown.get_data(as_text=True)) == without_csrf(wrong.get_data(as_text=True))
    assert logged_in_user_id(client) is None


def test_an_inactive_account_cannot_log_in_even_with_the_right_password(app, client, auth):
    user = make_user(active=False)

    response = auth.login(user.email)

    assert response.status_code == 422
    assert "This account has been switched off." in response.get_data(as_text=True)
    assert logged_in_user_id(client) is None
    home = client.get("/me/appointments")
    assert home.status_code == 302
    assert urlsplit(home.headers["Location"]).path == "/auth/login"


def test_an_account_switched_off_while_logged_in_loses_access(app, client, auth):
    """Flask-Login's UserMixin counts an inactive user as not authenticated, remember cookie or not."""
    user = make_user()
    assert auth.login(user.email, remember="y").status_code == 303

    user.active = False
    db.session.commit()

    assert client.get("/me/appointments").status_code == 302


def test_login_follows_a_safe_next_link(app, client):
    user = make_user()

    response = client.post(
        "/auth/login?next=/me/appointments", data={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/me/appointments"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        " //evil.example/",
        "/\t/evil.example/",
        "https:evil.example",
        "///evil.example",
        "//evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "/\\\\evil.example",
        "/book/\\..\\evil",
        "",
    ],
)
def test_login_ignores_a_next_link_that_leaves_the_site(app, client, target):
    user = make_user()

    response = client.post(
        "/auth/login", query_string={"next": target}, data={"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/book/"


@pytest.mark.parametrize(("target", "kept"), [
    ("/book/", "/book/"),
    ("  /book/  ", "/book/"),
    ("/me/appointments?page=2", "/me/appointments?page=2"),
])
def test_login_keeps_a_next_link_inside_the_site_even_away_from_the_roles_home(app, client, auth, target, kept):
    staff = make_user(Role.STAFF)

    response = client.post(
        "/auth/login", query_string={"next": target}, data={"email": staff.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == kept


@pytest.mark.parametrize(("target", "kept"), [
    ("/book/", "/book/"), (" /book/?a=1 ", "/book/?a=1"), ("/", "/"), ("/book/?q=a b", "/book/?q=a b"),
    ("///evil.example", None), ("//evil.example", None), ("\\\\evil.example", None), ("https://evil.example", None),
    ("/\\\\evil.example", None), ("/book/\\x", None), ("book/", None), ("", None), (None, None), ("   ", None),
    ("/book/\x00", None), ("/book/\x1f/x", None), ("/\t/evil.example", None), ("/\n/evil.example", None),
])
def test_only_a_path_inside_the_site_is_a_place_to_return_to(target, kept):  # type: ignore[no-untyped-def]
    assert safe_next(target) == kept


def test_a_visitor_sent_to_login_is_brought_back_afterwards(app, client):
    user = make_user()

    response = client.get("/me/appointments")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query) == {"next": ["/me/appointments"]}

    back = client.post(response.headers["Location"], data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert back.headers["Location"] == "/me/appointments"


def test_the_session_is_renewed_at_login(app, client, auth):
    user = make_user()
    token = user.session_token
    with client.session_transaction() as session:
        session["planted"] = "before login"

    assert auth.login(user.email).status_code == 303

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == token


# --- logging out ---------------------------------------------------------------------------------


def test_logout_is_not_a_get(app, client, auth):
    user = make_user()
    auth.login(user.email)

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/me/appointments").status_code == 200


def test_logout_ends_the_session(app, client, auth):
    user = make_user()
    auth.login(user.email)

    response = auth.logout()

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert logged_in_user_id(client) is None
    later = client.get("/me/appointments")
    assert later.status_code == 302
    assert urlsplit(later.headers["Location"]).path == "/auth/login"


def test_logout_deletes_the_remember_cookie(app, client, auth):
    user = make_user()
    auth.login(user.email, remember="y")
    assert client.get_cookie("remember_token") is not None

    response = auth.logout()

    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("remember_token") is None
    assert client.get("/me/appointments").status_code == 302


def test_a_remember_cookie_copied_before_logout_is_dead_after_it(app, client, auth):
    """Logging out ends the account's sessions everywhere: a stolen cookie stops working too."""
    user = make_user()
    auth.login(user.email, remember="y")
    stolen = client.get_cookie("remember_token").value
    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert thief.get("/me/appointments").status_code == 200

    auth.logout()

    thief_again = app.test_client()
    thief_again.set_cookie("remember_token", stolen)
    assert thief_again.get("/me/appointments").status_code == 302
    assert thief.get("/me/appointments").status_code == 302  # the thief's own session ended as well


# --- secrets stay secret -------------------------------------------------------------------------


def test_the_password_never_reaches_the_logs(app, client, caplog):
    """At DEBUG, with SQLAlchemy logging every statement and its parameters too."""
    secret = "Zebra-Quartz-Mango-4417"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # SQLAlchemy pins its own loggers to WARN

    assert register(client, email="logged@example.com", password=secret).status_code == 303
    client.post("/auth/logout")
    for email, password in [("logged@example.com", secret + "x"), ("nobody@example.com", secret)]:
        assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 422

    assert "logged@example.com" in caplog.text, "the submitted values must be visible to this capture"
    assert secret not in caplog.text


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(make_app):  # type: ignore[no-untyped-def]
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def test_a_registration_without_the_csrf_token_is_refused(app, csrf_client):
    response = register(csrf_client, email="forged@example.com")

    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert stored_user("forged@example.com") is None


def test_a_login_without_the_csrf_token_is_refused(app, csrf_client):
    user = make_user()

    response = csrf_client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert logged_in_user_id(csrf_client) is None


def test_a_registration_with_the_token_from_the_form_succeeds(app, csrf_client):
    page = csrf_client.get("/auth/register").get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)

    response = register(csrf_client, email="genuine@example.com", csrf_token=token)

    assert response.status_code == 303
    assert stored_user("genuine@example.com") is not None


def test_an_htmx_registration_with_the_token_in_the_header_succeeds(app, csrf_client):
    """base.html puts the token in hx-headers, so htmx sends it as X-CSRFToken on every request."""
    page = csrf_client.get("/auth/register").get_data(as_text=True)
    token = CSRF_HEADER.search(page).group(1)

    response = register(csrf_client, email="htmx.user@example.com", headers={**HTMX, "X-CSRFToken": token})

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/register/check-email"
    assert stored_user("htmx.user@example.com") is not None


def test_an_htmx_post_without_the_token_gets_a_toast_not_a_page(app, csrf_client):
    response = register(csrf_client, email="forged@example.com", headers=HTMX)

    assert response.status_code == 400
    assert "<html" not in response.get_data(as_text=True)
    assert "The form expired" in response.headers["HX-Trigger"]
    assert stored_user("forged@example.com") is None


@pytest.mark.parametrize(
    "address",
    ["user@xn--bcher-kva.example", "Jose\u0301@example.com", "  Mixed.Case@Example.COM  "],
    ids=["punycode-domain", "decomposed-accent", "case-and-spaces"],
)
def test_people_log_in_with_the_address_exactly_as_they_registered_it(app, client, address):
    assert register(client, email=address).status_code == 303
    [user] = db.session.scalars(sa.select(User))
    client.get(confirmation_path(user.email))

    response = client.post("/auth/login", data={"email": address, "password": NEW_PASSWORD})

    assert response.status_code == 303


def test_passwords_are_hashed_with_argon2id_at_the_production_cost_outside_tests():
    """The suite hashes cheaply (see conftest); the app's own hasher keeps argon2-cffi's recommended cost."""
    import importlib

    from argon2 import PasswordHasher

    from booking.services import passwords

    fresh = importlib.reload(passwords)
    try:
        assert fresh._hasher.time_cost == PasswordHasher().time_cost >= 2
        assert fresh._hasher.memory_cost == PasswordHasher().memory_cost >= 19 * 1024
        assert fresh.hash_password("x" * 12).startswith("$argon2id$")
    finally:
        from argon2 import PasswordHasher as Cheap

        fresh._hasher = Cheap(time_cost=1, memory_cost=1024, parallelism=1)
        fresh._DUMMY_HASH = fresh._hasher.hash("not-a-real-password-just-equal-work")


def test_logging_out_says_so_on_the_login_page(app, client, auth):
    auth.login(make_user().email)

    auth.logout()

    assert '<p class="toast toast-info">You are logged out.</p>' in client.get("/auth/login").get_data(as_text=True)


# --- role_required, the one gate of every protected page -------------------------------------------

GATES = {"patients": (Role.PATIENT,), "staff": (Role.STAFF,), "admins": (Role.ADMIN,),
         "the_desk": (Role.STAFF, Role.ADMIN)}


@pytest.fixture
def gated(make_app):  # type: ignore[no-untyped-def]
    """An app with a page behind role_required for each role and one for staff or admins, decorated here."""
    gated_app = make_app()
    for name, roles in GATES.items():
        gated_app.add_url_rule(f"/gated/{name}/<int:number>", f"gated_{name}", _gated_page(roles))
    return gated_app


def _gated_page(roles):  # type: ignore[no-untyped-def]
    @role_required(*roles)
    def page(number: int) -> str:
        """The page's own docstring."""
        return f"page {number} for {current_user.full_name}"

    return page


@pytest.mark.parametrize("gate", GATES)
def test_a_gated_page_lets_in_exactly_its_roles_and_sends_visitors_to_log_in(app, gated, gate):  # type: ignore[no-untyped-def]
    roles = GATES[gate]
    visitor = gated.test_client()
    sent = visitor.get(f"/gated/{gate}/7?x=1")
    assert sent.status_code == 302
    location = urlsplit(sent.headers["Location"])
    assert (location.path, parse_qs(location.query)) == ("/auth/login", {"next": [f"/gated/{gate}/7?x=1"]})
    plain = urlsplit(visitor.get(f"/gated/{gate}/7").headers["Location"])
    assert parse_qs(plain.query) == {"next": [f"/gated/{gate}/7"]}
    fragment = visitor.get(f"/gated/{gate}/7", headers={**HTMX, "HX-Current-URL": "http://localhost/me/?page=2"})
    assert fragment.status_code == 401 and fragment.headers["Location"] == fragment.headers["HX-Redirect"]
    redirect_to = urlsplit(fragment.headers["HX-Redirect"])
    assert (redirect_to.path, parse_qs(redirect_to.query)) == ("/auth/login", {"next": ["/me/?page=2"]})
    for role in Role:
        user = make_user(role)
        client = gated.test_client()
        assert client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 303
        response = client.get(f"/gated/{gate}/7")
        if role in roles:
            assert (response.status_code, response.get_data(as_text=True)) == (200, f"page 7 for {user.full_name}")
        else:
            assert response.status_code == 403
    view = gated.view_functions[f"gated_{gate}"]
    assert view.allowed_roles == frozenset(roles)
    assert (view.__name__, view.__doc__) == ("page", "The page's own docstring.")


def test_a_post_to_a_gated_page_sends_the_visitor_to_log_in_without_a_way_back(app, make_app):  # type: ignore[no-untyped-def]
    posted = make_app()
    posted.add_url_rule("/gated/form", "gated_form", role_required(Role.PATIENT)(lambda: "sent"), methods=["POST"])
    response = posted.test_client().post("/gated/form")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_a_visitor_comes_back_to_the_whole_address_of_a_gated_page(app, make_app):  # type: ignore[no-untyped-def]
    """Only the empty query's "?" is dropped, not a last letter of the path."""
    named = make_app()
    named.add_url_rule("/gated/files/<name>", "gated_file", role_required(Role.STAFF)(lambda name: name))
    sent = named.test_client().get("/gated/files/TAX?")
    assert parse_qs(urlsplit(sent.headers["Location"]).query) == {"next": ["/gated/files/TAX"]}


@pytest.mark.parametrize(("current_url", "kept"), [
    ("http://localhost/me/appointments?page=2", "/me/appointments?page=2"),
    ("http://localhost/me/appointments", "/me/appointments"),
    ("/me/appointments?page=3", "/me/appointments?page=3"),
    ("http://localhost:5000/me/appointments", None),
    ("https://evil.example/me/appointments", None),
    ("http://localhost//evil.example/x", None),
    ("http://[oops/", None),
])
def test_an_htmx_visitor_returns_to_the_page_they_were_on_only_if_it_is_ours(app, client, current_url, kept):  # type: ignore[no-untyped-def]
    response = client.get("/me/appointments", headers={**HTMX, "HX-Current-URL": current_url})

    assert response.status_code == 401
    assert parse_qs(urlsplit(response.headers["HX-Redirect"]).query).get("next") == ([kept] if kept else None)


def test_a_session_that_turns_up_in_another_browser_stays_logged_in_but_is_no_longer_fresh(app, client, auth):
    """Basic session protection: a changed browser (user agent) is not logged out (a phone switching
    networks would be), but the session stops counting as a fresh login."""
    user = make_user()
    auth.login(user.email)
    with client.session_transaction() as session:
        assert session["_fresh"] is True

    assert client.get("/me/appointments", headers={"User-Agent": "Another browser/1.0"}).status_code == 200

    with client.session_transaction() as session:
        assert session["_fresh"] is False
    assert logged_in_user_id(client) == user.session_token


@pytest.mark.parametrize(("level", "kind"), [("success", "success"), (None, "info")])
def test_leaving_tells_the_message_in_its_kind(app, level, kind):  # type: ignore[no-untyped-def]
    """A forced logout (a new password set, an account deleted) shows its message as a toast of its kind."""
    with app.test_request_context("/auth/logout", method="POST"):
        leave("Done.", level) if level else leave("Done.")
        assert flask_session["_flashes"] == [(kind, "Done.")]
