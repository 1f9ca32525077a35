"""Crash safety: a gunicorn worker killed with SIGKILL in the middle of a burst of bookings leaves a
sound database behind.

A real gunicorn (four sync workers) serves a freshly migrated database; patients log in through the
real form (CSRF on) and book a few hot slots of two providers all at once, cancelling some of what they
get so the slots keep changing hands. Midway one worker is killed without warning: whatever it was
doing, a transaction included, simply stops. gunicorn starts another and the burst goes on. Afterwards,
with the server stopped:

* SQLite: `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` finds nothing;
* every appointment has its audit trail and every event its appointment, and the trail ends in the
  appointment's status;
* no provider has two time-holding (pending or approved) appointments that overlap;
* every booking and cancellation a client was told about is in the database (nothing acknowledged is
  lost), and at most the killed worker's one request is unaccounted for;
* no answer that reached a client was a 5xx.

It runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too (the `backend` fixture).
"""
from __future__ import annotations

import http.client
import importlib.util
import os
import random
import re
import secrets
import signal
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from bench.run import csrf_token as find_csrf_token  # the benchmark's reader of the login form
from booking.domain.roles import Role
from booking.domain.status import HOLDS_TIME, Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent
from tests.booking_helpers import everyday_provider, wall
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.gunicorn_helpers import HOST, Answer, Gunicorn, free_port, healthy, launch, send, stop

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds gunicorn's workers in /proc (Linux)")

WORKERS = 4
CLIENTS = 16
#: The kill comes after at least this long and this many answers, and the burst goes on for at least as
#: much again; on a slow machine each phase waits for its answers, up to PHASE_CAP seconds.
PHASE_SECONDS = 4.0
PHASE_ANSWERS = 40
PHASE_CAP = 20.0
CANCEL_SHARE = 0.5  # of the bookings a client gets, the share it cancels again at once
REQUEST_TIMEOUT = 30.0
#: The hot slots: two days, 09:00 to 12:30 every half hour, for each of the two providers.
DAYS_AHEAD = (2, 3)
HOURS = [(h, m) for h in range(9, 13) for m in (0, 30)]


# --- the server -----------------------------------------------------------------------------------


def server_env(database_url: str, port: int) -> dict[str, str]:
    """The caller's environment without its BOOKING_* settings, plus this database, a key and the address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env.update({
        "BOOKING_DATABASE_URL": database_url,
        "BOOKING_SECRET_KEY": secrets.token_urlsafe(32),
        "BOOKING_BASE_URL": f"http://{HOST}:{port}",
        "BOOKING_MAIL_SUPPRESS_SEND": "true",  # the outbox is delivered, but nothing leaves the machine
        "BOOKING_RATELIMIT_ENABLED": "false",  # sixteen logins from one address in a second are expected here
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[[str], Gunicorn]]:
    """Start gunicorn on a database URL; it is stopped (and its workers with it) after the test."""
    started: list[Gunicorn] = []

    def start(database_url: str) -> Gunicorn:
        if importlib.util.find_spec("gunicorn") is None:
            pytest.skip("gunicorn is not installed")
        port = free_port()
        # sync workers whatever gunicorn.conf.py says (threads > 1 would make them gthread)
        options = ["--workers", str(WORKERS), "--bind", f"{HOST}:{port}", "--timeout", "60", "--graceful-timeout", "5",
                   "--worker-class", "sync", "--threads", "1"]
        server = launch(options, server_env(database_url, port), port, tmp_path / "gunicorn.log")
        started.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.skip(f"gunicorn could not start (exit {server.process.returncode}):\n{server.log_tail()}")
            if len(server.workers()) == WORKERS and healthy(port):
                return server
            time.sleep(0.2)
        pytest.skip(f"gunicorn did not become healthy within 30 s:\n{server.log_tail()}")

    yield start
    for server in started:
        stop(server)


def csrf_token(body: str) -> str:
    token = find_csrf_token(body)
    assert token, "no csrf_token input on the page"
    return token


def logged_in(port: int, email: str) -> tuple[dict[str, str], str]:
    """Log in through the form; return the session's cookies and a CSRF token valid for it."""
    page = send(port, "GET", "/auth/login", timeout=REQUEST_TIMEOUT)
    cookies = dict(page.cookies)
    answer = send(port, "POST", "/auth/login", cookies,
                  {"email": email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_token(page.body)}, REQUEST_TIMEOUT)
    assert answer.status == 303, f"login of {email} answered {answer.status}"
    cookies.update(answer.cookies)
    home = send(port, "GET", "/book/", cookies, timeout=REQUEST_TIMEOUT)  # a login starts a fresh session and token
    assert home.status == 200, f"/book/ answered {home.status}"
    cookies.update(home.cookies)
    return cookies, csrf_token(home.body)


