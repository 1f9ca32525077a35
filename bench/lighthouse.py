#!/usr/bin/env python3
"""Lighthouse scores of the public pages, as a visitor without an account meets them (see bench/README.md).

    .venv/bin/python bench/lighthouse.py [--workers 2]

A fresh SQLite database in a temporary folder with the demo clinic (`flask db upgrade`, `flask seed-demo`),
gunicorn on 127.0.0.1, then Lighthouse (npm, installed into bench/js/ on first use: `npm ci
--ignore-scripts`, never part of `make test`) driving Debian's Chromium headless, on the home page, the
directory and the first provider's calendar, with the mobile and the desktop preset. Prints the four
category scores per page and preset and the audits that cost points, and writes them all to
test-output/lighthouse.json. A measurement, not a test: it fails only when it cannot measure.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (HOST, BenchError, Stop, bench_env, free_port, http, log, run_command,  # noqa: E402
                 start_gunicorn, stop_gunicorn, wait_healthy)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / "js"
LIGHTHOUSE = TOOLS / "node_modules" / ".bin" / "lighthouse"
INSTALLED = TOOLS / "node_modules" / ".package-lock.json"
OUTPUT = ROOT / "test-output" / "lighthouse.json"
CHROMIUM = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PRESETS = ("mobile", "desktop")
TARGET = 95  # issue 13: 95 or more in every category, page and preset
DEMO_PASSWORD = secrets.token_urlsafe(12)


def install_lighthouse() -> None:
    """bench/js's lock, installed when missing or older than the lock (no install scripts run)."""
    lock = TOOLS / "package-lock.json"
    if LIGHTHOUSE.exists() and INSTALLED.exists() and INSTALLED.stat().st_mtime >= lock.stat().st_mtime:
        return
    if shutil.which("npm") is None:
        raise BenchError("npm is not installed (apt-get install npm): it installs Lighthouse into bench/js")
    log("installing Lighthouse into bench/js (npm ci --ignore-scripts)")
    run_command(["npm", "ci", "--prefix", str(TOOLS), "--ignore-scripts", "--no-audit", "--no-fund",
                 "--loglevel=error"], dict(os.environ), 600, "npm ci in bench/js")
    INSTALLED.touch()


def pages(base: str) -> dict[str, str]:
    """name -> URL: the home page, the directory and the first provider's calendar it links to."""
    directory = http(f"{base}/book/").body
    found = re.search(r'href="(/book/\d+\?service=\d+)"', directory)
    if found is None:
        raise BenchError("the directory links to no provider's calendar: was the demo clinic seeded?")
    return {"home": f"{base}/", "directory": f"{base}/book/", "calendar": base + found[1].replace("&amp;", "&")}


def lighthouse(url: str, preset: str, report: Path) -> dict:
    args = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={report}", "--quiet",
            f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
            "--no-enable-error-reporting"]
    if preset == "desktop":
        args.append("--preset=desktop")  # without a preset Lighthouse emulates a phone (Moto G Power, slow 4G)
    run_command(args, {**os.environ, "CHROME_PATH": CHROMIUM}, 300, f"Lighthouse on {url} ({preset})")
    return json.loads(report.read_text())


def summary(result: dict) -> dict:
    """The four scores (0-100) and, per category, the audits that cost points, heaviest first."""
    audits = result["audits"]
    scores, failing = {}, {}
    for name in CATEGORIES:
        category = result["categories"][name]
        scores[name] = None if category["score"] is None else round(category["score"] * 100)
        lost = []
        for ref in category["auditRefs"]:
            audit = audits[ref["id"]]
            if ref["weight"] > 0 and audit.get("score") is not None and audit["score"] < 1:
                lost.append({"id": ref["id"], "title": audit["title"], "score": audit["score"],
                             "weight": ref["weight"], "shown": audit.get("displayValue", "")})
        failing[name] = sorted(lost, key=lambda a: (a["score"] - 1) * a["weight"])
    return {"scores": scores, "failing": failing, "lighthouse": result.get("lighthouseVersion"),
            "browser": result.get("environment", {}).get("hostUserAgent", "")}


def table(runs: list[dict]) -> str:
    lines = ["| page | preset | " + " | ".join(CATEGORIES) + " |", "|---|---|" + "---:|" * len(CATEGORIES)]
    for run in runs:
        cells = [f"{s}" if s is None or s >= TARGET else f"**{s}**" for s in run["scores"].values()]
        lines.append(f"| {run['page']} | {run['preset']} | " + " | ".join(cells) + " |")
    below = [(run, name) for run in runs for name, score in run["scores"].items() if score is not None and score < TARGET]
    if below:
        lines += ["", f"Below {TARGET} (bold), and the audits that cost the points:"]
        for run, name in below:
            audits = ", ".join(f"{a['id']} ({a['score']:.2f}{', ' + a['shown'] if a['shown'] else ''})"
                               for a in run["failing"][name][:5])
            lines.append(f"- {run['page']} {run['preset']} {name} {run['scores'][name]}: {audits}")
    return "\n".join(lines)


def measure(args: argparse.Namespace) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="booking-lighthouse-") as tmp:
        folder = Path(tmp)
        env = bench_env(folder)
        log("a fresh SQLite database with the demo clinic")
        run_command([sys.executable, "-m", "flask", "db", "upgrade"], env, 300, "flask db upgrade")
        run_command([sys.executable, "-m", "flask", "seed-demo", "--password", DEMO_PASSWORD], env, 300,
                    "flask seed-demo")
        port = free_port()
        base = f"http://{HOST}:{port}"
        logfile = folder / "gunicorn.log"
        server = None
        try:
            server = start_gunicorn(env, port, args.workers, logfile)
            wait_healthy(base, server, logfile)
            runs = []
            for page, url in pages(base).items():
                for preset in PRESETS:
                    log(f"Lighthouse: {page} ({preset}) {url}")
                    result = summary(lighthouse(url, preset, folder / f"{page}-{preset}.json"))
                    runs.append({"page": page, "preset": preset, "url": url.removeprefix(base), **result})
            return runs
        finally:
            stop_gunicorn(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"JSON written here (default {OUTPUT})")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"lighthouse: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROME_PATH)", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: object) -> None:
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        log(f"warning: the machine is busy (load average {load_before[0]:.2f} on {os.cpu_count()} CPUs); the"
            " performance score counts the main thread's time, so other work lowers it")
    try:
        install_lighthouse()
        runs = measure(args)
    except BenchError as error:
        print(f"lighthouse: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        print("lighthouse: interrupted; gunicorn stopped and temporary files removed.", file=sys.stderr)
        return 130
    print()
    print(table(runs))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "load_average_before": load_before[0], "load_average_after": os.getloadavg()[0]}
    args.output.write_text(json.dumps({"target": TARGET, "machine": machine, "runs": runs}, indent=2) + "\n")
    log(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
