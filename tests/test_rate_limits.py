"""Rate limits on login, registration, password reset and booking, in memory and in the real Redis."""
from __future__ import annotations

import os
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
