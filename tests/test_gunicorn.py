"""The shipped gunicorn.conf.py under a real gunicorn: it serves, a slow client does not stop others
being served, several workers counting rate limits in memory are refused, and the per-account login
limit holds exactly across two workers, a SIGKILL of both and a restart of the whole server, on SQLite
and on PostgreSQL (the `backend` fixture).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from bench.run import csrf_token
from booking.domain.roles import Role
from booking.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.gunicorn_helpers import HOST, ROOT, Answer, Gunicorn, free_port, healthy, launch, send, stop

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(),
                                reason="finds gunicorn's workers in /proc (Linux)")

CONFIG = ROOT / "gunicorn.conf.py"
REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL and os.environ.get("CI") != "true", reason="TEST_REDIS_URL is not set")
ACCESS_FORMAT = "%(p)s %(m)s %(U)s %(s)s"  # worker pid, method, path, status


@dataclass
class Server:
    """Settings kept across restarts (the same key, so the same account digests), and what runs now."""

    env: dict[str, str]
    folder: Path
    port: int = 0
    gunicorn: Gunicorn | None = None
    starts: int = 0
    access_logs: list[Path] = field(default_factory=list)

    def start(self, workers: int | None = None, expect_exit: bool = False) -> Gunicorn:
        self.starts += 1
        self.port = free_port()
        log = self.folder / f"gunicorn-{self.starts}.log"
        access = self.folder / f"access-{self.starts}.log"
        self.access_logs.append(access)
        env = {**self.env, "GUNICORN_BIND": f"{HOST}:{self.port}", "BOOKING_BASE_URL": f"http://{HOST}:{self.port}"}
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        options = ["-c", str(CONFIG), "--access-logfile", str(access), "--access-logformat", ACCESS_FORMAT]
        self.gunicorn = launch(options, env, self.port, log)
        if expect_exit:
            try:
                self.gunicorn.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"gunicorn did not refuse to start:\n{self.gunicorn.log_tail()}")
            return self.gunicorn
        self.wait_until_serving(int(env.get("WEB_CONCURRENCY", "2")))
        return self.gunicorn

    def wait_until_serving(self, workers: int, other_than: frozenset[int] = frozenset()) -> set[int]:
        assert self.gunicorn is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.gunicorn.process.poll() is not None:
                pytest.fail(f"gunicorn exited ({self.gunicorn.process.returncode}):\n{self.gunicorn.log_tail()}")
            running = self.gunicorn.workers()
            if len(running) == workers and not running & other_than and healthy(self.port):
                return running
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not serve with {workers} workers within 60 s:\n{self.gunicorn.log_tail()}")

    def stop(self) -> None:
        if self.gunicorn is not None:
            stop(self.gunicorn)

    def answered_by(self, containing: str, count: int, timeout: float = 15) -> list[str]:
        """The access log lines of the current run (`pid method path status`) that contain `containing`,
        once there are `count` of them: a worker writes its line after the answer has gone out, so the
        client can be told before the log is."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.access_logs[-1]
            lines = [line for line in (log.read_text().splitlines() if log.exists() else []) if containing in line]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def build(database_url: str, **settings: str) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKING_", "GUNICORN_", "WEB_CONCURRENCY"))}
        env.update({
            "BOOKING_DATABASE_URL": database_url,
            "BOOKING_SECRET_KEY": secrets.token_urlsafe(32),
            "BOOKING_MAIL_SUPPRESS_SEND": "true",
            "BOOKING_SESSION_COOKIE_SECURE": "false",
            "PYTHONUNBUFFERED": "1",
            **{f"BOOKING_{name}": value for name, value in settings.items()},
        })
        env.pop("FLASK_DEBUG", None)
        made.append(Server(env, tmp_path))
        return made[-1]

    yield build
    for each in made:
        each.stop()


class LoginForm:
    """A browser at the login form: its session cookie and CSRF token, posted again and again."""

    def __init__(self, port: int) -> None:
        page = send(port, "GET", "/auth/login")
        assert page.status == 200, page.status
        self.port = port
        self.cookies = page.cookies
        token = csrf_token(page.body)
        assert token, "no CSRF token on the login page"
        self.token = token

    def post(self, email: str, password: str) -> Answer:
        return send(self.port, "POST", "/auth/login", self.cookies,
                    {"email": email, "password": password, "csrf_token": self.token})


