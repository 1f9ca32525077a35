#!/usr/bin/env python3
"""Throughput of the booking calendar at 10,000 and at 1,000,000 appointments (see bench/README.md).

    .venv/bin/python bench/run.py [--appointments 1000000] [--small 10000]

For each size: a fresh SQLite database in a temporary folder, `flask db upgrade`, `flask seed-load`,
gunicorn on 127.0.0.1, a patient's login, then wrk against /healthz, a day's slot list and a month
calendar. Prints a markdown table and writes it to bench/results.md. Everything it starts, it stops;
everything it makes, it removes; it talks to 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import contextlib
import html.parser
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
USER_AGENT = "booking-bench/1"
PATIENT_EMAIL = "load-patient1@load.test"
PROVIDER_EMAIL = "load-staff1@load.test"
PASSWORD = "bench-password"
ENDPOINTS = ("healthz", "slots", "month", "slots-page", "month-fragment", "visitor-slots", "visitor-month",
             "visitor-directory", "visitor-home")
LABELS = {"healthz": "(a) /healthz", "slots": "(b) slots", "month": "(c) month",
          "slots-page": "(d) slots page", "month-fragment": "(e) month fragment",
          "visitor-slots": "(f) visitor's slots", "visitor-month": "(g) visitor's month",
          "visitor-directory": "(h) visitor's directory", "visitor-home": "(i) home page"}
#: Endpoints asked for without the patient's cookies, as a visitor without an account sees them.
VISITOR = {"visitor-slots", "visitor-month", "visitor-directory", "visitor-home"}
#: How each endpoint is asked for. The slot list is what the calendar loads and refreshes with htmx,
#: a fragment; the month calendar is measured as the whole page a visitor opens. The other two are the
#: same URLs asked the other way: the page without JavaScript, and the month swapped by prev/next.
HEADERS = {
    "slots": {"HX-Request": "true", "HX-Target": "slots"},
    "month-fragment": {"HX-Request": "true", "HX-Target": "calendar"},
    "visitor-slots": {"HX-Request": "true", "HX-Target": "slots"},
}
#: endpoint -> least share of /healthz throughput in the same run
RATIO_TARGETS = {"slots": 0.40, "month": 0.25, "visitor-slots": 0.40, "visitor-month": 0.25}
COST_TARGET = 0.15  # cost at the large size at most this much above the cost at the small size
MAX_ERROR_SHARE = 0.01  # more non-2xx/3xx answers than this and a measurement is void


class BenchError(Exception):
    """A reason to stop, in words the person running the benchmark can act on."""


class Stop(BaseException):
    """SIGTERM/SIGHUP: unwind through the `finally` blocks that stop gunicorn and remove files."""


@dataclass
class Measurement:
    rps: float
    requests: int
    latency_avg: str
    errors: int  # non-2xx/3xx answers
    socket_errors: int


@dataclass
class SizeResult:
    appointments: int
    seed_seconds: float
    target: str
    results: dict[str, Measurement] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------------------


def bench_env(folder: Path) -> dict[str, str]:
    """The caller's environment without its BOOKING_* settings, plus this run's database and key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env.update({
        "FLASK_APP": "wsgi",
        "BOOKING_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
        "BOOKING_SECRET_KEY": secrets.token_urlsafe(32),
        "BOOKING_BASE_URL": f"http://{HOST}",  # start_gunicorn adds the port it serves on
        # A rate limiter (when the app has one) would answer 429 to a load generator: measure the app.
        "BOOKING_RATELIMIT_ENABLED": "false",
        # The benchmark speaks plain http on this machine, so its login cookie cannot be HTTPS-only.
        "BOOKING_SESSION_COOKIE_SECURE": "false",
        "BOOKING_REMEMBER_COOKIE_SECURE": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run_command(args: list[str], env: dict[str, str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{what} did not finish within {timeout:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, logfile: Path) -> subprocess.Popen:
    env = {**env, "BOOKING_BASE_URL": f"http://{HOST}:{port}"}  # the address links are built for
    with logfile.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{port}",
             "--timeout", "60", "--worker-class", "sync", "--threads", "1", "wsgi:app"],  # the figures' workers
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- HTTP -----------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a redirect is an answer to look at, not to follow


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)  # never via a proxy


@dataclass
class Answer:
    status: int
    headers: object
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)  # type: ignore[attr-defined]

    def cookies(self) -> dict[str, str]:
        found = {}
        for line in self.headers.get_all("Set-Cookie") or []:  # type: ignore[attr-defined]
            name, _, value = line.split(";", 1)[0].partition("=")
            found[name.strip()] = value.strip()
        return found


def http(url: str, cookies: dict[str, str] | None = None, form: dict[str, str] | None = None,
         timeout: float = 30, extra_headers: dict[str, str] | None = None) -> Answer:
    assert urllib.parse.urlsplit(url).hostname == HOST
    headers = {"User-Agent": USER_AGENT, **(extra_headers or {})}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if form is not None else "GET")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read().decode(errors="replace"))
    except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
        return Answer(error.code, error.headers, error.read().decode(errors="replace"))


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items() if value)


