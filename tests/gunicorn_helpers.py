"""A real gunicorn for the tests that need one (crash safety, the shipped gunicorn.conf.py): started in a
process group of its own so that stopping it stops its workers, its workers found in /proc, and a small
HTTP client that opens a connection per request, so that no answer waits on another's keep-alive.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def workers(self) -> set[int]:
        """The master's children, from /proc."""
        found: set[int] = set()
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                found.update(int(pid) for pid in children.read_text().split())
            except OSError:
                pass
        return found

    def busy_workers(self) -> set[int]:
        """Workers holding a client's connection open at this moment, i.e. in the middle of a request.

        A sync worker holds one accepted socket while it handles a request; /proc/net/tcp tells which
        socket inodes are established connections on our port, /proc/<pid>/fd which process holds them.
        """
        established = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "01":
                established.add(f"socket:[{fields[9]}]")
        busy = set()
        for pid in self.workers():
            try:
                links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            except OSError:
                continue
            if links & established:
                busy.add(pid)
        return busy

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def launch(options: list[str], env: dict[str, str], port: int, log: Path) -> Gunicorn:
    """`python -m gunicorn <options> wsgi:app` from the checkout's root, its output in `log`."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options, *no_control_socket(), "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopping it stops the workers
        )
    return Gunicorn(process, port, log)


def no_control_socket() -> list[str]:
    """Newer gunicorns open a control socket at one fixed path per user; a test server needs none."""
    from gunicorn.config import KNOWN_SETTINGS

    known = any("--no-control-socket" in (setting.cli or []) for setting in KNOWN_SETTINGS)
    return ["--no-control-socket"] if known else []


def stop(server: Gunicorn) -> None:
    if server.process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies this answer sets, by name."""
        found = {}
        for line in self.headers.get_all("Set-Cookie") or []:
            name, _, value = line.split(";", 1)[0].partition("=")
            found[name.strip()] = value.strip()
        return found


def send(port: int, method: str, path: str, cookies: dict[str, str] | None = None,
         form: dict[str, str] | None = None, timeout: float = 60) -> Answer:
    """One request on its own connection, closed after the answer."""
    headers = {"Connection": "close", "User-Agent": "booking-tests"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode(errors="replace"))
    finally:
        connection.close()


def healthy(port: int) -> bool:
    try:
        return send(port, "GET", "/healthz").status == 200
    except (OSError, http.client.HTTPException):
        return False