# --- the burst ------------------------------------------------------------------------------------


@dataclass
class Target:
    provider_id: int
    service_id: int


@dataclass
class Outcome:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (kind, HTTP status)
    lost: list[tuple[str, float, str]] = field(default_factory=list)  # (kind, when, error)
    booked: set[int] = field(default_factory=set)  # acknowledged with 303
    cancelled: set[int] = field(default_factory=set)  # acknowledged with 303
    failures: list[str] = field(default_factory=list)  # anything else that went wrong in a client
    guard: threading.Lock = field(default_factory=threading.Lock)


APPOINTMENT_URL = re.compile(r"/me/appointments/(\d+)$")


def patient_loop(port: int, email: str, targets: list[Target], start: threading.Barrier, until: list[float],
                 outcome: Outcome, seed: int) -> None:
    rng = random.Random(seed)
    try:
        cookies, token = logged_in(port, email)
        start.wait(timeout=120)
        while time.monotonic() < until[0]:
            target = rng.choice(targets)
            day, (hh, mm) = rng.choice(DAYS_AHEAD), rng.choice(HOURS)
            form = {"service_id": str(target.service_id), "start": wall(day, hh, mm), "csrf_token": token}
            answer = _attempt(outcome, "book", lambda: send(port, "POST", f"/book/{target.provider_id}", cookies, form, REQUEST_TIMEOUT))
            if answer is None or answer.status != 303:
                continue
            booked = APPOINTMENT_URL.search(urllib.parse.urlsplit(answer.location).path)
            if booked is None:
                raise AssertionError(f"a booking redirected to {answer.location!r}")
            appointment_id = int(booked.group(1))
            with outcome.guard:
                outcome.booked.add(appointment_id)
            if rng.random() < CANCEL_SHARE:
                path = f"/me/appointments/{appointment_id}/cancel"
                answer = _attempt(outcome, "cancel", lambda: send(port, "POST", path, cookies, {"csrf_token": token}, REQUEST_TIMEOUT))
                if answer is not None and answer.status == 303:
                    with outcome.guard:
                        outcome.cancelled.add(appointment_id)
    except BaseException as error:  # noqa: BLE001 - reported by the test, not lost in a thread
        with outcome.guard:
            outcome.failures.append(f"{email}: {error!r}")
        start.abort()


def _attempt(outcome: Outcome, kind: str, call: Callable[[], Answer]) -> Answer | None:
    """Send; count the status, or the connection-level failure a killed worker causes."""
    try:
        answer = call()
    except (OSError, http.client.HTTPException) as error:
        with outcome.guard:
            outcome.lost.append((kind, time.monotonic(), repr(error)))
        return None
    with outcome.guard:
        outcome.statuses[(kind, answer.status)] += 1
    return answer


# --- the checks -----------------------------------------------------------------------------------


def overlaps(rows: list[tuple[int, int, datetime, datetime]]) -> list[tuple[int, int]]:
    """Pairs of time-holding appointments of one provider that overlap: (id, id)."""
    found = []
    by_provider: dict[int, list[tuple[datetime, datetime, int]]] = {}
    for appointment_id, provider_id, start, end in rows:
        by_provider.setdefault(provider_id, []).append((start, end, appointment_id))
    for items in by_provider.values():
        items.sort()
        latest_end, latest_id = None, None
        for start, end, appointment_id in items:
            if latest_end is not None and start < latest_end:
                found.append((latest_id, appointment_id))
            if latest_end is None or end > latest_end:
                latest_end, latest_id = end, appointment_id
    return found