class _CsrfFinder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token" and self.token is None:
            self.token = values.get("value")


def csrf_token(body: str) -> str | None:
    """The first form's CSRF token in a page, as a browser would send it back."""
    finder = _CsrfFinder()
    finder.feed(body)
    return finder.token


def wait_healthy(base: str, server: subprocess.Popen, logfile: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{tail(logfile)}")
        try:
            if http(f"{base}/healthz", timeout=5).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"/healthz did not answer 200 within {timeout:.0f} s:\n{tail(logfile)}")


def login(base: str) -> dict[str, str]:
    """Log in as the load patient through the real form; return the cookies of the session."""
    page = http(f"{base}/auth/login")
    if page.status != 200:
        raise BenchError(f"GET /auth/login answered {page.status}")
    token = csrf_token(page.body)
    if not token:
        raise BenchError("the login form has no csrf_token hidden input")
    cookies = page.cookies()
    answer = http(f"{base}/auth/login", cookies=cookies,
                  form={"csrf_token": token, "email": PATIENT_EMAIL, "password": PASSWORD})
    if answer.status not in (302, 303):
        raise BenchError(f"logging in as {PATIENT_EMAIL} answered {answer.status}, not a redirect: "
                         f"{_text(answer.body)[:300]}")
    cookies.update(answer.cookies())
    if "session" not in cookies:
        raise BenchError("the login answer set no session cookie")
    return cookies


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def precheck(name: str, url: str, cookies: dict[str, str]) -> None:
    """One request with the session: the measurement means something only if this is a plain 200."""
    answer = http(url, cookies=cookies, extra_headers=HEADERS.get(name))
    if answer.status == 200:
        return
    path = urllib.parse.urlsplit(url)
    shown = path.path + (f"?{path.query}" if path.query else "")
    if answer.status == 404:
        raise BenchError(f"{LABELS[name]}: GET {shown} answers 404 Not Found: this checkout has no such route "
                         "yet (or it does not know the provider/service); nothing to measure.")
    if answer.status in (301, 302, 303, 307, 308):
        raise BenchError(f"{LABELS[name]}: GET {shown} redirects ({answer.status}) to {answer.header('Location')}: "
                         "the session cookie was not accepted, so wrk would measure a redirect.")
    raise BenchError(f"{LABELS[name]}: GET {shown} answers {answer.status}: {_text(answer.body)[:300]}")


# --- what to ask for ------------------------------------------------------------------------------------


