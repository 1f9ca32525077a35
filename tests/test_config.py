"""The factory: separate apps, configuration precedence, and refusing to start without a secret."""
from __future__ import annotations

import subprocess
import sys

import pytest

from booking import create_app
from booking.config import database_uri


def test_apps_built_with_different_configs_are_separate(tmp_path):  # type: ignore[no-untyped-def]
    first = create_app({"TESTING": True, "CLINIC_NAME": "North", "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite"})
    second = create_app({"TESTING": True, "CLINIC_NAME": "South", "DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite"})
    assert first is not second
    assert (first.config["CLINIC_NAME"], second.config["CLINIC_NAME"]) == ("North", "South")
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]
    assert first.testing and second.testing


def test_a_missing_secret_key_stops_start_up(tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="BOOKING_SECRET_KEY is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_a_missing_secret_key_stops_the_command_line_with_a_clear_message(tmp_path):  # type: ignore[no-untyped-def]
    """As an operator sees it: `flask` exits non-zero and says what to set."""
    code = (
        "from booking import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/y.sqlite'}})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "BOOKING_SECRET_KEY" in result.stderr


def test_development_and_testing_run_without_a_secret(tmp_path):  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/z.sqlite"})
    assert app.config["SECRET_KEY"]


def test_environment_variables_configure_the_app(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOOKING_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("BOOKING_CLINIC_NAME", "Env Clinic")
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    monkeypatch.setenv("BOOKING_MAIL_PORT", "2525")
    monkeypatch.setenv("BOOKING_BASE_URL", "https://booking.env.example/")
    app = create_app()
    assert app.config["BASE_URL"] == "https://booking.env.example"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["CLINIC_NAME"] == "Env Clinic"
    assert app.config["MAIL_PORT"] == 2525  # JSON-parsed, as Flask-Mail needs
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("postgresql://u:p@db.internal/booking", "postgresql+psycopg://u:p@db.internal/booking"),
        ("postgres://u@db/booking", "postgresql+psycopg://u@db/booking"),
        ("postgresql+psycopg://u@db/booking", "postgresql+psycopg://u@db/booking"),
        ("sqlite:////srv/booking.sqlite", "sqlite:////srv/booking.sqlite"),
        (None, "sqlite:////instance/booking.sqlite"),
        ("", "sqlite:////instance/booking.sqlite"),
    ],
)
def test_database_urls(configured, expected):  # type: ignore[no-untyped-def]
    assert database_uri(configured, "/instance") == expected


@pytest.mark.parametrize(
    ("currency", "cents", "shown"),
    [("GBP", 4500, "£45.00"), ("EUR", 123456, "€1,234.56"), ("CHF", 990, "9.90 CHF"), ("GBP", None, "")],
)
def test_prices_are_shown_in_the_clinic_currency(tmp_path, currency, cents, shown):  # type: ignore[no-untyped-def]
    from booking.views import money

    app = create_app({"TESTING": True, "CURRENCY": currency, "DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite"})
    with app.app_context():
        assert money(cents) == shown


@pytest.mark.parametrize(
    ("name", "letters"), [("Dr Amelia Hart", "AH"), ("Sofia Lindqvist", "SL"), ("Cher", "C"), ("Prof. Ada B. Lovelace", "AL")]
)
def test_initials(name, letters):  # type: ignore[no-untyped-def]
    from booking.views import initials

    assert initials(name) == letters


def test_healthz_says_unavailable_when_the_database_is_not_there(tmp_path, caplog):  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/missing-folder/x.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert "did not answer" in caplog.text
