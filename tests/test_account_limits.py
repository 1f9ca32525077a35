"""Per-account limits counted in the database: shared by every app (worker), exact under concurrency,
stored under a keyed digest, refused attempts counted nowhere, ended windows pruned.

Real gunicorn workers and restarts are in tests/test_gunicorn.py; these run in one process, on SQLite
and PostgreSQL, with the address limits in memory.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import AccountLimitCount
from booking.models import limits as counts
from booking.ratelimit import account_key, windows
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.test_rate_limits import login

ACCOUNT_LIMITS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_SWALLOW_ERRORS": False,
    "LOGIN_FAILURES_PER_ACCOUNT": "3 per hour",
    "LOGIN_FAILURES_PER_ADDRESS": "1000 per hour",
    "PASSWORD_RESETS_PER_ACCOUNT": "2 per hour",
    "PASSWORD_RESETS_PER_ADDRESS": "1000 per hour",
}


@pytest.fixture
def limited(make_app):  # type: ignore[no-untyped-def]
    """Apps on one database, each with its own memory storage: as separate workers would be."""
    return lambda **overrides: make_app(**{**ACCOUNT_LIMITS, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex, **overrides})


def patient(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return make_user(Role.PATIENT).email


def rows(app) -> list[AccountLimitCount]:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = db.session.scalars(sa.select(AccountLimitCount)).all()
        db.session.expunge_all()
        db.session.remove()
        return list(found)


def test_limit_strings_are_read_as_flask_limiter_writes_them() -> None:
    assert windows("100 per hour") == [counts.Window(100, 3600)]
    assert windows("5 per minute; 50/day") == [counts.Window(5, 60), counts.Window(50, 86400)]
    with pytest.raises(ValueError):
        windows("a hundred an hour")


def test_apps_with_their_own_memory_share_the_account_count(limited):  # type: ignore[no-untyped-def]
    """Two workers, no Redis: the failures on one lock the account on the other, and on a third
    started afterwards (a restart)."""
    first, second = limited(), limited()
    victim = patient(first)
    assert [login(app, victim, "wrong", address=f"10.1.0.{n}").status_code
            for n, app in enumerate([first, second, first])] == [422, 422, 422]
    assert login(second, victim, DEFAULT_PASSWORD, address="10.1.1.1").status_code == 429
    restarted = limited()
    locked = login(restarted, victim, DEFAULT_PASSWORD, address="10.1.1.2")
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 3600


def test_the_account_is_stored_as_a_keyed_digest_never_the_address(limited):  # type: ignore[no-untyped-def]
    app = limited()
    victim = patient(app)
    login(app, f"  {victim.upper()} ", "wrong")
    login(app, victim, "wrong")
    [row] = rows(app)
    assert row.count == 2 and row.scope == "login_failures_per_account"
    with app.test_request_context():
        assert row.account == account_key(victim) and len(row.account) == 64
    assert victim not in repr(vars(row)) and victim.split("@")[0] not in row.account
    other_key = limited(SECRET_KEY="another-secret")
    with other_key.test_request_context():
        assert account_key(victim) != row.account  # keyed: a list of addresses cannot be hashed to match


def test_a_locked_account_answers_htmx_with_a_toast_and_retry_after(limited):  # type: ignore[no-untyped-def]
    app = limited()
    victim = patient(app)
    for _ in range(3):
        login(app, victim, "wrong")
    response = login(app, victim, DEFAULT_PASSWORD, **{"HX-Request": "true"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "<html" not in response.get_data(as_text=True) and "Too many attempts" in response.headers["HX-Trigger"]


def test_every_spelling_of_an_address_shares_one_count(limited):  # type: ignore[no-untyped-def]
    app = limited()
    for spelling in ("victim@bücher.test", " Victim@xn--bcher-kva.TEST", "VICTIM@BÜCHER.test"):
        assert login(app, spelling, "wrong").status_code == 422
    assert login(app, "victim@b\u0075\u0308cher.test", "wrong").status_code == 429  # u + combining diaeresis
    assert [r.count for r in rows(app)] == [3]


def test_a_success_hands_its_attempt_back(limited):  # type: ignore[no-untyped-def]
    app = limited()
    user = patient(app)
    assert [login(app, user, DEFAULT_PASSWORD).status_code for _ in range(5)] == [303] * 5
    assert login(app, user, "wrong").status_code == 422
    assert [r.count for r in rows(app)] == [1]


def test_a_refused_attempt_counts_in_no_window(limited):  # type: ignore[no-untyped-def]
    """"2 per minute; 3 per hour": the third try within the minute is refused and must not use up the
    hour's third try, which stays available once the minute is over."""
    app = limited(LOGIN_FAILURES_PER_ACCOUNT="2 per minute; 3 per hour")
    user = patient(app)
    assert [login(app, user, "wrong").status_code for _ in range(4)] == [422, 422, 429, 429]
    assert sorted((r.period, r.count) for r in rows(app)) == [(60, 2), (3600, 2)]


