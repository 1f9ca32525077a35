"""Rate limits on login, registration, password reset and booking, in memory and in the real Redis."""
from __future__ import annotations

import logging
import os
import time
import uuid

import pytest

from booking.domain.roles import Role
from tests.booking_helpers import booking_form, everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_user

REDIS_URL = os.environ.get("TEST_REDIS_URL")
STORAGES = ["memory://", pytest.param(REDIS_URL, id="redis", marks=pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true", reason="TEST_REDIS_URL is not set"))]
LOW_LIMITS = {
    "LOGIN_FAILURES_PER_ACCOUNT": "3 per hour",
    "LOGIN_FAILURES_PER_ADDRESS": "5 per minute",
    "REGISTRATIONS_PER_ADDRESS": "2 per hour",
    "PASSWORD_RESETS_PER_ADDRESS": "4 per hour",
    "PASSWORD_RESETS_PER_ACCOUNT": "2 per hour",
    "BOOKINGS_PER_ACCOUNT": "2 per hour",
    "BOOKINGS_PER_ADDRESS": "50 per hour",
}


@pytest.fixture(params=STORAGES)
def limited(request, make_app):  # type: ignore[no-untyped-def]
    """A factory of apps with low limits sharing one storage and key prefix (several workers, say)."""
    storage = request.param
    assert storage, "CI must test the Redis storage: set TEST_REDIS_URL"
    prefix = f"test-{uuid.uuid4().hex}"

    def build(**overrides):  # type: ignore[no-untyped-def]
        return make_app(**{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix,
                           "RATELIMIT_SWALLOW_ERRORS": False, **LOW_LIMITS, **overrides})

    yield build
    if storage.startswith("redis"):
        import redis

        server = redis.Redis.from_url(storage)
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)


def emails(app, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return [make_user(Role.PATIENT).email for _ in range(count)]


def login(app, email: str, password: str, address: str = "10.0.0.1", **headers):  # type: ignore[no-untyped-def]
    return app.test_client().post("/auth/login", data={"email": email, "password": password},
                                  environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_an_account_is_locked_after_its_failed_logins_from_anywhere(limited):  # type: ignore[no-untyped-def]
    app = limited()
    victim, bystander = emails(app, 2)
    for n in range(3):
        assert login(app, victim, "wrong password", address=f"10.0.1.{n}").status_code == 422
    locked = login(app, victim, DEFAULT_PASSWORD, address="10.0.2.1")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert login(app, victim.upper(), DEFAULT_PASSWORD, address="10.0.2.2").status_code == 429  # same account
    assert login(app, bystander, DEFAULT_PASSWORD, address="10.0.2.1").status_code == 303


def test_an_address_gets_fewer_failures_than_an_account(limited):  # type: ignore[no-untyped-def]
    app = limited(LOGIN_FAILURES_PER_ACCOUNT="100 per hour")
    [user] = emails(app, 1)
    for n in range(5):
        assert login(app, f"guess{n}@example.com", "wrong password").status_code == 422
    assert login(app, user, DEFAULT_PASSWORD).status_code == 429
    assert login(app, user, DEFAULT_PASSWORD, address="10.9.9.9").status_code == 303


def test_successful_logins_do_not_count(limited):  # type: ignore[no-untyped-def]
    app = limited()
    [user] = emails(app, 1)
    assert [login(app, user, DEFAULT_PASSWORD).status_code for _ in range(8)] == [303] * 8


def test_a_429_for_htmx_is_a_fragment_with_a_toast(limited):  # type: ignore[no-untyped-def]
    app = limited()
    for _ in range(5):
        login(app, "someone@example.com", "wrong password", address="10.0.3.1")
    response = login(app, "someone@example.com", "wrong password", address="10.0.3.1", **{"HX-Request": "true"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "<html" not in response.get_data(as_text=True) and "Too many attempts" in response.headers["HX-Trigger"]


def test_registrations_per_address(limited):  # type: ignore[no-untyped-def]
    app = limited()

    def register(n: int):  # type: ignore[no-untyped-def]
        return app.test_client().post("/auth/register", environ_base={"REMOTE_ADDR": "10.0.4.1"}, data={
            "full_name": "New Person", "email": f"new{n}@example.com",
            "password": "correct horse battery", "password_confirm": "correct horse battery"})

    assert [register(n).status_code for n in range(3)] == [303, 303, 429]


def test_password_reset_requests_per_account_and_per_address(limited):  # type: ignore[no-untyped-def]
    app = limited()

    def ask(email: str, address: str = "10.0.5.1"):  # type: ignore[no-untyped-def]
        return app.test_client().post("/auth/reset", data={"email": email}, environ_base={"REMOTE_ADDR": address})

    assert [ask("me@example.com", f"10.0.6.{n}").status_code for n in range(3)] == [303, 303, 429]
    assert [ask(f"other{n}@example.com").status_code for n in range(5)] == [303, 303, 303, 303, 429]


def test_booking_attempts_per_account(limited):  # type: ignore[no-untyped-def]
    app = limited()
    with app.app_context():
        provider = everyday_provider()
        forms = [booking_form(provider, wall(3 + n, 10)) for n in range(3)]
        url = f"/book/{provider.id}"
    [patient] = emails(app, 1)
    client = app.test_client()
    assert client.post("/auth/login", data={"email": patient, "password": DEFAULT_PASSWORD}).status_code == 303
    statuses = [client.post(url, data=form).status_code for form in forms]
    assert statuses[2] == 429 and all(s in (303, 409) for s in statuses[:2])


def test_the_switch_turns_every_limit_off(make_app):  # type: ignore[no-untyped-def]
    app = make_app(RATELIMIT_ENABLED=False, **LOW_LIMITS)
    assert all(login(app, "x@example.com", "wrong password").status_code == 422 for _ in range(12))


@pytest.mark.skipif(not REDIS_URL and os.environ.get("CI") != "true", reason="TEST_REDIS_URL is not set")
def test_workers_sharing_redis_share_the_counts(make_app):  # type: ignore[no-untyped-def]
    """Two app instances (two workers) on one Redis: failures on one lock the account on the other."""
    assert REDIS_URL, "CI must test the Redis storage: set TEST_REDIS_URL"
    prefix = f"test-{uuid.uuid4().hex}"
    settings = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                    RATELIMIT_SWALLOW_ERRORS=False, **LOW_LIMITS)
    first = make_app(**settings)
    [user] = emails(first, 1)
    for n in range(3):
        assert login(first, user, "wrong password", address=f"10.0.7.{n}").status_code == 422
    second = make_app(**settings)  # its own limiter storage connection, as another process would have
    assert login(second, user, DEFAULT_PASSWORD, address="10.0.8.1").status_code == 429
    import redis

    assert any(prefix in key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"*{prefix}*"))


# The doors' limits as booking/ratelimit.py builds them. The module builds its decorators once, when it
# is imported; building them again here, on doors whose answers each test chooses (a refused form's
# 422, a success), tests that construction itself, and `make mutation` can measure it.

def fresh_limits():  # type: ignore[no-untyped-def]
    import importlib

    from booking import ratelimit

    return importlib.reload(ratelimit)


def door(app, limits, answer=lambda: ("done", 200)) -> str:  # type: ignore[no-untyped-def]
    """A test-only route behind `limits`, answering `answer()` to GET and POST; returns its URL."""
    name = f"door_{uuid.uuid4().hex}"

    def view():  # type: ignore[no-untyped-def]
        return answer()

    view.__name__ = name
    app.add_url_rule(f"/test-only/{name}", name, limits(view), methods=["GET", "POST"])
    return f"/test-only/{name}"


def refused_unless_right():  # type: ignore[no-untyped-def]
    from flask import request

    return ("welcome", 303) if request.form.get("password") == "right" else ("wrong password", 422)


def post(app, url: str, address: str = "10.2.0.1", **form):  # type: ignore[no-untyped-def]
    return app.test_client().post(url, data=form, environ_base={"REMOTE_ADDR": address})


def breaches(caplog) -> list[tuple[str, str, int, str]]:  # type: ignore[no-untyped-def]
    return [(r.security_event, r.getMessage(), r.levelno, r.limit) for r in caplog.records
            if getattr(r, "security_event", "").endswith("_limited")]


def assert_too_many(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts. Please wait a while and try again." in response.get_data(as_text=True)


def test_login_counts_only_failed_attempts_per_address_and_logs_the_breach(limited, caplog):  # type: ignore[no-untyped-def]
    app = limited(LOGIN_FAILURES_PER_ACCOUNT="100 per hour")
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    assert [post(app, url, email="me@example.com", password="right").status_code for _ in range(8)] == [303] * 8
    assert [post(app, url, email=f"g{n}@example.com", password="x").status_code for n in range(5)] == [422] * 5
    assert not breaches(caplog)
    assert_too_many(post(app, url, email="me@example.com", password="right"))  # the address is locked out
    assert breaches(caplog) == [("login_limited", "rate limit reached", logging.WARNING, "5 per 1 minute")]
    assert app.test_client().get(url, environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 422  # GET: the door's own
    assert post(app, url, address="10.2.0.2", email="me@example.com", password="right").status_code == 303


def test_login_counts_failed_attempts_per_account_from_any_address(limited, caplog):  # type: ignore[no-untyped-def]
    from booking.logs import fingerprint

    app = limited()
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    for n in range(4):  # successes are handed back
        assert post(app, url, address=f"10.3.0.{n}", email="victim@example.com", password="right").status_code == 303
    for n in range(3):
        assert post(app, url, address=f"10.3.0.{n}", email="victim@example.com", password="x").status_code == 422
    assert_too_many(post(app, url, address="10.3.1.1", email="Victim@Example.com", password="right"))
    assert breaches(caplog) == [("login_limited", "rate limit reached", logging.WARNING, "3 per hour")]
    [event] = [r for r in caplog.records if getattr(r, "security_event", "") == "login_limited"]
    with app.app_context():
        assert event.account == fingerprint("Victim@Example.com")  # type: ignore[attr-defined]
    assert post(app, url, address="10.3.1.1", email="bystander@example.com", password="right").status_code == 303


def test_a_malformed_address_is_one_account_in_every_case(limited):  # type: ignore[no-untyped-def]
    app = limited()
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    for spelling in ("Not An Address", "not an address ", "NOT AN ADDRESS"):
        assert post(app, url, address="10.3.2.1", email=spelling, password="x").status_code == 422
    assert_too_many(post(app, url, address="10.3.2.2", email="not an ADDRESS", password="right"))
    for spelling in ("strasse", "STRASSE", "Strasse"):  # a different name, though it upper-cases like "straße"
        assert post(app, url, address="10.3.2.3", email=spelling, password="x").status_code == 422
    assert post(app, url, address="10.3.2.4", email="straße", password="right").status_code == 303


def test_registration_counts_every_attempt_per_address(limited, caplog):  # type: ignore[no-untyped-def]
    app = limited()
    url = door(app, fresh_limits().registration_limits, lambda: ("check your e-mail", 303))
    assert [post(app, url, email=f"n{n}@example.com").status_code for n in range(2)] == [303, 303]
    assert_too_many(post(app, url, email="n3@example.com"))
    assert breaches(caplog) == [("registration_limited", "rate limit reached", logging.WARNING, "2 per 1 hour")]
    assert post(app, url, address="10.2.9.9", email="n4@example.com").status_code == 303


def test_reset_requests_count_per_address_and_per_account(limited, caplog):  # type: ignore[no-untyped-def]
    app = limited()
    url = door(app, fresh_limits().reset_limits, lambda: ("sent if it exists", 303))
    assert [post(app, url, address=f"10.4.0.{n}", email="me@example.com").status_code for n in range(2)] == [303] * 2
    assert_too_many(post(app, url, address="10.4.0.9", email="ME@example.com"))
    assert [post(app, url, address="10.4.1.1", email=f"o{n}@example.com").status_code for n in range(4)] == [303] * 4
    assert_too_many(post(app, url, address="10.4.1.1", email="fresh@example.com"))
    assert [name for name, *_ in breaches(caplog)] == ["password_reset_limited", "password_reset_limited"]


def test_bookings_count_per_logged_in_account_and_per_address(limited, caplog):  # type: ignore[no-untyped-def]
    app = limited(BOOKINGS_PER_ADDRESS="3 per hour")
    url = door(app, fresh_limits().booking_limits, lambda: ("booked", 303))
    first, second, third = emails(app, 3)
    clients = []
    for email in (first, second, third):
        client = app.test_client()
        assert client.post("/auth/login", data={"email": email, "password": DEFAULT_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.5.0.1"}).status_code == 303
        clients.append(client)

    def book(client, address: str = "10.5.0.1"):  # type: ignore[no-untyped-def]
        return client.post(url, environ_base={"REMOTE_ADDR": address})

    assert [book(clients[0], f"10.5.1.{n}").status_code for n in range(2)] == [303, 303]
    assert_too_many(book(clients[0], "10.5.1.9"))  # the account's two, from any address
    assert [book(clients[1]).status_code for _ in range(2)] == [303, 303]  # another account, its own two
    assert book(clients[2]).status_code == 303
    assert_too_many(book(clients[2]))  # the account has one left, but the address has used its three
    assert book(clients[2], "10.5.2.1").status_code == 303
    assert [name for name, *_ in breaches(caplog)] == ["booking_limited"] * 2
    visitor = app.test_client()  # not logged in: the account limit counts the address instead
    assert [book(visitor, "10.5.3.1").status_code for _ in range(2)] == [303, 303]
    assert_too_many(book(visitor, "10.5.3.1"))
    assert book(visitor, "10.5.3.2").status_code == 303


def test_apps_with_other_key_prefixes_keep_their_counts_apart(make_app):  # type: ignore[no-untyped-def]
    settings = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_SWALLOW_ERRORS=False,
                    **LOW_LIMITS)
    first = make_app(RATELIMIT_KEY_PREFIX=f"one-{uuid.uuid4().hex}", **settings)
    second = make_app(RATELIMIT_KEY_PREFIX=f"two-{uuid.uuid4().hex}", **settings)
    for n in range(5):
        assert login(first, f"guess{n}@example.com", "wrong password", address="10.6.0.1").status_code == 422
    assert login(first, "guess@example.com", "wrong password", address="10.6.0.1").status_code == 429
    assert login(second, "guess@example.com", "wrong password", address="10.6.0.1").status_code == 422


def test_the_real_doors_are_limited_and_a_get_never_is(limited):  # type: ignore[no-untyped-def]
    app = limited(REGISTRATIONS_PER_ADDRESS="1 per hour", PASSWORD_RESETS_PER_ADDRESS="1 per hour",
                  LOGIN_FAILURES_PER_ADDRESS="1 per hour")
    client = app.test_client()
    doors = {"/auth/login": {"email": "a@example.com", "password": "wrong"}, "/auth/reset": {"email": "b@example.com"},
             "/auth/register": {"full_name": "A", "email": "c@example.com", "password": "correct horse battery",
                                "password_confirm": "correct horse battery"}}
    for path, form in doors.items():
        assert client.post(path, data=form, environ_base={"REMOTE_ADDR": "10.7.0.1"}).status_code != 429
        assert_too_many(client.post(path, data=form, environ_base={"REMOTE_ADDR": "10.7.0.1"}))
        assert client.get(path, environ_base={"REMOTE_ADDR": "10.7.0.1"}).status_code == 200, path


@pytest.mark.parametrize(("config", "workers", "refused"), [
    ({}, 2, True),  # the default storage is memory, and the limits are on by default
    ({"RATELIMIT_STORAGE_URI": "memory://"}, 3, True),
    ({"RATELIMIT_STORAGE_URI": None}, 2, True),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, 1, False),
    ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, 4, False),
    ({"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": False}, 4, False),
])
def test_several_workers_may_not_count_the_address_limits_in_memory(config, workers, refused) -> None:  # type: ignore[no-untyped-def]
    from booking.ratelimit import unshared_storage

    problem = unshared_storage(config, workers)
    if not refused:
        assert problem is None
        return
    assert problem == (f"{workers} workers would each count the rate limits per address on their own, because "
                       "BOOKING_RATELIMIT_STORAGE_URI is 'memory://'. Point it at a storage the workers share, for "
                       "example redis://127.0.0.1:6379/0, or run one worker (WEB_CONCURRENCY=1).")


@pytest.fixture
def site_environment(monkeypatch):  # type: ignore[no-untyped-def]
    """The environment a deployment would give gunicorn, with nothing of the test run's own."""
    for name in list(os.environ):
        if name.startswith("BOOKING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOOKING_SECRET_KEY", "a long random string for this site only")
    monkeypatch.setenv("BOOKING_BASE_URL", "https://booking.clinic.example")
    monkeypatch.setenv("BOOKING_RATELIMIT_STORAGE_URI", "memory://")
    return monkeypatch


def test_a_site_with_several_workers_counting_in_memory_refuses_to_start(site_environment) -> None:  # type: ignore[no-untyped-def]
    from booking.ratelimit import check_workers

    with pytest.raises(SystemExit) as refused:
        check_workers(2)
    assert str(refused.value) == ("Refusing to start: 2 workers would each count the rate limits per address on "
                                  "their own, because BOOKING_RATELIMIT_STORAGE_URI is 'memory://'. Point it at a "
                                  "storage the workers share, for example redis://127.0.0.1:6379/0, or run one "
                                  "worker (WEB_CONCURRENCY=1).")
    assert check_workers(1) is None
    site_environment.setenv("BOOKING_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert check_workers(2) is None


@pytest.mark.parametrize("mode", ["BOOKING_DEBUG", "BOOKING_TESTING"])
def test_in_development_or_tests_several_workers_in_memory_are_only_warned_about(site_environment, caplog, mode):  # type: ignore[no-untyped-def]
    from booking.ratelimit import check_workers

    site_environment.setenv(mode, "true")
    with caplog.at_level(logging.WARNING, logger="booking"):
        assert check_workers(3) is None
    [record] = [r for r in caplog.records if r.name == "booking"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("rate limits: 3 workers would each count the rate limits per address")


def test_a_secret_key_given_as_bytes_keys_the_account_digest(limited):  # type: ignore[no-untyped-def]
    from booking.ratelimit import account_key

    digests = []
    for key in (b"a long random key given as bytes", b"another site's key, as bytes too"):
        with limited(SECRET_KEY=key).app_context():
            digests.append(account_key("Me@Example.com"))
    assert digests[0] != digests[1]  # a site's table cannot be checked against another's
    app = limited(SECRET_KEY=b"a long random key given as bytes")
    [user] = emails(app, 1)
    for n in range(3):
        assert login(app, user, "wrong password", address=f"10.8.0.{n}").status_code == 422
    assert login(app, user, DEFAULT_PASSWORD, address="10.8.1.1").status_code == 429


def test_the_start_check_reads_the_sites_instance_config(site_environment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's check reads the settings the app will read: instance/config.py as well as the
    environment, so a site that names its Redis there is not refused."""
    import flask

    from booking.ratelimit import check_workers

    (tmp_path / "config.py").write_text('RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"\n', "utf-8")
    site_environment.delenv("BOOKING_RATELIMIT_STORAGE_URI")
    site_environment.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    assert check_workers(4) is None
    (tmp_path / "config.py").write_text('RATELIMIT_STORAGE_URI = "memory://"\n', "utf-8")
    with pytest.raises(SystemExit):
        check_workers(4)


def test_the_two_booking_limits_keep_their_own_counts_even_when_they_read_alike(limited):  # type: ignore[no-untyped-def]
    """A visitor's account limit falls back to the address, the key of the address limit too: each
    limit still counts in a bucket of its own, so two bookings of a "2 per hour" pair both pass."""
    app = limited(BOOKINGS_PER_ADDRESS="2 per hour", BOOKINGS_PER_ACCOUNT="2 per hour")
    url = door(app, fresh_limits().booking_limits, lambda: ("booked", 303))
    visitor = app.test_client()
    assert [visitor.post(url, environ_base={"REMOTE_ADDR": "10.5.4.1"}).status_code for _ in range(3)] == [303, 303, 429]


def test_an_account_lockout_says_when_its_window_ends(limited):  # type: ignore[no-untyped-def]
    import time_machine

    app = limited()
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    hour = 3600 * (int(time.time()) // 3600 + 1)
    with time_machine.travel(hour + 10, tick=False):
        for n in range(3):
            assert post(app, url, address=f"10.9.0.{n}", email="late@example.com", password="x").status_code == 422
        assert post(app, url, address="10.9.1.1", email="late@example.com").headers["Retry-After"] == "3590"
    with time_machine.travel(hour + 3599, tick=False):  # the last whole second: 1, not 0
        assert post(app, url, address="10.9.1.2", email="late@example.com").headers["Retry-After"] == "1"
    with time_machine.travel(hour + 3600, tick=False):
        assert post(app, url, address="10.9.1.3", email="late@example.com", password="right").status_code == 303


def test_a_post_without_an_address_is_left_to_the_address_limits(limited):  # type: ignore[no-untyped-def]
    app = limited()
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    assert [post(app, url, address=f"10.9.2.{n}", email="   ", password="x").status_code for n in range(5)] == [422] * 5
    assert [post(app, url, address=f"10.9.3.{n}", password="x").status_code for n in range(5)] == [422] * 5


def test_switched_off_the_account_limits_count_nothing(limited):  # type: ignore[no-untyped-def]
    app = limited(RATELIMIT_ENABLED=False)
    url = door(app, fresh_limits().login_limits, refused_unless_right)
    assert [post(app, url, email="me@example.com", password="x").status_code for _ in range(8)] == [422] * 8


def test_an_attempt_whose_view_failed_is_handed_back(limited):  # type: ignore[no-untyped-def]
    """A login that broke before it checked anything is not a failed guess."""
    broken = {"yes": True}

    def answer():  # type: ignore[no-untyped-def]
        if broken["yes"]:
            raise RuntimeError("the database went away")
        return refused_unless_right()

    app = limited()
    url = door(app, fresh_limits().login_limits, answer)
    for n in range(4):
        assert post(app, url, address=f"10.9.4.{n}", email="me@example.com", password="x").status_code == 500
    broken["yes"] = False
    for n in range(3):
        assert post(app, url, address=f"10.9.5.{n}", email="me@example.com", password="x").status_code == 422
    assert_too_many(post(app, url, address="10.9.6.1", email="me@example.com", password="right"))
