"""The W3C Nu HTML Checker (vnu.jar, from npm's `vnu-jar` under tests/js) over a batch of documents.

One Java start checks a whole batch. The only errors forgiven are htmx's own attributes (`hx-get`,
`hx-swap-oob`, ...), which HTML does not define: `is_htmx_attribute` matches exactly the checker's
message for an attribute named hx-... on any element, and nothing else. Every batch also carries a
document with one known error, so a checker that did not run, or a filter that grew too wide, fails the
test instead of passing it in silence.

vnu.jar is installed by `make test` (npm ci in tests/js); without Java or vnu.jar these tests skip, and
in CI they fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

VNU = Path(__file__).resolve().parent / "js" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
OUT = Path(__file__).resolve().parent.parent / "test-output" / "html"

#: The checker's words for an attribute HTML does not know, when the attribute is one of htmx's.
HX_ATTRIBUTE = re.compile(r"Attribute \u201chx-[a-z][a-z0-9:._-]*\u201d not allowed on element \u201c[a-z][a-z0-9-]*\u201d"
                          r" at this point\.")
#: A document with one error of its own, checked in every batch (see `check`).
CANARY_NAME = "canary-with-a-known-error"
CANARY = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Canary</title></head>'
          '<body><main><h1>Canary</h1><p hx-get="/x" unknown-attribute="1">text</p></main></body></html>')
CANARY_ERROR = "Attribute \u201cunknown-attribute\u201d not allowed on element \u201cp\u201d at this point."


@dataclass(frozen=True)
class Problem:
    document: str
    line: int | None
    message: str
    extract: str

    def __str__(self) -> str:
        where = f"{self.document}:{self.line}" if self.line else self.document
        return f"{where}: {self.message}\n      {self.extract.strip()[:160]!r}"


def is_htmx_attribute(message: str) -> bool:
    """True only for the checker's error about an hx-... attribute (unknown to HTML) on some element."""
    return HX_ATTRIBUTE.fullmatch(message) is not None


def checker_or_skip() -> list[str]:
    """The command that runs the checker; skips (fails in CI) when Java or vnu.jar is missing."""
    java = shutil.which("java")
    missing = ("Java (apt-get install default-jre-headless)" if java is None
               else f"{VNU} (make test installs it: npm ci --prefix tests/js --ignore-scripts)" if not VNU.exists()
               else None)
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the HTML checker, but this is missing: {missing}")
        pytest.skip(f"the HTML checker needs {missing}")
    return [str(java), "-jar", str(VNU)]


def run_checker(files: list[Path]) -> list[dict]:
    """Every message the checker has on `files` (errors, warnings and its own failures), in one run."""
    command = [*checker_or_skip(), "--format", "json", "--stdout", "--exit-zero-always", *map(str, files)]
    found = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        return list(json.loads(found.stdout)["messages"])
    except (ValueError, KeyError):
        pytest.fail(f"the HTML checker gave no report (exit {found.returncode}):\n{found.stdout}\n{found.stderr}")


def check(documents: dict[str, str], group: str) -> list[Problem]:
    """Check each named document as a whole HTML document; the errors left once hx-* are forgiven.

    The documents are kept under test-output/html/<group>/ (CI keeps them with the screenshots), so a
    report's line numbers can be looked up.
    """
    folder = OUT / group
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files: dict[str, str] = {}  # file name -> document name
    for name, text in {**documents, CANARY_NAME: CANARY}.items():
        path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.html"
        assert path.name not in files, f"two documents are both called {path.name}"
        path.write_text(text, encoding="utf-8")
        files[path.name] = name
    messages = run_checker([folder / file for file in files])
    problems = [Problem(files.get(m.get("url", "").rsplit("/", 1)[-1], m.get("url", "?")), m.get("lastLine"),
                        m["message"], m.get("extract", ""))
                for m in messages
                if m["type"] != "info" and not (m["type"] == "error" and is_htmx_attribute(m["message"]))]
    canary = [p for p in problems if p.document == CANARY_NAME]
    assert [p.message for p in canary] == [CANARY_ERROR], (
        f"the checker did not report the canary's one error as expected: {canary or 'nothing'}")
    return [p for p in problems if p.document != CANARY_NAME]


def report(problems: list[Problem], checked: int) -> str:
    documents = sorted({p.document for p in problems})
    return "\n".join([f"the HTML checker found {len(problems)} errors in {len(documents)} of {checked} documents:",
                      *(f"  {p}" for p in problems)])


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.h1 += tag == "h1"


def h1_count(html: str) -> int:
    """How many h1 a document has: a page says what it is in exactly one."""
    parser = _Headings()
    parser.feed(html)
    return parser.h1
