"""The mutation run's own bookkeeping (bench/mutation.py): which mutants count, where they are, and that
the list of equivalents cannot go stale unnoticed. mutmut itself is not run here (`make mutation` does)."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
mutation = pytest.importorskip("mutation")
pytest.importorskip("mutmut")

SOURCE = '''\
def first(x):
    if x > 1:
        return 1
    return 0


class Box:
    def size(self, x):
        if x > 1:
            return 1
        return 0
'''


def _diff(hunk_start: int, context: list[str], removed: str, added: str) -> str:
    return "\n".join(["--- m.py", "+++ m.py", f"@@ -{hunk_start},4 +{hunk_start},4 @@", *context,
                      "-" + removed, "+" + added])


def _mutant(name: str, status: str, original: str, mutated: str, line: int) -> mutation.Mutant:
    return mutation.Mutant(name, status, line, original, mutated, diff="")


def test_a_mutant_is_placed_on_its_own_line_even_when_the_same_text_appears_twice_in_the_file():
    diff = _diff(1, [" def size(self, x):"], "    if x > 1:", "    if x >= 1:")
    line, original, mutated = mutation.describe("m.py", SOURCE, "m.xǁBoxǁsize__mutmut_1", diff)
    assert (line, original, mutated) == (9, "if x > 1:", "if x >= 1:")
    line, *_ = mutation.describe("m.py", SOURCE, "m.x_first__mutmut_1", _diff(1, [" def first(x):"],
                                                                              "    if x > 1:", "    if x >= 1:"))
    assert line == 2


def test_a_mutant_later_in_a_function_counts_the_diffs_context_lines():
    diff = _diff(1, [" def first(x):", "     if x > 1:", "         return 1"], "    return 0", "    return 1")
    assert mutation.describe("m.py", SOURCE, "m.x_first__mutmut_2", diff)[0] == 4


def test_listed_equivalents_leave_the_score_and_an_entry_matching_nothing_is_stale():
    result = mutation.Result("m.py", [
        _mutant("a", "killed", "if x > 1:", "if x >= 1:", 2),
        _mutant("b", "survived", "return 0", "return 1", 4),
        _mutant("c", "survived", "return 0", "return 1", 11),
        _mutant("d", "survived", "if x > 1:", "if x > 2:", 9),
    ])
    entries = [
        {"module": "m.py", "line": 12, "original": "return 0", "mutated": "return 1", "why": "w"},
        {"module": "m.py", "line": 3, "original": "gone()", "mutated": "None", "why": "w"},
        {"module": "other.py", "line": 1, "original": "x", "mutated": "y", "why": "w"},
    ]
    mutation.mark_equivalents(result, entries)
    assert [m.name for m in result.mutants if m.equivalent] == ["c"]  # the line picks between look-alikes
    assert [e["original"] for e in result.stale] == ["gone()"]  # other modules' entries are not judged here
    assert result.score == 1 / 3
    report = mutation.report(result)
    assert "equivalent (excluded) 1" in report and "STALE" in report and "score 33.3%" in report


def test_a_mutant_stopped_at_the_time_limit_counts_as_found_and_is_still_listed():
    result = mutation.Result("m.py", [
        _mutant("a", "killed", "if x > 1:", "if x >= 1:", 2),
        _mutant("b", "timeout", "i += 1", "i += 0", 4),
        _mutant("c", "survived", "return 0", "return 1", 6),
        _mutant("d", "no tests", "return 2", "return 3", 8),
    ])
    assert result.score == 2 / 4
    report = mutation.report(result)
    assert "score 50.0%" in report and "[timeout]" in report and "[survived]" in report


def test_an_equivalent_entry_whose_mutant_a_test_kills_is_reported_and_not_excluded():
    result = mutation.Result("m.py", [_mutant("a", "killed", "if x > 1:", "if x >= 1:", 2)])
    mutation.mark_equivalents(result, [{"module": "m.py", "line": 2, "original": "if x > 1:",
                                        "mutated": "if x >= 1:", "why": "w"}])
    assert result.equivalent == 0 and result.killed_equivalents and result.score == 1.0
    assert "KILLED equivalent entry" in mutation.report(result)


@pytest.mark.parametrize(("code", "status"), [(1, "killed"), (3, "killed"), (0, "survived"), (36, "timeout"),
                                               (-24, "timeout"), (33, "no tests"), (None, "not checked"),
                                               (99, "suspicious")])
def test_mutmuts_exit_codes_are_read_as_mutmut_reads_them(code, status):
    assert mutation.status_of(code) == status


def test_the_checked_in_configuration_names_existing_modules_and_tests_and_complete_equivalents():
    config = tomllib.loads((ROOT / "bench" / "mutation.toml").read_text("utf-8"))
    for module, table in config["modules"].items():
        assert (ROOT / module).is_file(), module
        assert table["tests"] and all((ROOT / t).is_file() for t in table["tests"]), module
    for entry in mutation.load_equivalents():  # refuses an entry without its module, line, texts or why
        assert entry["module"] in config["modules"], entry


def test_the_run_keeps_to_sqlite_unless_a_postgresql_database_is_named():
    shell = {"PATH": "/usr/bin", "TEST_DATABASE_URL": "postgresql://x/y", "TEST_REDIS_URL": "redis://z",
             "BOOKING_SECRET_KEY": "k", "HOME": "/root"}
    env, children = mutation.mutation_env(shell)
    assert "TEST_DATABASE_URL" not in env and "TEST_REDIS_URL" not in env and "BOOKING_SECRET_KEY" not in env
    assert env["PATH"] == "/usr/bin" and env["PYTHONDONTWRITEBYTECODE"] == "1" and children >= 1
    env, children = mutation.mutation_env(shell, "postgresql://postgres@127.0.0.1/mutation")
    assert env["TEST_DATABASE_URL"] == "postgresql://postgres@127.0.0.1/mutation" and "TEST_REDIS_URL" not in env
    assert children == 1, "one database: one mutant at a time"