def patients(app: Flask, count: int) -> list[str]:
    with app.app_context():
        emails = [make_user(Role.PATIENT).email for _ in range(count)]
        db.session.remove()
        db.engine.dispose()  # the servers are the only ones using the database from here on
    return emails


def fail_at_once(port: int, email: str, attempts: int) -> list[int]:
    statuses: list[int] = []
    guard = threading.Lock()
    start = threading.Barrier(attempts)

    def attempt() -> None:
        form = LoginForm(port)
        start.wait(timeout=60)
        status = form.post(email, "wrong password").status
        with guard:
            statuses.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


@needs_redis
def test_account_limit_holds_across_two_workers_kills_and_a_restart(make_app, server):  # type: ignore[no-untyped-def]
    """Six failures an hour per account. Two go to one worker while the other is stopped, two to the
    other; both workers are SIGKILLed; one more; the whole server restarts; the sixth. Then even the
    right password waits, and ten attempts at once on another account let exactly six through."""
    assert REDIS_URL, "CI must test the workers with the shared address storage: set TEST_REDIS_URL"
    app = make_app()
    victim, bystander, crowd = patients(app, 3)
    limits = server(app.config["DATABASE_URL"], RATELIMIT_STORAGE_URI=REDIS_URL,
                    RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}", LOGIN_FAILURES_PER_ACCOUNT="6 per hour",
                    LOGIN_FAILURES_PER_ADDRESS="1000 per hour")
    limits.start(workers=2)
    first, second = sorted(limits.wait_until_serving(2))
    form = LoginForm(limits.port)
    for serving, stopped in ((first, second), (second, first)):
        os.kill(stopped, signal.SIGSTOP)  # it cannot accept: the other worker answers
        try:
            assert [form.post(victim, "wrong password").status for _ in range(2)] == [422, 422]
        finally:
            os.kill(stopped, signal.SIGCONT)
    answered = [line.split() for line in limits.answered_by(" POST /auth/login ", count=4)]
    assert [int(pid.strip("<>")) for pid, *_ in answered] == [first, first, second, second], answered

    for pid in (first, second):
        os.kill(pid, signal.SIGKILL)
    limits.wait_until_serving(2, other_than=frozenset({first, second}))
    assert LoginForm(limits.port).post(victim, "wrong password").status == 422  # the fifth

    limits.stop()
    limits.start(workers=2)
    form = LoginForm(limits.port)
    assert form.post(victim, "wrong password").status == 422  # the sixth
    locked = form.post(victim, DEFAULT_PASSWORD)
    assert locked.status == 429 and 0 < int(locked.headers["Retry-After"]) <= 3600, locked.status
    assert form.post(victim, "wrong password").status == 429
    assert form.post(bystander, DEFAULT_PASSWORD).status == 303

    assert fail_at_once(limits.port, crowd, 10) == [422] * 6 + [429] * 4


def test_the_account_limit_survives_a_restart_without_redis(make_app, server):  # type: ignore[no-untyped-def]
    """One worker may count addresses in memory; the account's count is in the database all the same."""
    app = make_app()
    [victim] = patients(app, 1)
    limits = server(app.config["DATABASE_URL"], RATELIMIT_STORAGE_URI="memory://",
                    LOGIN_FAILURES_PER_ACCOUNT="3 per hour", LOGIN_FAILURES_PER_ADDRESS="1000 per hour")
    limits.start(workers=1)
    form = LoginForm(limits.port)
    assert [form.post(victim, "wrong password").status for _ in range(2)] == [422, 422]
    [worker] = limits.wait_until_serving(1)
    os.kill(worker, signal.SIGKILL)
    limits.wait_until_serving(1, other_than=frozenset({worker}))
    assert LoginForm(limits.port).post(victim, "wrong password").status == 422
    limits.stop()
    limits.start(workers=1)
    assert LoginForm(limits.port).post(victim, DEFAULT_PASSWORD).status == 429


