"""Logs: a request id on every response and log line, JSON lines, security events, no secrets."""
from __future__ import annotations

import json
import logging
import re

import pytest

from booking.domain.roles import Role
from booking.logs import JsonFormatter
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.suite_log import LOG, SECRETS, remember_secret

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}")


@pytest.fixture
def records(caplog):  # type: ignore[no-untyped-def]
    """The JSON lines the app wrote during the test, parsed."""
    caplog.set_level(logging.INFO, logger="booking")
    formatter = JsonFormatter()
    return lambda: [json.loads(formatter.format(r)) for r in caplog.records if r.name.startswith("booking")]


def test_every_response_has_a_request_id_and_a_caller_may_bring_one(client):  # type: ignore[no-untyped-def]
    first, second = client.get("/auth/login"), client.get("/auth/login")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"}).headers["X-Request-ID"] == "edge-1234abcd"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_a_request_line_has_the_id_user_route_and_outcome(app, client, records):  # type: ignore[no-untyped-def]
    user = make_user(Role.PATIENT)
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    response = client.get("/me/appointments?q=private+search")
    [line] = [r for r in records() if r["message"] == "request" and r["path"] == "/me/appointments"]
    assert line["request_id"] == response.headers["X-Request-ID"] and line["user_id"] == user.id
    assert (line["status"], line["method"], line["route"]) == (200, "GET", "/me/appointments")
    assert line["duration_ms"] >= 0 and "private" not in json.dumps(line)  # no query strings


def test_secret_parts_of_paths_are_redacted(client, records):  # type: ignore[no-untyped-def]
    token = remember_secret("a" * 20 + ".b" * 3 + "c" * 30)
    client.get(f"/auth/reset/{token}")
    client.get(f"/calendar/{token}.ics")
    lines = [r for r in records() if r["message"] == "request"]
    assert {r["path"] for r in lines} == {"/auth/reset/[redacted]", "/calendar/[redacted].ics"}
    assert token not in json.dumps(lines)


def test_security_events_are_logged_without_secrets(app, client, records):  # type: ignore[no-untyped-def]
    user = make_user(Role.PATIENT)
    client.post("/auth/login", data={"email": user.email, "password": "wrong password"})
    client.post("/auth/login", data={"email": "my secret passphrase", "password": "x"})  # typed in the wrong box
    client.post("/auth/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    client.get("/admin/appointments")  # a patient where only admins may go
    events = {r["security_event"]: r for r in records() if "security_event" in r}
    assert events["login_succeeded"]["user_id"] == user.id
    assert events["login_failed"]["level"] == "warning" and len(events["login_failed"]["account"]) == 16
    assert events["access_denied"]["endpoint"] == "admin.appointments" and events["access_denied"]["user_id"] == user.id
    text = json.dumps(list(events.values()))
    assert "wrong password" not in text and DEFAULT_PASSWORD not in text and "my secret passphrase" not in text


def test_csrf_failures_and_lockouts_are_security_events(make_app, records):  # type: ignore[no-untyped-def]
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    csrf_app.test_client().post("/auth/login", data={"email": "x@example.com", "password": "y"})
    locking_app = make_app(RATELIMIT_ENABLED=True, LOGIN_FAILURES_PER_ADDRESS="1 per minute",
                           RATELIMIT_KEY_PREFIX="logs-test")
    for _ in range(2):
        locking_app.test_client().post("/auth/login", data={"email": "x@example.com", "password": "y"},
                                       environ_base={"REMOTE_ADDR": "10.1.1.1"})
    names = [r["security_event"] for r in records() if "security_event" in r]
    assert "csrf_failed" in names and "login_limited" in names


def test_the_suite_logged_no_password_or_token():  # type: ignore[no-untyped-def]
    """Runs last (see tests/suite_log.py): every line the app logged during the whole run."""
    text = LOG.getvalue()
    assert text.count("\n") > 10, "the suite's log capture is not working"
    leaked = sorted(secret for secret in SECRETS if secret and secret in text)
    assert leaked == []
    assert TOKEN_SHAPE.findall(text) == []


@pytest.mark.parametrize("method, path", [
    ("PUT", "/auth/reset/{token}"), ("DELETE", "/calendar/{token}.ics"), ("GET", "/auth/verify/{token}/more"),
    ("POST", "/auth/verify/{token}"),
])
def test_tokens_are_redacted_even_when_the_request_never_reached_its_view(client, records, method, path):  # type: ignore[no-untyped-def]
    token = remember_secret("eyJpZCI6MX0.awJfMQ.oDLlY9Bxw2hNZXLuSKlnrcByyj8")
    client.open(path.format(token=token), method=method)
    lines = [r for r in records() if r["message"] == "request"]
    assert lines and token not in json.dumps(lines) and "[redacted]" in lines[-1]["path"]
