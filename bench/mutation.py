"""Mutation run over the core: does a wrong rule make a test fail?

`make mutation` (or `make mutation MODULE=booking/services/booking.py`) runs mutmut 3 over each module
listed in bench/mutation.toml, against only the test files listed there for it, on SQLite. mutmut works
on copies: each module gets a scratch folder under build/mutation/ holding links to booking/, tests/,
migrations/ and bench/ and a pyproject.toml with a [tool.mutmut] section written for that module; mutmut
copies the sources into its mutants/ folder there and mutates only those copies. The checkout's own files are never
written, so an interrupted run leaves nothing behind but the scratch folder (removed on exit, also on
Ctrl-C or SIGTERM; build/ is git-ignored).

Per module it prints the counts, the score (killed + timeouts) / (total - equivalent), and every mutant that was not
killed with its file:line and diff; the same goes to test-output/mutation/<module>.txt. Mutants listed in
bench/mutation-equivalents.toml (changes no behaviour can show) are left out of the score, and an entry
there that matches no mutant any more is reported as stale, so the list cannot quietly rot.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "bench" / "mutation.toml"
EQUIVALENTS = ROOT / "bench" / "mutation-equivalents.toml"
SCRATCH = ROOT / "build" / "mutation"
OUTPUT = ROOT / "test-output" / "mutation"
# Exit codes mutmut records per mutant, by what they mean (mutmut/stats.py).
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}
NO_TESTS = {5, 33}
SURVIVED = {0}


@dataclass
class Mutant:
    name: str
    status: str
    line: int | None
    original: str  # the source line(s) the mutation replaced, stripped
    mutated: str  # what replaced them
    diff: str
    equivalent: dict | None = None


@dataclass
class Result:
    module: str
    mutants: list[Mutant] = field(default_factory=list)
    stale: list[dict] = field(default_factory=list)
    killed_equivalents: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for m in self.mutants if m.status == status and m.equivalent is None)

    @property
    def equivalent(self) -> int:
        return sum(1 for m in self.mutants if m.equivalent is not None)

    @property
    def score(self) -> float | None:
        counted = len(self.mutants) - self.equivalent
        return None if counted == 0 else self.detected / counted

    @property
    def detected(self) -> int:
        """Killed, or stopped at the CPU-time limit: a mutant that makes a loop endless is noticed too (a
        test run that never ends fails), so it counts as found, as Stryker and Cosmic Ray count it. The
        limit is CPU time, not wall time, so a busy machine does not turn a slow survivor into one."""
        return self.count("killed") + self.count("timeout")


def status_of(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in TIMEOUT:
        return "timeout"
    if code in NO_TESTS:
        return "no tests"
    return "suspicious"


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(module: str, tests: list[str], defaults: dict) -> Path:
    """The scratch folder mutmut runs in: links to the sources and a pyproject.toml aimed at one module."""
    work = SCRATCH / slug(module)
    owner = work / ".owner"
    if owner.exists() and alive(int(owner.read_text() or 0)):
        raise Busy(f"{module} is being run by process {owner.read_text()} (its folder is {work})")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    owner.write_text(str(os.getpid()))
    # bench/ too: a test reads the login form with the benchmark's own reader.
    for name in ("booking", "tests", "migrations", "bench", "wsgi.py", "gunicorn.conf.py"):
        (work / name).symlink_to(ROOT / name)
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    if "[tool.mutmut]" in pyproject:
        raise SystemExit("pyproject.toml has its own [tool.mutmut]: bench/mutation.toml is where the run is configured")
    settings = {
        "source_paths": toml_list(["booking"]),
        "only_mutate": toml_list([module]),
        "also_copy": toml_list(["migrations", "bench", "wsgi.py", "gunicorn.conf.py"]),
        "pytest_add_cli_args": toml_list(["-p", "no:cacheprovider", "-q"]),
        "pytest_add_cli_args_test_selection": toml_list(tests),
        "timeout_multiplier": str(float(defaults.get("timeout_multiplier", 5.0))),
        "timeout_constant": str(float(defaults.get("timeout_constant", 1.0))),
        # A fresh folder every time: nothing to compare with git, no earlier results to keep.
        "use_git_change_detection": "false",
    }
    section = "\n[tool.mutmut]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
    (work / "pyproject.toml").write_text(pyproject + section, "utf-8")
    return work


class Busy(Exception):
    """Another run has this module's scratch folder."""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return pid > 0


def function_span(source: str, function: str, cls: str | None) -> tuple[int, int] | None:
    """First and last line of a top-level function or a method, where mutmut found the mutant."""
    tree = ast.parse(source)
    body = tree.body
    if cls is not None:
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == cls:
                body = node.body
                break
        else:
            return None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return first, node.end_lineno or node.lineno
    return None