def pick_target(database: Path) -> tuple[int, int, date]:
    """load-staff1's provider, its first service, and a working day 2-14 days ahead (one with bookings if any)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as conn:
        row = conn.execute(
            "SELECT p.id, p.timezone FROM providers p JOIN users u ON u.id = p.user_id WHERE u.email = ?",
            (PROVIDER_EMAIL,),
        ).fetchone()
        if row is None:
            raise BenchError(f"no provider for {PROVIDER_EMAIL}: did seed-load run?")
        provider_id, zone = row
        service = conn.execute(
            "SELECT service_id FROM provider_services WHERE provider_id = ? ORDER BY service_id LIMIT 1",
            (provider_id,),
        ).fetchone()
        weekdays = {d for (d,) in conn.execute(
            "SELECT DISTINCT weekday FROM working_hours WHERE provider_id = ?", (provider_id,))}
        if service is None or not weekdays:
            raise BenchError(f"provider {provider_id} offers no service or has no working hours")
        tz = ZoneInfo(zone)
        today = datetime.now(tz).date()
        candidates = [today + timedelta(days=n) for n in range(2, 15) if (today + timedelta(days=n)).weekday() in weekdays]
        if not candidates:
            raise BenchError(f"provider {provider_id} has no working day in the next two weeks")
        for day in candidates:
            start = datetime.combine(day, datetime.min.time(), tz).astimezone(timezone.utc)
            end = start + timedelta(days=1)
            booked = conn.execute(
                "SELECT COUNT(*) FROM appointments WHERE provider_id = ? AND status IN ('pending', 'approved') "
                "AND start_at >= ? AND start_at < ?",
                (provider_id, f"{start:%Y-%m-%d %H:%M:%S}", f"{end:%Y-%m-%d %H:%M:%S}"),
            ).fetchone()[0]
            if booked:
                return provider_id, service[0], day
        return provider_id, service[0], candidates[0]


def endpoint_urls(base: str, provider_id: int, service_id: int, day: date) -> dict[str, str]:
    return {
        "healthz": f"{base}/healthz",
        "slots": f"{base}/book/{provider_id}/slots?service={service_id}&date={day:%Y-%m-%d}",
        "month": f"{base}/book/{provider_id}?service={service_id}&month={day:%Y-%m}",
        "slots-page": f"{base}/book/{provider_id}/slots?service={service_id}&date={day:%Y-%m-%d}",
        "month-fragment": f"{base}/book/{provider_id}?service={service_id}&month={day:%Y-%m}",
        "visitor-slots": f"{base}/book/{provider_id}/slots?service={service_id}&date={day:%Y-%m-%d}",
        "visitor-month": f"{base}/book/{provider_id}?service={service_id}&month={day:%Y-%m}",
        "visitor-directory": f"{base}/book/",
        "visitor-home": f"{base}/",
    }


# --- wrk ------------------------------------------------------------------------------------------------


def wrk(url: str, cookies: dict[str, str], seconds: int, args: argparse.Namespace,
        headers: dict[str, str] | None = None) -> Measurement:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s",
               "-H", f"Cookie: {cookie_header(cookies)}", "-H", f"User-Agent: {USER_AGENT}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"wrk did not finish within {seconds + 60} s") from error
    if done.returncode != 0:
        raise BenchError(f"wrk failed (exit {done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rps or not total:
        raise BenchError(f"could not read wrk's output:\n{out}")
    latency = re.search(r"Latency\s+(\S+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Measurement(
        rps=float(rps.group(1)), requests=int(total.group(1)), latency_avg=latency.group(1) if latency else "?",
        errors=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


# --- one size -------------------------------------------------------------------------------------------


def run_size(appointments: int, args: argparse.Namespace) -> SizeResult:
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    server = None
    try:
        env = bench_env(folder)
        log(f"{appointments:,} appointments: database in {folder}")
        run_command([sys.executable, "-m", "flask", "db", "upgrade"], env, 300, "flask db upgrade")
        started = time.monotonic()
        out = run_command(
            [sys.executable, "-m", "flask", "seed-load", "--providers", str(args.providers),
             "--appointments", str(appointments), "--patients", str(args.patients), "--password", PASSWORD],
            env, 300 + appointments / 1000, "flask seed-load",
        )
        seed_seconds = time.monotonic() - started
        reported = re.search(r"in ([0-9.]+) s\.", out)
        if reported:  # the loader's own time, without the start of Python and the app
            seed_seconds = float(reported.group(1))
        log(f"seed-load: {out.strip()}")

        port = free_port()
        logfile = folder / "gunicorn.log"
        server = start_gunicorn(env, port, args.workers, logfile)
        base = f"http://{HOST}:{port}"
        wait_healthy(base, server, logfile)
        cookies = login(base)
        provider_id, service_id, day = pick_target(folder / "bench.sqlite")
        urls = endpoint_urls(base, provider_id, service_id, day)
        target = f"provider {provider_id}, service {service_id}, {day:%Y-%m-%d} ({day:%A})"
        log(f"gunicorn on {base}, logged in as {PATIENT_EMAIL}; {target}")
        jars = {name: {} if name in VISITOR else cookies for name in args.endpoints}
        for name in args.endpoints:
            precheck(name, urls[name], jars[name])

        result = SizeResult(appointments, seed_seconds, target)
        for name in args.endpoints:
            if args.warmup:
                wrk(urls[name], jars[name], args.warmup, args, HEADERS.get(name))
            measured = wrk(urls[name], jars[name], args.duration, args, HEADERS.get(name))
            if measured.errors > MAX_ERROR_SHARE * max(measured.requests, 1):
                raise BenchError(f"{LABELS[name]}: {measured.errors} of {measured.requests} answers were not "
                                 f"2xx/3xx: the measurement is void. gunicorn's log:\n{tail(logfile)}")
            log(f"{LABELS[name]}: {measured.rps:,.1f} req/s (latency avg {measured.latency_avg}, "
                f"{measured.errors} errors, {measured.socket_errors} socket errors)")
            result.results[name] = measured
        if server.poll() is not None:
            raise BenchError(f"gunicorn died during the run:\n{tail(logfile)}")
        return result
    finally:
        stop_gunicorn(server)
        shutil.rmtree(folder, ignore_errors=True)


# --- report ---------------------------------------------------------------------------------------------


def cost_change(small: Measurement, large: Measurement) -> float:
    """How much more a request costs at the large size: (1/rps_large)/(1/rps_small) - 1."""
    return small.rps / large.rps - 1


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def report(sizes: list[SizeResult], args: argparse.Namespace) -> tuple[str, list[str]]:
    """The markdown report, and the targets that were missed."""
    missed: list[str] = []
    names = [n for n in ENDPOINTS if n in args.endpoints]
    load = ", ".join(f"{x:.2f}" for x in args.load_before)
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}. gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s per endpoint after {args.warmup} s of warm-up; "
        f"{args.providers} providers, {args.patients} patients; logged in as {PATIENT_EMAIL}. "
        f"Load average before the run: {load}.",
        "",
        "| appointments | seed-load | " + " | ".join(f"{LABELS[n]} req/s" for n in names)
        + "".join(f" | {LABELS[n].split()[0]}/(a)" for n in names if n in RATIO_TARGETS) + " |",
        "|---:|---:|" + "---:|" * len(names) + "---:|" * sum(1 for n in names if n in RATIO_TARGETS),
    ]
    for size in sizes:
        cells = [f"{size.appointments:,}", f"{size.seed_seconds:.1f} s"]
        cells += [f"{size.results[n].rps:,.1f}" for n in names]
        for n in names:
            if n in RATIO_TARGETS:
                if "healthz" in size.results:
                    share = size.results[n].rps / size.results["healthz"].rps
                    ok = share >= RATIO_TARGETS[n]
                    if not ok:
                        missed.append(f"{LABELS[n]} at {size.appointments:,}: {share:.0%} of /healthz "
                                      f"(target ≥ {RATIO_TARGETS[n]:.0%})")
                    cells.append(f"{share:.0%} {mark(ok)}")
                else:
                    cells.append("n/a")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Targets: (b) ≥ 40 % and (c) ≥ 25 % of /healthz throughput in the same run."]
    for size in sizes:
        lines.append(f"At {size.appointments:,}: {size.target}.")
    if len(sizes) == 2:
        small, large = sizes
        lines += [
            "",
            f"Cost change per request from {small.appointments:,} to {large.appointments:,} appointments, "
            "(1/rps_large)/(1/rps_small) − 1 (target: at most +15 % for (b) and (c)). The two sizes run one after "
            "the other, so /healthz's own change is the machine's drift; the last column divides it out "
            "(for information: the target is on the plain cost change).",
            "",
            f"| endpoint | req/s at {small.appointments:,} | req/s at {large.appointments:,} | cost change | "
            "relative to /healthz |",
            "|---|---:|---:|---:|---:|",
        ]
        for n in names:
            change = cost_change(small.results[n], large.results[n])
            relative = "n/a"
            if "healthz" in names and n != "healthz":
                drift = cost_change(small.results["healthz"], large.results["healthz"])
                relative = f"{(1 + change) / (1 + drift) - 1:+.1%}"
            verdict = ""
            if n in RATIO_TARGETS:
                ok = change <= COST_TARGET
                verdict = f" {mark(ok)}"
                if not ok:
                    missed.append(f"{LABELS[n]}: cost {change:+.1%} at {large.appointments:,} (target ≤ +15 %)")
            lines.append(f"| {LABELS[n]} | {small.results[n].rps:,.1f} | {large.results[n].rps:,.1f} | "
                         f"{change:+.1%}{verdict} | {relative} |")
    errors = [(s.appointments, n, m) for s in sizes for n, m in s.results.items() if m.errors or m.socket_errors]
    if errors:
        lines += ["", "Errors seen by wrk: " + "; ".join(
            f"{LABELS[n]} at {a:,}: {m.errors} non-2xx/3xx, {m.socket_errors} socket errors" for a, n, m in errors)]
    if set(RATIO_TARGETS) - set(names) or "healthz" not in names:
        verdict = f"Only {', '.join(LABELS[n] for n in names)} measured: the targets were not all checked."
        verdict += (" Missed: " + "; ".join(missed) + ".") if missed else ""
    else:
        verdict = "All targets met." if not missed else "Missed: " + "; ".join(missed) + "."
    lines += ["", verdict]
    return "\n".join(lines) + "\n", missed


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=1_000_000, help="the large size (default 1,000,000)")
    parser.add_argument("--small", type=int, default=10_000, help="the small size (default 10,000)")
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per endpoint (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measurement (default 2)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help=f"which of {','.join(ENDPOINTS)} to measure (default all)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.md")
    parser.add_argument("--check", action="store_true", help="exit with 3 when a target is missed")
    args = parser.parse_args(argv)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown or not args.endpoints:
        parser.error(f"--endpoints: choose from {', '.join(ENDPOINTS)}")
    if min(args.appointments, args.small) < 0 or min(args.duration, args.threads, args.connections, args.workers) < 1:
        parser.error("sizes must not be negative; duration, threads, connections and workers at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed. Install it with `apt-get install -y wrk` "
              "(or `brew install wrk`) and run again.", file=sys.stderr)
        return 2
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        print(f"bench: gunicorn is not installed for {sys.executable}; run this with the project's "
              ".venv/bin/python (`make install`).", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: object) -> None:
        raise Stop(signal.Signals(signum).name)

    args.load_before = os.getloadavg()
    if args.load_before[0] > 0.5 * (os.cpu_count() or 1):
        log(f"warning: the machine is busy (load average {args.load_before[0]:.2f} on {os.cpu_count()} CPUs); "
            "other work skews the numbers, the comparison between sizes most")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        sizes = [run_size(n, args) for n in (args.small, args.appointments)]
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        print("bench: interrupted; gunicorn stopped and temporary files removed.", file=sys.stderr)
        return 130
    text, missed = report(sizes, args)
    print()
    print(text)
    args.output.write_text(text)
    log(f"written to {args.output}")
    return 3 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