def test_concurrent_failures_never_pass_more_than_the_limit(limited):  # type: ignore[no-untyped-def]
    """Twelve workers' threads fail at once against a limit of 3: exactly 3 get to try a password."""
    apps = [limited(), limited(), limited()]
    victim = patient(apps[0])
    statuses: list[int] = []
    guard = threading.Lock()
    start = threading.Barrier(12)

    def attempt(n: int) -> None:
        start.wait(timeout=30)
        status = login(apps[n % 3], victim, "wrong", address=f"10.2.0.{n}").status_code
        with guard:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [422] * 3 + [429] * 9
    assert [r.count for r in rows(apps[0])] == [3]


def test_reset_emails_per_account_hold_across_apps(limited):  # type: ignore[no-untyped-def]
    first, second = limited(), limited()

    def ask(app, email: str):  # type: ignore[no-untyped-def]
        return app.test_client().post("/auth/reset", data={"email": email}, environ_base={"REMOTE_ADDR": "10.3.0.1"})

    assert [ask(app, "someone@example.test").status_code for app in (first, second, first)] == [303, 303, 429]
    assert ask(second, "someone.else@example.test").status_code == 303
    assert {r.scope for r in rows(first)} == {"password_resets_per_account"}


def test_a_lockout_is_a_security_event_naming_the_account_by_digest(limited, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="booking")
    app = limited()
    victim = patient(app)
    for _ in range(4):
        login(app, victim, "wrong")
    [event] = [r for r in caplog.records if getattr(r, "security_event", None) == "login_limited"]
    assert event.limit == "3 per hour" and event.account and victim not in event.account  # type: ignore[attr-defined]


def test_ended_windows_are_pruned_when_new_ones_begin(limited):  # type: ignore[no-untyped-def]
    app = limited()
    now = int(time.time())
    hour = [counts.Window(5, 3600)]
    with app.app_context():
        for n in range(3):
            assert isinstance(counts.take("login_failures_per_account", f"old{n}", hour, now - 7300), counts.Taken)
        assert len(rows(app)) == 3
        assert isinstance(counts.take("login_failures_per_account", "current", hour, now), counts.Taken)
    assert [r.account for r in rows(app)] == ["current"]


def test_the_switch_turns_the_account_limits_off_too(limited):  # type: ignore[no-untyped-def]
    app = limited(RATELIMIT_ENABLED=False)
    user = patient(app)
    assert all(login(app, user, "wrong").status_code == 422 for _ in range(5))
    assert login(app, user, DEFAULT_PASSWORD).status_code == 303 and rows(app) == []


def counts_by_row(app) -> dict[tuple[str, str, int, int], int]:  # type: ignore[no-untyped-def]
    return {(r.scope, r.account, r.period, r.window_start): r.count for r in rows(app)}


def test_a_handed_back_attempt_uncounts_only_its_own_account_limit_and_window(limited):  # type: ignore[no-untyped-def]
    """A success gives back its own attempt: not another account's, another limit's (same account), a
    window of another length starting at the same second, or the window before."""
    app = limited()
    hour = 3600 * (int(time.time()) // 3600)  # a second that starts a minute's window and an hour's alike
    minute, per_hour = [counts.Window(5, 60)], [counts.Window(5, 3600)]
    with app.app_context():
        mine = counts.take("login_failures_per_account", "mine", minute, hour)
        counts.take("login_failures_per_account", "other", minute, hour)
        counts.take("password_resets_per_account", "mine", minute, hour)
        counts.take("login_failures_per_account", "mine", per_hour, hour)
        counts.take("login_failures_per_account", "mine", minute, hour - 60)
        assert isinstance(mine, counts.Taken)
        counts.give_back(mine)
    assert counts_by_row(app) == {
        ("login_failures_per_account", "mine", 60, hour): 0,
        ("login_failures_per_account", "other", 60, hour): 1,
        ("password_resets_per_account", "mine", 60, hour): 1,
        ("login_failures_per_account", "mine", 3600, hour): 1,
        ("login_failures_per_account", "mine", 60, hour - 60): 1,
    }


def test_an_attempt_handed_back_twice_leaves_the_count_at_zero(limited):  # type: ignore[no-untyped-def]
    app = limited()
    now = int(time.time())
    with app.app_context():
        taken = counts.take("login_failures_per_account", "twice", [counts.Window(3, 3600)], now)
        assert isinstance(taken, counts.Taken)
        counts.give_back(taken)
        counts.give_back(taken)
    assert [r.count for r in rows(app)] == [0]