def test_overlap_finder_sees_overlaps_and_touching_is_fine() -> None:
    t = datetime(2030, 1, 7, 9, tzinfo=timezone.utc)
    half = timedelta(minutes=30)
    assert overlaps([(1, 1, t, t + half), (2, 1, t + half, t + 2 * half), (3, 2, t, t + half)]) == []
    assert overlaps([(1, 1, t, t + 4 * half), (2, 1, t + half, t + 2 * half), (3, 1, t + 3 * half, t + 5 * half)]) \
        == [(1, 2), (1, 3)]


def database_problems(app: Flask) -> list[str]:
    """Everything wrong with the database after the crash, in words; empty when it is sound."""
    problems: list[str] = []
    with app.app_context():
        session = db.session
        if db.engine.dialect.name == "sqlite":
            integrity = [row[0] for row in session.execute(sa.text("PRAGMA integrity_check"))]
            if integrity != ["ok"]:
                problems.append(f"PRAGMA integrity_check: {integrity}")
            foreign = session.execute(sa.text("PRAGMA foreign_key_check")).all()
            if foreign:
                problems.append(f"PRAGMA foreign_key_check: {foreign}")
        without_events = session.scalars(sa.select(Appointment.id).where(
            ~sa.exists().where(AppointmentEvent.appointment_id == Appointment.id))).all()
        if without_events:
            problems.append(f"appointments without events: {without_events}")
        orphans = session.scalars(sa.select(AppointmentEvent.id).where(
            ~sa.exists().where(Appointment.id == AppointmentEvent.appointment_id))).all()
        if orphans:
            problems.append(f"events without their appointment: {orphans}")
        last_status: dict[int, str] = {}
        for appointment_id, to_status in session.execute(
            sa.select(AppointmentEvent.appointment_id, AppointmentEvent.to_status)
            .where(AppointmentEvent.to_status.is_not(None)).order_by(AppointmentEvent.id)
        ):
            last_status[appointment_id] = to_status
        disagree = [(i, s, last_status.get(i)) for i, s in session.execute(sa.select(Appointment.id, Appointment.status))
                    if last_status.get(i) != s]
        if disagree:
            problems.append(f"status and audit trail disagree (id, status, last event): {disagree}")
        holding = session.execute(
            sa.select(Appointment.id, Appointment.provider_id, Appointment.start_at, Appointment.end_at)
            .where(Appointment.status.in_([s.value for s in HOLDS_TIME]))
        ).all()
        double = overlaps([tuple(row) for row in holding])  # type: ignore[misc]
        if double:
            problems.append(f"double bookings (appointment ids): {double}")
        session.remove()
    return problems


def stored(app: Flask) -> dict[int, str]:
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Appointment.id, Appointment.status)).all())
        db.session.remove()
    return statuses  # type: ignore[return-value]


# --- the test -------------------------------------------------------------------------------------


def run_phase(outcome: Outcome, answered_before: int) -> int:
    """Let the burst run PHASE_SECONDS and PHASE_ANSWERS more answers (at most PHASE_CAP s); the total."""
    began = time.monotonic()
    while True:
        with outcome.guard:
            answered = sum(outcome.statuses.values())
        elapsed = time.monotonic() - began
        if (elapsed >= PHASE_SECONDS and answered - answered_before >= PHASE_ANSWERS) or elapsed >= PHASE_CAP:
            return answered
        time.sleep(0.05)


