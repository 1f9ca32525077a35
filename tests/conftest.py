"""Fixtures: apps on a freshly migrated database, on SQLite always and on PostgreSQL when
TEST_DATABASE_URL is set. Every test that takes `app` (or `client`, `db_session`...) runs once per
backend: one parametrized fixture, not a copy of the tests."""
from __future__ import annotations

import contextvars
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from booking import create_app
from booking.extensions import db

from tests.factories import DEFAULT_PASSWORD

pytest_plugins = ["tests.booking_helpers", "tests.mailbox", "tests.suite_log", "tests.live"]  # their fixtures, for every module

PG_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"
BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "BASE_URL": "http://localhost",  # the test client's own host: links in mail lead back to it
    "WTF_CSRF_ENABLED": False,
    "MAIL_SUPPRESS_SEND": True,
    "SQLITE_BUSY_TIMEOUT_MS": 30_000,
    # The test client speaks plain http; test_security_headers checks the production defaults.
    "RATELIMIT_ENABLED": False,  # test_rate_limits switches it on
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id at a test cost: the production cost (about 0.2 s a hash, on purpose) would spend most of
    the suite on logins. Same algorithm, same rules, same code paths; only the work factor differs."""
    from argon2 import PasswordHasher

    from booking.services import passwords

    saved = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("not-a-real-password-just-equal-work")
    yield
    passwords._hasher, passwords._DUMMY_HASH = saved


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run must not be skipped")


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own context, as it would in production.

    Tests keep an app context pushed (for factories and queries); without this, requests would join it
    and share `g` (so Flask-Login's cached user) and the database session with the test and each other.
    """

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def,override]
        kwargs.setdefault("buffered", True)  # a streamed body is read inside the request's own context
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **overrides})
    app.test_client_class = IsolatedClient
    return app


def migrate_to_head(database_url: str) -> None:
    from flask_migrate import upgrade

    app = build_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


class Backend:
    """A migrated database per test: SQLite copies a migrated template file; PostgreSQL truncates."""

    def __init__(self, name: str, template_dir: Path) -> None:
        self.name = name
        self.template = template_dir / "template.sqlite"
        if name == "sqlite":
            migrate_to_head(f"sqlite:///{self.template}")
        else:
            assert PG_URL
            reset_postgres_schema(PG_URL)
            migrate_to_head(PG_URL)

    def url(self, tmp_path: Path) -> str:
        if self.name == "sqlite":
            target = tmp_path / "test.sqlite"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        assert PG_URL
        return PG_URL

    def clean(self, app: Flask) -> None:
        with app.app_context():
            db.session.remove()
            if self.name == "postgresql":
                tables = ", ".join(t.name for t in db.metadata.sorted_tables)
                with db.engine.begin() as connection:
                    connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.engine.dispose()


def reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(_psycopg(url))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _psycopg(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    return Backend(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))


@pytest.fixture
def make_app(backend: Backend, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's clean database; config overrides as keyword arguments."""
    url = backend.url(tmp_path)
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = build_app(url, **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps:
        backend.clean(apps[0])


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = DEFAULT_PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
        return self.client.post("/auth/login", data={"email": email, "password": password, **extra})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


HTMX = {"HX-Request": "true"}