def describe(module: str, source: str, name: str, diff: str) -> tuple[int | None, str, str]:
    """The mutant's line in the real file and the text it changed, from mutmut's diff of the function."""
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    original = " / ".join(r.strip() for r in removed)
    mutated = " / ".join(a.strip() for a in added)
    function, cls = orig_function_and_class_names_from_key(name)
    span = function_span(source, function.rpartition(".")[-1], cls)
    line = None
    if span and removed:
        lines = source.splitlines()
        # The hunk counts from the function's first line as mutmut printed it (context lines first);
        # the removed text nearest that line, inside the function, is the mutant's line.
        guess = span[0]
        body = diff.splitlines()
        for i, text in enumerate(body):
            hunk = re.match(r"@@ -(\d+)", text)
            if hunk:
                context = next((n for n, t in enumerate(body[i + 1:]) if t.startswith("-")), 0)
                guess = span[0] + int(hunk.group(1)) - 1 + context
                break
        candidates = [
            n for n in range(span[0], span[1] + 1) if lines[n - 1].strip() == removed[0].strip()
        ]
        if candidates:
            line = min(candidates, key=lambda n: abs(n - guess))
    return line, original, mutated


def collect(module: str, work: Path) -> list[Mutant]:
    """Every mutant of the module with its result, read back from mutmut's own files in the scratch folder."""
    meta = work / "mutants" / (module + ".meta")
    exit_codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    source = (ROOT / module).read_text("utf-8")
    here = os.getcwd()
    os.chdir(work)
    try:
        from mutmut.configuration import reset_config
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        reset_config()
        mutants = []
        for name, code in sorted(exit_codes.items(), key=lambda kv: natural(kv[0])):
            status = status_of(code)
            diff = get_diff_for_mutant(name, path=Path(module))
            line, original, mutated = describe(module, source, name, diff)
            mutants.append(Mutant(name, status, line, original, mutated, diff))
        return mutants
    finally:
        os.chdir(here)


def natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def load_equivalents() -> list[dict]:
    if not EQUIVALENTS.exists():
        return []
    entries = tomllib.loads(EQUIVALENTS.read_text("utf-8")).get("equivalent", [])
    for entry in entries:
        missing = {"module", "line", "original", "mutated", "why"} - entry.keys()
        if missing:
            raise SystemExit(f"{EQUIVALENTS.name}: an entry lacks {', '.join(sorted(missing))}: {entry}")
    return entries


def mark_equivalents(result: Result, entries: list[dict]) -> None:
    """Match each entry to one mutant by its text (original and mutated); the line only picks between
    look-alikes, so an entry survives edits above it. An entry that matches nothing is stale."""
    for entry in (e for e in entries if e["module"] == result.module):
        same = [
            m for m in result.mutants
            if m.equivalent is None
            and m.original == entry["original"].strip()
            and m.mutated == entry["mutated"].strip()
        ]
        if not same:
            result.stale.append(entry)
            continue
        best = min(same, key=lambda m: abs((m.line or 0) - int(entry["line"])))
        if best.status == "killed":
            result.killed_equivalents.append(entry)  # a test tells it apart: it was never equivalent
        else:
            best.equivalent = entry