def test_a_worker_killed_mid_burst_leaves_a_sound_database(
    make_app: Callable[..., Flask], gunicorn: Callable[[str], Gunicorn]
) -> None:
    began = time.monotonic()
    app = make_app()
    with app.app_context():
        waits = everyday_provider()  # its service needs approval: requests wait as pending
        instant = everyday_provider()
        instant.services[0].auto_approve = True  # its service approves itself
        db.session.commit()
        targets = [Target(p.id, p.services[0].id) for p in (waits, instant)]
        emails = [make_user(Role.PATIENT).email for _ in range(CLIENTS)]
        database_url = app.config["DATABASE_URL"]
        db.session.remove()
        db.engine.dispose()  # the server is the only one writing from here on

    server = gunicorn(database_url)
    outcome = Outcome()
    start = threading.Barrier(CLIENTS + 1)
    until = [float("inf")]  # when the clients stop; set by this thread
    clients = [
        threading.Thread(target=patient_loop, args=(server.port, email, targets, start, until, outcome, n), daemon=True)
        for n, email in enumerate(emails)
    ]
    for client in clients:
        client.start()
    try:
        try:
            start.wait(timeout=120)  # everyone is logged in
        except threading.BrokenBarrierError:
            pytest.fail(f"a client failed before the burst: {outcome.failures}\n{server.log_tail()}")
        answered_before_kill = run_phase(outcome, 0)
        before = server.workers()
        assert len(before) == WORKERS, f"expected {WORKERS} workers, found {sorted(before)}"
        busy: set[int] = set()
        for _ in range(200):  # kill one that is in the middle of a request, as a crash would find it
            busy = server.busy_workers()
            if busy:
                break
            time.sleep(0.005)
        victim = random.choice(sorted(busy or before))
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        answered_after_kill = run_phase(outcome, answered_before_kill) - answered_before_kill
    finally:
        until[0] = 0.0
        for client in clients:
            client.join(timeout=REQUEST_TIMEOUT + 30)
    assert not any(c.is_alive() for c in clients), "a client hung"

    after = server.workers()
    assert victim not in after and len(after) == WORKERS, (
        f"gunicorn did not replace the killed worker {victim}: {sorted(after)}\n{server.log_tail()}")
    assert healthy(server.port), f"the server does not answer after the kill:\n{server.log_tail()}"
    log_tail = server.log_tail()
    stop(server)
    assert server.process.returncode is not None, "gunicorn did not stop"

    summary = (f"worker {victim} killed {'in the middle of a request' if victim in busy else 'between requests'}; "
               f"{sum(outcome.statuses.values())} answers {dict(outcome.statuses)}, "
               f"{len(outcome.lost)} lost {outcome.lost}, {len(outcome.booked)} booked, "
               f"{len(outcome.cancelled)} cancelled, {time.monotonic() - began:.1f} s")
    print(summary)  # shown with -s or -rP: what the burst saw
    assert not outcome.failures, f"clients failed: {outcome.failures}\n{log_tail}"
    assert database_problems(app) == [], summary

    fivexx = {key: n for key, n in outcome.statuses.items() if key[1] >= 500}
    assert not fivexx, f"5xx answers {fivexx}\n{log_tail}"
    unexpected = {key: n for key, n in outcome.statuses.items()
                  if key not in {("book", 303), ("book", 409), ("cancel", 303)}}
    assert not unexpected, f"unexpected answers {unexpected} ({summary})\n{log_tail}"
    assert outcome.statuses[("book", 303)] >= 10, f"the burst booked too little to mean anything: {summary}"
    assert answered_after_kill >= 10, f"the server hardly answered after the kill: {summary}"

    # A sync worker holds one request at a time: the kill can cost that one, nothing before it.
    assert len(outcome.lost) <= 1, summary
    assert all(when >= killed_at for _, when, _ in outcome.lost), summary

    statuses = stored(app)
    missing = outcome.booked - statuses.keys()
    assert not missing, f"acknowledged bookings missing from the database: {sorted(missing)}"
    not_cancelled = sorted(i for i in outcome.cancelled if statuses[i] != Status.CANCELLED.value)
    assert not not_cancelled, f"acknowledged cancellations not stored: {not_cancelled}"
    unacknowledged = statuses.keys() - outcome.booked
    assert len(unacknowledged) <= len(outcome.lost), (
        f"appointments no client was told of: {sorted(unacknowledged)} ({summary})")
