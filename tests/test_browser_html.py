"""The W3C Nu HTML Checker on every page of every role and every state htmx swaps in: no error but htmx's
own hx-* attributes (see tests/html_check.py for that one filter).

The browser suite's page walks (tests/test_browser_accessibility.py) lead the way, plus the moving of an
appointment. At each state two kinds of document are checked:
- the page as the browser now holds it (its DOM, serialised): a fragment is judged where it lands, in the
  page it was swapped into, since on its own it is not a document;
- the document the server sends for the address shown and for every address htmx fetched a fragment
  from, asked for again as a plain request (no HX-Request): what a reload, a history restore or a
  browser without JavaScript gets. Each of those also has exactly one h1.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.html_check import OUT, check, h1_count, report
from tests.live import DESKTOP
from tests.test_browser_accessibility import WALKS, Clinic, log_in, open_clinic, settle, visit


def moving_pages(page: Any, clinic: Clinic) -> Iterator[str]:
    """A patient moves their appointment: the calendar in moving mode, its times, the confirm step."""
    log_in(page, clinic.patient_email)
    visit(page, f"/me/appointments/{clinic.appointment_id}/reschedule")  # redirects to the moving calendar
    page.wait_for_selector("#calendar")
    yield "calendar"
    if page.locator("#calendar a[data-day]").count() == 0:  # the end of a month: the next month has the days
        page.click("#calendar a[rel=next]")
        page.wait_for_function("() => document.querySelectorAll('#calendar a[data-day]').length > 0")
    page.locator("#calendar a[data-day]").last.click()
    page.wait_for_selector("#slots [data-slot-start]")
    yield "slots"
    page.locator("#slots [data-slot-start]").last.click()
    page.wait_for_selector("#confirm-title")
    yield "confirm"
    page.click("#slots form[method=post] button[type=submit]")
    page.wait_for_url(f"**/me/appointments/{clinic.appointment_id}")
    yield "moved"


PAGES = {**WALKS, "patient-moving": lambda page, clinic, run=0: moving_pages(page, clinic)}


LINKS = """() => [...document.querySelectorAll('a[href]')].map(a => a.href)
    .filter(href => href.startsWith(location.origin + '/') && !href.startsWith(location.origin + '/static/'))"""


def shape(url: str) -> tuple[str, tuple[str, ...]]:
    """What kind of page an address is: its path with the ids taken out, and the names it asks with.
    One page of each shape is enough (a calendar offers thirty days, all the same page)."""
    parts = urlsplit(url)
    return re.sub(r"/\d+(?=/|$)", "/<id>", parts.path), tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def plain(url: str) -> str:
    """The address without the `known` token a live refresh adds (the same page, whatever it knew)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "known"]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_and_state_is_valid_html(live, browser, role):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=DESKTOP)
    fetched: list[str] = []  # what htmx asked for with GET, in order
    page.on("request", lambda r: fetched.append(r.url) if r.method == "GET" and r.headers.get("hx-request") else None)
    documents: dict[str, str] = {}
    served: dict[str, str] = {}  # address -> document name
    shapes: set[tuple[str, tuple[str, ...]]] = set()
    headings: list[str] = []
    for name in PAGES[role](page, clinic):
        settle(page)
        documents[f"{role}-{name}-dom"] = page.content()
        # the documents behind this state, and one page of each kind it links to
        wanted = [(url, True) for url in [page.url, *fetched]] + [(url, False) for url in page.evaluate(LINKS)]
        fetched.clear()
        for url, always in wanted:
            address = plain(url)
            if address in served or not always and shape(address) in shapes:
                continue
            shapes.add(shape(address))
            served[address] = doc = f"{role}-{name}-served-{len(served)}"
            answer = page.request.get(address)
            kind = answer.headers.get("content-type", "")
            if answer.status == 204 or not kind.startswith("text/html"):
                continue
            body = answer.text()
            documents[doc] = body
            if h1_count(body) != 1:
                headings.append(f"{doc} ({urlsplit(address).path}, {answer.status}): {h1_count(body)} h1")
    page.context.close()

    problems = check(documents, role)
    (OUT / role / "addresses.txt").write_text("".join(f"{doc} {address}\n" for address, doc in served.items()))

    assert len(documents) >= 8, sorted(documents)
    assert not problems and not headings, "\n".join(
        ([report(problems, len(documents))] if problems else [])
        + (["a served page should have exactly one h1:", *headings] if headings else []))
