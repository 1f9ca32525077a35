#!/usr/bin/env python3
"""Mixed load: patients browsing and booking, staff approving, admins filtering, all at once (see
bench/README.md, "Mixed load").

    .venv/bin/python bench/load.py [--postgres-url postgresql://postgres@127.0.0.1/booking_load]

For each database (SQLite in a temporary folder; PostgreSQL when a URL is given, whose `public` schema
is DROPPED and rebuilt): `flask db upgrade`, `flask seed-load`, an admin from `flask create-user`,
gunicorn with 4 workers on 127.0.0.1, /healthz with wrk as the yardstick, then virtual users that each
log in once through the real form and loop over their role's requests as fast as the server answers.
It reports requests, throughput, p50/p95/p99 latency and answers by status per endpoint group, then
checks the database: no provider has overlapping time-holding appointments, every appointment has its
audit trail. Exit 1 when any answer was a 5xx, a request failed at the connection, or a check failed.

The process helpers (environment, gunicorn, wrk, login form) are bench/run.py's.
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import run as harness  # bench/run.py, beside this file

ROOT = harness.ROOT
HOST = harness.HOST
PASSWORD = harness.PASSWORD
ADMIN_EMAIL = "load-admin@load.test"
USER_AGENT = "booking-load/1"
RESULTS_HEADING = "# Mixed load results"

#: Endpoint groups in report order, and the answers each may give besides 2xx/3xx without being an error:
#: a 409 is a lost race (someone else took the slot, or a patient's own rule) and is what the design
#: promises instead of a double booking.
GROUPS: dict[str, frozenset[int]] = {
    "patient: providers": frozenset(),
    "patient: calendar": frozenset(),
    "patient: slots": frozenset(),
    "patient: confirm": frozenset({409}),
    "patient: book": frozenset({409}),
    "staff: requests": frozenset(),
    "staff: approve": frozenset({409}),
    "admin: appointments": frozenset(),
    "admin: csv": frozenset(),
}
HOT_PROVIDERS = 10  # patients book mostly with these, and their staff are the ones approving
HOT_SHARE = 0.7
BOOK_SHARE = 0.25  # of a patient's slot lists, the share that goes on to book
SLOT_PICK = 4  # a patient books one of the first few free times, so patients collide
SLOT_RE = re.compile(r'data-slot-start="([^"]+)"')
APPOINTMENT_RE = re.compile(r'data-appointment-id="(\d+)"')


# --- the clinic the users see -----------------------------------------------------------------------


@dataclass
class Clinic:
    providers: list[int]
    services: dict[int, list[int]]  # provider -> its services
    staff_email: dict[int, str]  # provider -> its staff account
    specialties: list[int]
    patients: int
    days: list[date]  # working days in the coming week
    today: date
    zone: str

    @property
    def hot(self) -> list[int]:
        return self.providers[:HOT_PROVIDERS]


def engine_for(url: str) -> sa.Engine:
    from booking.config import database_uri

    return sa.create_engine(database_uri(url, str(ROOT / "instance")))


def read_clinic(url: str, patients: int) -> Clinic:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT p.id, u.email, p.timezone FROM providers p JOIN users u ON u.id = p.user_id "
                "WHERE u.email LIKE 'load-staff%' ORDER BY p.id")).all()
            if not rows:
                raise harness.BenchError("no load providers: did seed-load run?")
            services: dict[int, list[int]] = {}
            for provider_id, service_id in conn.execute(sa.text(
                    "SELECT provider_id, service_id FROM provider_services ORDER BY provider_id, service_id")):
                services.setdefault(provider_id, []).append(service_id)
            specialties = list(conn.scalars(sa.text("SELECT id FROM specialties ORDER BY id")))
    finally:
        engine.dispose()
    zone = rows[0][2]
    today = datetime.now(ZoneInfo(zone)).date()
    days = [today + timedelta(days=n) for n in range(1, 8) if (today + timedelta(days=n)).weekday() < 5]
    return Clinic(providers=[r[0] for r in rows], services=services, staff_email={r[0]: r[1] for r in rows},
                  specialties=specialties, patients=patients, days=days, today=today, zone=zone)


# --- measuring ------------------------------------------------------------------------------------------


@dataclass
class Group:
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # connection-level, by exception type

    def merge(self, other: Group) -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.failures.update(other.failures)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())


@dataclass
class Window:
    """Requests that start inside [start, end) are counted; before it is warm-up, after it the users stop."""

    start: float = float("inf")
    end: float = float("inf")


@dataclass
class Answer:
    status: int
    body: str


class StopUser(Exception):
    """The measurement is over: a user leaves its loop."""


class VirtualUser(threading.Thread):
    """One person with one session, doing their role's requests one after the other, with no pause."""

    def __init__(self, port: int, email: str, clinic: Clinic, window: Window, ready: threading.Barrier, seed: int):
        super().__init__(daemon=True, name=email)
        self.port, self.email, self.clinic, self.window, self.ready = port, email, clinic, window, ready
        self.rng = random.Random(seed)
        self.groups: dict[str, Group] = {name: Group() for name in GROUPS}
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.error: BaseException | None = None

    home = "/"

    def run(self) -> None:
        try:
            self.cookies, self.token = log_in(self.port, self.email, self.home)
            self.ready.wait(timeout=300)
            while time.monotonic() < self.window.end:
                self.step()
        except StopUser:
            pass
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.error = error
            self.ready.abort()

    def step(self) -> None:
        raise NotImplementedError

    def send(self, group: str, method: str, path: str, form: dict[str, str] | None = None,
             htmx_target: str | None = None, htmx: bool = False) -> Answer | None:
        """One request, timed and counted when it starts inside the window; None when it failed at the
        connection."""
        began = time.monotonic()
        if began >= self.window.end:
            raise StopUser
        headers = {"User-Agent": USER_AGENT, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if htmx or htmx_target:
            headers["HX-Request"] = "true"
        if htmx_target:
            headers["HX-Target"] = htmx_target
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        counted = began >= self.window.start
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            if counted:
                self.groups[group].failures[type(error).__name__] += 1
            return None
        finally:
            connection.close()
        if counted:
            self.groups[group].latencies.append(time.monotonic() - began)
            self.groups[group].statuses[response.status] += 1
        return Answer(response.status, text)


class Patient(VirtualUser):
    home = "/book/"

    def step(self) -> None:
        clinic, rng = self.clinic, self.rng
        if rng.random() < 0.3:
            query = rng.choice([
                "", f"?specialty={rng.choice(clinic.specialties)}", "?q=Dr", f"?q={rng.choice('aeiou')}",
                f"?service={rng.choice(clinic.services[rng.choice(clinic.providers)])}", "?page=2",
            ])
            self.send("patient: providers", "GET", f"/book/{query}")
        provider = rng.choice(clinic.hot) if rng.random() < HOT_SHARE else rng.choice(clinic.providers)
        service = rng.choice(clinic.services[provider])
        day = rng.choice(clinic.days)
        if rng.random() < 0.5:
            self.send("patient: calendar", "GET", f"/book/{provider}?service={service}&month={day:%Y-%m}")
        slots = self.send("patient: slots", "GET", f"/book/{provider}/slots?service={service}&date={day:%Y-%m-%d}",
                          htmx_target="slots")
        if slots is None or slots.status != 200 or rng.random() >= BOOK_SHARE:
            return
        starts = SLOT_RE.findall(slots.body)
        if not starts:
            return
        start = rng.choice(starts[:SLOT_PICK])
        self.send("patient: confirm", "GET", f"/book/{provider}/confirm?service={service}&start={start}",
                  htmx_target="slots")
        self.send("patient: book", "POST", f"/book/{provider}", {"service_id": str(service), "start": start},
                  htmx_target="slots")


class Staff(VirtualUser):
    home = "/staff/requests"

    def step(self) -> None:
        queue = self.send("staff: requests", "GET", "/staff/requests")
        if queue is None or queue.status != 200:
            return
        waiting = APPOINTMENT_RE.findall(queue.body)
        for appointment_id in self.rng.sample(waiting, min(2, len(waiting))):
            self.send("staff: approve", "POST", f"/staff/appointments/{appointment_id}/approve", {}, htmx=True)


class Admin(VirtualUser):
    home = "/admin/appointments"

    def step(self) -> None:
        clinic, rng = self.clinic, self.rng
        filters: dict[str, str] = {}
        if rng.random() < 0.5:
            filters["status"] = rng.choice(["pending", "approved", "completed", "cancelled", "no_show", "rejected"])
        if rng.random() < 0.4:
            filters["provider"] = str(rng.choice(clinic.providers))
        if rng.random() < 0.3:
            filters["q"] = rng.choice([f"load-patient{rng.randint(1, clinic.patients)}@", "Smith", "+44 7700 0001"])
        if rng.random() < 0.5:
            first = clinic.today + timedelta(days=rng.randint(-60, 50))
            filters["date_from"] = first.isoformat()
            filters["date_to"] = (first + timedelta(days=rng.choice([1, 7, 30]))).isoformat()
        if rng.random() < 0.2:
            filters["page"] = str(rng.randint(2, 5))
        query = urllib.parse.urlencode(filters)
        # The first look is the page; changing a filter swaps the table (htmx), as in the browser.
        self.send("admin: appointments", "GET", f"/admin/appointments?{query}",
                  htmx_target="appointment-table" if rng.random() < 0.7 else None)
        if rng.random() < 0.15:
            first = clinic.today + timedelta(days=rng.randint(-60, 30))
            export = urllib.parse.urlencode({"provider": rng.choice(clinic.providers), "date_from": first.isoformat(),
                                             "date_to": (first + timedelta(days=30)).isoformat()})
            self.send("admin: csv", "GET", f"/admin/appointments.csv?{export}")


def log_in(port: int, email: str, home: str) -> tuple[dict[str, str], str]:
    """Through the real form (bench/run.py's client); then the role's home page gives the session's token."""
    base = f"http://{HOST}:{port}"
    page = harness.http(f"{base}/auth/login")
    token = csrf_token(page.body, "/auth/login")
    cookies = page.cookies()
    answer = harness.http(f"{base}/auth/login", cookies=cookies,
                          form={"csrf_token": token, "email": email, "password": PASSWORD})
    if answer.status not in (302, 303):
        raise harness.BenchError(f"logging in as {email} answered {answer.status}")
    cookies.update(answer.cookies())
    landing = harness.http(f"{base}{home}", cookies=cookies)  # login starts a fresh session: a fresh token
    if landing.status != 200:
        raise harness.BenchError(f"{email}: GET {home} answered {landing.status}")
    cookies.update(landing.cookies())
    return cookies, csrf_token(landing.body, home)


def csrf_token(body: str, where: str) -> str:
    token = harness.csrf_token(body)
    if not token:
        raise harness.BenchError(f"{where} has no csrf_token hidden input")
    return token


# --- one database ---------------------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    seed_seconds: float
    duration: float
    healthz: tuple[harness.Measurement, harness.Measurement]  # before and after the mix
    groups: dict[str, Group]
    client_cpu: float  # the load generator's own CPU seconds per second of the window
    booked: int
    approved: int
    problems: list[str]
    tracebacks: int


def cast(clinic: Clinic, args: argparse.Namespace) -> list[tuple[type[VirtualUser], str]]:
    """Who takes part: each virtual user's role and account (distinct patients, the hot providers' staff)."""
    spread = max(clinic.patients // args.patient_users, 1)
    people: list[tuple[type[VirtualUser], str]] = [
        (Patient, f"load-patient{1 + k * spread}@load.test") for k in range(args.patient_users)]
    people += [(Staff, clinic.staff_email[provider]) for provider in clinic.hot[:args.staff_users]]
    people += [(Admin, ADMIN_EMAIL)] * args.admin_users
    return people


def prepare(backend: str, folder: Path, args: argparse.Namespace) -> tuple[dict[str, str], float]:
    """A migrated and seeded database and an admin; the environment gunicorn runs with, the seed time."""
    env = harness.bench_env(folder)
    env["BOOKING_MAIL_SUPPRESS_SEND"] = "true"  # the outbox is written and delivered; nothing leaves the machine
    if backend == "postgresql":
        env["BOOKING_DATABASE_URL"] = args.postgres_url
        reset_postgres(args.postgres_url)
    url = env["BOOKING_DATABASE_URL"]
    harness.log(f"{backend}: {url}")
    harness.run_command([sys.executable, "-m", "flask", "db", "upgrade"], env, 300, "flask db upgrade")
    started = time.monotonic()
    out = harness.run_command(
        [sys.executable, "-m", "flask", "seed-load", "--providers", str(args.providers), "--appointments",
         str(args.appointments), "--patients", str(args.patients), "--password", PASSWORD],
        env, 600 + args.appointments / 1000, "flask seed-load")
    seed_seconds = time.monotonic() - started
    reported = re.search(r"in ([0-9.]+) s\.", out)
    if reported:
        seed_seconds = float(reported.group(1))
    harness.log(f"seed-load: {out.strip()}")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "create-user", "--email", ADMIN_EMAIL, "--name", "Load Admin",
         "--role", "admin", "--password-stdin"],
        cwd=ROOT, env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise harness.BenchError(f"flask create-user failed:\n{done.stdout}{done.stderr}")
    return env, seed_seconds


def reset_postgres(url: str) -> None:
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> Run:
    folder = Path(tempfile.mkdtemp(prefix="booking-load-"))
    server = None
    try:
        env, seed_seconds = prepare(backend, folder, args)
        url = env["BOOKING_DATABASE_URL"]
        clinic = read_clinic(url, args.patients)
        before = counts(url)

        port = harness.free_port()
        logfile = folder / "gunicorn.log"
        server = harness.start_gunicorn(env, port, args.workers, logfile)
        base = f"http://{HOST}:{port}"
        harness.wait_healthy(base, server, logfile)
        harness.log(f"gunicorn ({args.workers} workers) on {base}; /healthz with wrk")
        if args.warmup:
            harness.wrk(f"{base}/healthz", {}, args.warmup, args)
        healthz = harness.wrk(f"{base}/healthz", {}, args.healthz_duration, args)
        harness.log(f"/healthz before the mix: {healthz.rps:,.1f} req/s")

        window = Window()
        people = cast(clinic, args)
        ready = threading.Barrier(len(people) + 1)  # everyone logged in, and this thread
        users = [role(port, email, clinic, window, ready, seed) for seed, (role, email) in enumerate(people)]
        roles = Counter(role.__name__ for role, _ in people)
        harness.log(f"{len(users)} users log in: {dict(roles)}")
        for user in users:
            user.start()
        try:
            ready.wait(timeout=300)
        except threading.BrokenBarrierError:
            failed = [f"{u.email}: {u.error}" for u in users if u.error]
            raise harness.BenchError(f"a user could not start: {failed}\n{harness.tail(logfile)}") from None
        now = time.monotonic()
        window.start, window.end = now + args.warmup, now + args.warmup + args.duration
        harness.log(f"mixed load: {args.warmup} s of warm-up, then {args.duration} s measured")
        time.sleep(max(window.start - time.monotonic(), 0))
        cpu_before = time.process_time()
        time.sleep(max(window.end - time.monotonic(), 0))
        client_cpu = (time.process_time() - cpu_before) / args.duration
        for user in users:
            user.join(timeout=120)
        if any(user.is_alive() for user in users):
            raise harness.BenchError("a user is still waiting for an answer two minutes after the end")
        failed = [f"{u.email}: {u.error!r}" for u in users if u.error]
        if failed:
            raise harness.BenchError(f"users failed: {failed}\n{harness.tail(logfile)}")
        if server.poll() is not None:
            raise harness.BenchError(f"gunicorn died during the run:\n{harness.tail(logfile)}")
        healthz_after = harness.wrk(f"{base}/healthz", {}, args.healthz_duration, args)
        harness.log(f"/healthz after the mix: {healthz_after.rps:,.1f} req/s")
        harness.stop_gunicorn(server)

        groups = {name: Group() for name in GROUPS}
        for user in users:
            for name, group in user.groups.items():
                groups[name].merge(group)
        after = counts(url)
        log_text = logfile.read_text(errors="replace")
        return Run(
            backend=backend, seed_seconds=seed_seconds, duration=args.duration, healthz=(healthz, healthz_after),
            groups=groups,
            client_cpu=client_cpu, booked=after["appointments"] - before["appointments"],
            approved=after["approved_events"] - before["approved_events"], problems=check_database(url),
            tracebacks=log_text.count("Traceback (most recent call last)"),
        )
    finally:
        harness.stop_gunicorn(server)
        shutil.rmtree(folder, ignore_errors=True)


def counts(url: str) -> dict[str, int]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return {
                "appointments": conn.scalar(sa.text("SELECT count(*) FROM appointments")),
                "approved_events": conn.scalar(sa.text(
                    "SELECT count(*) FROM appointment_events WHERE kind = 'status' AND to_status = 'approved'")),
            }
    finally:
        engine.dispose()


def overlaps(rows: Iterable[Sequence]) -> list[tuple[int, int, int]]:
    """(provider, id, id) for each appointment that starts before an earlier one of its provider ends;
    `rows` are (id, provider, start, end) in order of provider and start."""
    found = []
    provider, latest_end, latest_id = None, None, None
    for appointment_id, provider_id, start, end in rows:
        if provider_id != provider:
            provider, latest_end, latest_id = provider_id, end, appointment_id
            continue
        if start < latest_end:
            found.append((provider_id, latest_id, appointment_id))
        if end > latest_end:
            latest_end, latest_id = end, appointment_id
    return found


def check_database(url: str) -> list[str]:
    """What is wrong with the data after the run, in words; empty when nothing is."""
    problems = []
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            holding = conn.execute(sa.text(
                "SELECT id, provider_id, start_at, end_at FROM appointments "
                "WHERE status IN ('pending', 'approved') ORDER BY provider_id, start_at, id"))
            overlapping = overlaps(holding)
            if overlapping:
                problems.append(f"double bookings (provider, appointment, appointment): {overlapping[:20]}")
            silent = conn.scalars(sa.text(
                "SELECT a.id FROM appointments a WHERE NOT EXISTS "
                "(SELECT 1 FROM appointment_events e WHERE e.appointment_id = a.id) LIMIT 20")).all()
            if silent:
                problems.append(f"appointments without an audit event: {silent}")
            if conn.dialect.name == "sqlite":
                integrity = conn.scalars(sa.text("PRAGMA quick_check")).all()
                if integrity != ["ok"]:
                    problems.append(f"PRAGMA quick_check: {integrity[:5]}")
    finally:
        engine.dispose()
    return problems


# --- report ---------------------------------------------------------------------------------------------


def percentile(ordered: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def errors_of(name: str, group: Group) -> dict[str, int]:
    """Answers that are neither 2xx/3xx nor the group's expected conflicts, and connection failures."""
    found = {str(s): n for s, n in sorted(group.statuses.items()) if s >= 400 and s not in GROUPS.get(name, ())}
    found.update(group.failures)
    return found


def row(name: str, group: Group, duration: float, errors: dict[str, int]) -> str:
    ordered = sorted(group.latencies)
    ms = [f"{percentile(ordered, p) * 1000:,.0f}" if ordered else "–" for p in (0.50, 0.95, 0.99)]
    answers = ", ".join(f"{s}: {n:,}" for s, n in sorted(group.statuses.items()))
    shown_errors = ", ".join(f"{k}: {v:,}" for k, v in errors.items()) or "0"
    return (f"| {name} | {group.requests:,} | {group.requests / duration:,.1f} | {ms[0]} | {ms[1]} | {ms[2]} | "
            f"{answers} | {shown_errors} |")


def report(runs: list[Run], args: argparse.Namespace) -> tuple[str, bool]:
    """The markdown report, and whether every check passed."""
    ok = True
    users = f"{args.patient_users} patients, {min(args.staff_users, HOT_PROVIDERS)} staff, {args.admin_users} admins"
    lines = [
        RESULTS_HEADING,
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}. "
        f"gunicorn {args.workers} sync workers; {users} as virtual users with no pause between requests "
        f"({args.warmup} s warm-up, {args.duration} s measured); {args.providers} providers, {args.patients} "
        f"patients, {args.appointments:,} appointments from seed-load. Load average before the run: "
        f"{', '.join(f'{x:.2f}' for x in args.load_before)}.",
        "",
        "`.venv/bin/python bench/load.py " + " ".join(args.argv) + "`" if args.argv else
        "`.venv/bin/python bench/load.py`",
    ]
    for run_ in runs:
        total = Group()
        for group in run_.groups.values():
            total.merge(group)
        rps = total.requests / run_.duration
        before, after = run_.healthz
        reference = (before.rps + after.rps) / 2
        lines += [
            "",
            f"## {run_.backend}",
            "",
            "| group | requests | req/s | p50 ms | p95 ms | p99 ms | answers | errors |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        all_errors: Counter[str] = Counter()
        for name, group in run_.groups.items():
            errors = errors_of(name, group)
            all_errors.update(errors)
            lines.append(row(name, group, run_.duration, errors))
        lines.append(row("**all**", total, run_.duration, dict(sorted(all_errors.items()))))
        fivexx = sum(n for s, n in total.statuses.items() if s >= 500)
        unexpected = sum(all_errors.values())
        lines += [
            "",
            f"/healthz with wrk on the same server ({args.threads} threads, {args.connections} connections, "
            f"{args.healthz_duration} s) before and after the mix: {before.rps:,.1f} and {after.rps:,.1f} req/s; "
            f"the mix ran at {rps:,.1f} req/s, **{rps / reference:.1%}** of their mean. The load generator used "
            f"{run_.client_cpu:.0%} of one CPU.",
            f"During the window: {run_.booked:,} appointments booked, {run_.approved:,} approved. seed-load took "
            f"{run_.seed_seconds:.1f} s.",
            f"Checks: 5xx answers {fivexx}; other errors {unexpected}; tracebacks in gunicorn's log "
            f"{run_.tracebacks}; " + ("database: no overlapping time-holding appointments, every appointment "
                                      "has its audit event" if not run_.problems else
                                      "database: " + "; ".join(run_.problems)) + ".",
        ]
        if fivexx or unexpected or run_.tracebacks or run_.problems:
            ok = False
    lines += ["", "All checks passed." if ok else "**Checks failed** (see above)."]
    return "\n".join(lines) + "\n", ok


def write_results(path: Path, text: str) -> None:
    """Replace this script's section of the results file (or add it), keeping what bench/run.py wrote."""
    old = path.read_text() if path.exists() else ""
    kept = old.split(RESULTS_HEADING, 1)[0].rstrip()
    path.write_text((kept + "\n\n" if kept else "") + text)


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="also run on this PostgreSQL database; its public schema is DROPPED and rebuilt "
                             "(default: $BENCH_POSTGRES_URL; none: SQLite only)")
    parser.add_argument("--backends", default=None,
                        help="sqlite,postgresql or one of them (default: sqlite, and postgresql with a URL)")
    parser.add_argument("--duration", type=int, default=45, help="measured seconds per database (default 45)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds before measuring (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--patient-users", type=int, default=24)
    parser.add_argument("--staff-users", type=int, default=5, help=f"at most {HOT_PROVIDERS}")
    parser.add_argument("--admin-users", type=int, default=3)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--healthz-duration", type=int, default=10, help="seconds of wrk on /healthz (default 10)")
    parser.add_argument("--threads", type=int, default=4, help="wrk threads for /healthz")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for /healthz")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.md",
                        help="the results file whose 'Mixed load results' section is replaced")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    wanted = args.backends or ("sqlite,postgresql" if args.postgres_url else "sqlite")
    args.backends = [b.strip() for b in wanted.split(",") if b.strip()]
    if not args.backends or set(args.backends) - {"sqlite", "postgresql"}:
        parser.error("--backends: sqlite, postgresql or both")
    if "postgresql" in args.backends and not args.postgres_url:
        parser.error("postgresql needs --postgres-url (a database whose public schema may be dropped)")
    if min(args.duration, args.workers, args.patient_users, args.providers) < 1 or args.patients < args.providers:
        parser.error("duration, workers, patient users and providers at least 1; at least as many patients as providers")
    if args.patient_users > args.patients:
        parser.error("more patient users than patients")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("load: wrk is not installed (it measures /healthz). `apt-get install -y wrk` and run again.",
              file=sys.stderr)
        return 2

    def stop(signum: int, _frame: object) -> None:
        raise harness.Stop(signal.Signals(signum).name)

    args.load_before = os.getloadavg()
    if args.load_before[0] > 0.5 * (os.cpu_count() or 1):
        harness.log(f"warning: the machine is busy (load average {args.load_before[0]:.2f} on "
                    f"{os.cpu_count()} CPUs); other work lowers the figures")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        runs = [run_backend(backend, args) for backend in args.backends]
    except harness.BenchError as error:
        print(f"load: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, harness.Stop):
        print("load: interrupted; gunicorn stopped and temporary files removed.", file=sys.stderr)
        return 130
    text, ok = report(runs, args)
    print()
    print(text)
    write_results(args.output, text)
    harness.log(f"written to {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