def stop_group(child: subprocess.Popen) -> None:
    """End mutmut and every worker it forked: SIGTERM, then SIGKILL for what is left after a grace period."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(child.pid, 0)
            except ProcessLookupError:
                child.wait()
                return
            child.poll()
            time.sleep(0.2)


def mutation_env(environ: dict[str, str], postgres: str | None = None) -> tuple[dict[str, str], int]:
    """The environment the tests run in, and how many mutants at once.

    SQLite and the memory storage only, whatever the caller's shell has set: the same figures on every
    run. With `postgres` (a database URL) the listed tests also run on that database, as the suite's
    own PostgreSQL run does, so that code only PostgreSQL reaches (row locks, the exclusion constraint,
    upserts) is mutated and tested too; the tests reset that database's schema, so mutants then run one
    at a time.
    """
    env = {k: v for k, v in environ.items()
           if k not in ("TEST_DATABASE_URL", "TEST_REDIS_URL") and not k.startswith("BOOKING_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if postgres:
        env["TEST_DATABASE_URL"] = postgres
        return env, 1
    return env, os.cpu_count() or 2


def run_module(module: str, tests: list[str], defaults: dict, entries: list[dict],
               postgres: str | None = None) -> Result:
    result = Result(module)
    missing = [t for t in tests if not (ROOT / t).exists()]
    if not (ROOT / module).exists() or missing:
        result.error = f"missing: {', '.join([module] * (not (ROOT / module).exists()) + missing)}"
        return result
    try:
        work = prepare(module, tests, defaults)
    except Busy as error:
        result.error = str(error)
        return result
    env, children = mutation_env(dict(os.environ), postgres)
    started = time.monotonic()
    try:
        with open(OUTPUT / f"{slug(module)}.mutmut.log", "w") as raw:
            # mutmut and the workers it forks get a process group of their own, ended together on an
            # interrupt; only then is the scratch folder removed (a worker still running would refill it).
            child = subprocess.Popen(
                [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
                cwd=work, env=env, stdout=raw, stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                code = child.wait()
            except BaseException:
                stop_group(child)
                raise
        result.seconds = time.monotonic() - started
        if code != 0 or not (work / "mutants" / (module + ".meta")).exists():
            tail = (OUTPUT / f"{slug(module)}.mutmut.log").read_text("utf-8", "replace")[-3000:]
            result.error = f"mutmut stopped with exit code {code}:\n{tail}"
            return result
        result.mutants = collect(module, work)
        mark_equivalents(result, entries)
        return result
    finally:
        if not os.environ.get("MUTATION_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def report(result: Result) -> str:
    out = [f"== {result.module}"]
    if result.error:
        out.append(f"   ERROR {result.error}")
        return "\n".join(out) + "\n"
    score = result.score
    out.append(
        f"   mutants {len(result.mutants)}, killed {result.count('killed')}, survived {result.count('survived')}, "
        f"equivalent (excluded) {result.equivalent}, timeouts {result.count('timeout')}, "
        f"no tests {result.count('no tests')}, suspicious {result.count('suspicious')}, "
        f"not checked {result.count('not checked')}"
    )
    out.append(
        f"   score {'n/a' if score is None else f'{score:.1%}'} = (killed + timeouts) / (mutants - equivalent)"
        f" = {result.detected} / {len(result.mutants) - result.equivalent}; {result.seconds:.0f} s"
    )
    if result.equivalent:
        out.append(f"   {result.equivalent} mutant(s) left out as equivalent ({EQUIVALENTS.relative_to(ROOT)})")
    for entry in result.stale:
        out.append(
            f"   STALE equivalent entry (matches no mutant): line {entry['line']}: "
            f"{entry['original']!r} -> {entry['mutated']!r}"
        )
    for entry in result.killed_equivalents:
        out.append(
            f"   KILLED equivalent entry (a test tells it apart, so it is not equivalent): line {entry['line']}: "
            f"{entry['original']!r} -> {entry['mutated']!r}"
        )
    alive = [m for m in result.mutants if m.status != "killed" and m.equivalent is None]
    if alive:
        out.append(f"   not killed ({len(alive)}):")
    for m in alive:
        out.append(f"   -- {result.module}:{m.line or '?'} [{m.status}] {m.name}")
        out.append(f"      original: {m.original}")
        out.append(f"      mutated:  {m.mutated}")
        out.extend("      " + line for line in m.diff.splitlines()[2:])
    return "\n".join(out) + "\n"


def save(result: Result) -> None:
    """The raw results beside the report, so --saved can score them again after an equivalent is added."""
    data = {"module": result.module, "seconds": result.seconds, "error": result.error,
            "mutants": [{k: v for k, v in vars(m).items() if k != "equivalent"} for m in result.mutants]}
    (OUTPUT / f"{slug(result.module)}.json").write_text(json.dumps(data, indent=1), "utf-8")


def load_saved(module: str, entries: list[dict]) -> Result:
    path = OUTPUT / f"{slug(module)}.json"
    if not path.exists():
        return Result(module, error=f"no saved run in {path.relative_to(ROOT)}")
    data = json.loads(path.read_text("utf-8"))
    result = Result(module, [Mutant(**m) for m in data["mutants"]], seconds=data["seconds"], error=data["error"])
    if result.mutants:
        source = (ROOT / module).read_text("utf-8")
        for m in result.mutants:
            m.line = describe(module, source, m.name, m.diff)[0] or m.line
    mark_equivalents(result, entries)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to run (default: every module in bench/mutation.toml)")
    parser.add_argument("--saved", action="store_true",
                        help="run nothing: score the last run's saved results again (after editing the equivalents)")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("MUTATION_POSTGRES"),
                        help="also run the tests on this PostgreSQL database (its schema is reset), so that "
                             "PostgreSQL-only code counts; one mutant at a time (env: MUTATION_POSTGRES)")
    args = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text("utf-8"))
    known = config["modules"]
    modules = args.modules or list(known)
    unknown = [m for m in modules if m not in known]
    if unknown:
        print(f"not in {CONFIG.relative_to(ROOT)}: {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    entries = load_equivalents()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    # SIGTERM ends the run as Ctrl-C does, so the scratch folder is removed either way.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = []
    try:
        for module in modules:
            if args.saved:
                result = load_saved(module, entries)
            else:
                print(f"== {module}: mutmut over {len(known[module]['tests'])} test file(s) ...", flush=True)
                result = run_module(module, known[module]["tests"], config.get("defaults", {}), entries, args.postgres)
                save(result)
            text = report(result)
            (OUTPUT / f"{slug(module)}.txt").write_text(text, "utf-8")
            print(text, flush=True)
            results.append(result)
    except KeyboardInterrupt:
        print("interrupted: the scratch folder is removed; the checkout was never written", file=sys.stderr)
        return 130
    if len(results) > 1:
        print("== summary")
        for r in results:
            score = "error" if r.error else ("n/a" if r.score is None else f"{r.score:.1%}")
            print(f"   {r.module:40} {score:>7}  {len(r.mutants):4} mutants  {r.seconds:5.0f} s")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