def test_several_workers_counting_in_memory_are_refused_at_start(make_app, server):  # type: ignore[no-untyped-def]
    app = make_app()
    url = app.config["DATABASE_URL"]
    refused = server(url, RATELIMIT_STORAGE_URI="memory://").start(workers=2, expect_exit=True)
    assert refused.process.returncode != 0
    assert "Refusing to start" in refused.log_tail() and "BOOKING_RATELIMIT_STORAGE_URI" in refused.log_tail()
    assert healthy_once(server(url, RATELIMIT_STORAGE_URI="memory://").start(workers=1))
    assert healthy_once(server(url, RATELIMIT_ENABLED="false").start(workers=2))  # nothing to count


def test_in_development_workers_counting_in_memory_are_warned_about(make_app, server):  # type: ignore[no-untyped-def]
    app = make_app()
    development = server(app.config["DATABASE_URL"], RATELIMIT_STORAGE_URI="memory://", DEBUG="true")
    running = development.start(workers=2)
    assert healthy_once(running) and "would each count the rate limits" in running.log_tail(200)


def healthy_once(gunicorn: Gunicorn) -> bool:
    return healthy(gunicorn.port)


def test_the_shipped_config_serves_and_a_slow_client_holds_up_no_one(make_app, server):  # type: ignore[no-untyped-def]
    """One worker process. Two clients dribble, a byte now and then, one its headers and one its body
    (a slow phone, or slowloris), so no idle timeout ever ends them; meanwhile other requests must get
    their answers, before the slow ones have finished. A sync worker would serve the slow one first."""
    app = make_app()
    shipped = server(app.config["DATABASE_URL"], RATELIMIT_STORAGE_URI="memory://")
    running = shipped.start(workers=1)
    assert "Using worker: gthread" in running.log_tail(200)
    slow_headers = socket.create_connection((HOST, shipped.port), timeout=30)
    half_body = socket.create_connection((HOST, shipped.port), timeout=30)
    others: list[int] = []
    answered = threading.Event()

    def other_requests() -> None:
        others.extend(send(shipped.port, "GET", path).status for path in ("/healthz", "/auth/login", "/healthz"))
        answered.set()

    try:
        slow_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        half_body.sendall(b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=")
        sent = 6
        other = threading.Thread(target=other_requests, daemon=True)
        other.start()
        deadline = time.monotonic() + 30  # the most the slow clients dribble when nothing else is answered
        while not answered.is_set() and time.monotonic() < deadline and sent < 99:
            slow_headers.sendall(b"X-Slow: 1\r\n")
            half_body.sendall(b"a")
            sent += 1
            answered.wait(0.3)
        answered_while_slow_ones_were_open = answered.is_set()
        slow_headers.sendall(b"Connection: close\r\n\r\n")
        half_body.sendall(b"a" * (100 - sent))
        assert slow_headers.recv(64).startswith(b"HTTP/1.1 200"), "the slow client was not served in the end"
        assert half_body.recv(64).startswith(b"HTTP/1.1 "), "the half body was not answered in the end"
        other.join(timeout=60)
    finally:
        slow_headers.close()
        half_body.close()
    assert answered_while_slow_ones_were_open, f"other requests waited for the slow clients: {others}"
    assert others == [200, 200, 200]


def test_the_shipped_config_bounds_request_lines_headers_and_bodies(make_app, server):  # type: ignore[no-untyped-def]
    app = make_app()
    shipped = server(app.config["DATABASE_URL"], RATELIMIT_STORAGE_URI="memory://")
    shipped.start(workers=1)
    assert send(shipped.port, "GET", "/healthz?" + "q" * 5000).status in (400, 414)
    # A 10 MB field: the 413 reaches the client (the body is read and thrown away, not left unread).
    big = send(shipped.port, "POST", "/auth/login", form={"email": "a" * 10_000_000, "password": "x"})
    assert big.status == 413 and "Too much at once" in big.body
    with socket.create_connection((HOST, shipped.port), timeout=30) as many:
        many.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + b"".join(b"X-%d: 1\r\n" % n for n in range(150)) + b"Connection: close\r\n\r\n")
        assert many.recv(64).split()[1] in (b"400", b"431")
    assert healthy(shipped.port)
