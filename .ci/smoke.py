"""Wait for a running server's /healthz, log in as each demo role and check where it lands, and check that
a forged Host header is refused."""
from __future__ import annotations

import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
PASSWORD = "demo-password"
ROLES = {"admin@demo.test": "/admin/appointments", "staff1@demo.test": "/staff/requests", "patient1@demo.test": "/book/"}


def wait_for_health(deadline_s: float = 180) -> None:
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            with urllib.request.urlopen(BASE + "/healthz", timeout=2) as response:
                if response.status == 200 and b'"ok"' in response.read():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    sys.exit(f"no healthy answer from {BASE}/healthz within {deadline_s:.0f}s")


def login(email: str, expected_path: str) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(BASE + "/auth/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not token:
        sys.exit("no CSRF token on the login page")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": PASSWORD}).encode()
    with opener.open(BASE + "/auth/login", data=form, timeout=10) as response:
        landed = urllib.parse.urlsplit(response.geturl()).path
        if landed != expected_path or response.status != 200:
            sys.exit(f"{email}: landed on {landed} ({response.status}), expected {expected_path}")
    print(f"smoke: {email} logged in and landed on {landed}")


def forged_host_refused() -> None:
    """A Host header other than the configured address (BOOKING_BASE_URL, which make run sets) gets 400."""
    request = urllib.request.Request(BASE + "/auth/reset", headers={"Host": "evil.example"})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        if error.code == 400:
            print("smoke: a forged Host header is answered 400")
            return
        sys.exit(f"a forged Host header was answered {error.code}, expected 400")
    sys.exit("a forged Host header was answered 200, expected 400")


wait_for_health()
for email, path in ROLES.items():
    login(email, path)
forged_host_refused()
