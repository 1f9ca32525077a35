"""In Chromium, IBM's Equal Access engine (npm `accessibility-checker-engine`, its ace.js vendored under
tests/vendor/ with its licence, never served by the app) beside axe, on every page and swapped state of
the page walks of tests/test_browser_accessibility.py, in light and dark mode.

Two engines because each sees what the other does not: Equal Access checks the accessibility tree
(names, roles, states, the grid's cells), where axe looks more at markup and contrast. Every violation
fails the test except the few false positives listed in FALSE_POSITIVES, each matched by rule and
element, with the reason it is not a defect.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.live import DESKTOP
from tests.test_browser_accessibility import WALKS, open_clinic, settle

ACE = Path(__file__).resolve().parent / "vendor" / "ace.js"
POLICY = "IBM_Accessibility"

#: (rule id, a regular expression the element's XPath must match fully, one its opening tag must match,
#: why this is not a defect). Anything else the engine reports as a violation fails the test.
UNNAMED_FORM = r"<form\b(?![^>]*\baria-label(?:ledby)?=)(?![^>]*\btitle=)[^>]*>"
FALSE_POSITIVES: list[tuple[str, str, str, str]] = [
    ("input_autocomplete_valid", r"/html\[1\]/body\[1\]/main\[1\]/section\[1\]/form\[1\]/div\[1\]/input\[1\]",
     r'<input\b(?=[^>]*\btype="email")(?=[^>]*\bautocomplete="username")[^>]*\bid="email"[^>]*>',
     "the login e-mail field is type=email with autocomplete=username, which HTML allows since whatwg/html#5881"
     " (2020) and password managers expect; the engine still follows the older table"),
    ("input_autocomplete_valid",
     r"/html\[1\]/body\[1\]/main\[1\]/(?:div\[\d+\]/)*section\[1\]/div\[1\]/section\[1\]/form\[1\]/div\[[12]\]/input\[1\]",
     r'<input\b(?=[^>]*\btype="email")(?=[^>]*\bautocomplete="username")[^>]*\bid="email"[^>]*>',
     "the same login e-mail field in the login form at the confirm step (its first section, beside the"
     " registration form), for the same reason"),
    ("aria_form_label_unique", r".*/form\[\d+\]", UNNAMED_FORM,
     "a form without an accessible name is not a landmark (HTML-AAM gives it the form role only when it is"
     " named), so there are no landmarks to tell apart; naming each row's approve or cancel form would put"
     " dozens of landmarks into a screen reader's list of them instead"),
    ("aria_landmark_name_unique", r".*/form\[\d+\]", UNNAMED_FORM,
     "the same unnamed forms, reported a second time as landmarks with the same empty name"),
    ("input_checkboxes_grouped", r"/html\[1\]/body\[1\]/main\[1\]/section\[1\]/form\[1\]/label\[1\]/input\[1\]",
     r'<input\b(?=[^>]*\btype="checkbox")[^>]*\bname="auto_approve"[^>]*>',
     "/admin/services with a row open: the new-service form's one auto_approve checkbox and the open row's are"
     " in two different forms, not a set; the engine looks for a set in the nearest element with an explicit"
     " form role, and without one in the whole document"),
]


def equal_access_violations(page: Any) -> list[dict[str, str]]:
    """The engine's violations (not its "needs review" items) on the page as it is now."""
    if not page.evaluate("typeof window.ace !== 'undefined'"):
        page.evaluate(ACE.read_text())  # through DevTools, so the page's CSP (rightly) does not apply
    found = page.evaluate(
        """async (policy) => {
            const report = await new ace.Checker().check(document, [policy]);
            return report.results
                .filter(r => r.value[0] === 'VIOLATION' && r.value[1] === 'FAIL')
                .map(r => ({rule: r.ruleId, path: r.path.dom, message: r.message,
                            snippet: r.snippet || ''}));
        }""",
        POLICY,
    )
    return [v for v in found if not excused(v)]


def excused(violation: dict[str, str]) -> bool:
    return any(rule == violation["rule"] and re.fullmatch(path, violation["path"])
               and re.match(tag, violation["snippet"]) for rule, path, tag, _ in FALSE_POSITIVES)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role", list(WALKS))
def test_every_page_passes_equal_access(live, browser, role, scheme):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=DESKTOP, color_scheme=scheme)
    found: dict[str, list[dict[str, str]]] = {}
    pages = 0
    for name in WALKS[role](page, clinic):
        settle(page)
        pages += 1
        violations = equal_access_violations(page)
        if violations:
            found[f"{role}-{name} ({page.url})"] = violations
    page.context.close()
    assert pages >= 5
    lines = [f"Equal Access found violations on {len(found)} of {pages} pages:"]
    for where, violations in found.items():
        lines.append(where)
        lines.extend(f"  {v['rule']}: {v['message']}\n      at {v['path']}\n      {v['snippet'][:160]}" for v in violations)
    assert not found, "\n".join(lines)


def test_the_engine_runs_and_reports_what_it_should(browser):  # type: ignore[no-untyped-def]
    """A canary: an image without a text alternative and an unnamed button are found, so a clean walk
    means a clean page and not an engine that never ran."""
    page = browser.new_page()
    page.set_content('<!doctype html><html lang="en"><head><title>Canary</title></head><body><main>'
                     '<h1>Canary</h1><img src="data:," width="10" height="10"><button></button></main></body></html>')
    rules = {v["rule"] for v in equal_access_violations(page)}
    page.close()
    assert {"img_alt_valid", "input_label_exists"} <= rules, rules


@pytest.mark.parametrize("violation, expected", [
    ({"rule": "aria_form_label_unique", "path": "/html[1]/body[1]/main[1]/form[2]",
      "snippet": '<form method="post" action="/staff/appointments/3/approve">'}, True),
    ({"rule": "aria_form_label_unique", "path": "/html[1]/body[1]/main[1]/form[2]",
      "snippet": '<form aria-label="Approve" method="post">'}, False),  # a named form is a landmark
    ({"rule": "aria_landmark_name_unique", "path": "/html[1]/body[1]/main[1]/nav[1]",
      "snippet": "<nav>"}, False),
    ({"rule": "aria_content_in_landmark", "path": "/html[1]/body[1]/main[1]/form[1]",
      "snippet": "<form>"}, False),  # another rule on the same element
    ({"rule": "input_autocomplete_valid",
      "path": "/html[1]/body[1]/main[1]/section[1]/form[1]/div[1]/input[1]",
      "snippet": '<input type="email" name="email" id="email" autocomplete="username">'}, True),
    ({"rule": "input_autocomplete_valid",
      "path": "/html[1]/body[1]/main[1]/section[1]/form[1]/div[1]/input[1]",
      "snippet": '<input type="email" name="email" id="email" autocomplete="nickname">'}, False),
    ({"rule": "input_autocomplete_valid",  # the confirm step's login form, swapped into the calendar
      "path": "/html[1]/body[1]/main[1]/div[2]/div[1]/section[1]/div[1]/section[1]/form[1]/div[2]/input[1]",
      "snippet": '<input value="" type="email" name="email" id="email" autocomplete="username">'}, True),
    ({"rule": "input_autocomplete_valid",  # the registration form's e-mail field beside it is not forgiven
      "path": "/html[1]/body[1]/main[1]/section[1]/div[1]/section[2]/form[1]/div[2]/input[1]",
      "snippet": '<input type="email" name="email" id="register-email" autocomplete="username">'}, False),
    ({"rule": "input_checkboxes_grouped",
      "path": "/html[1]/body[1]/main[1]/section[1]/form[1]/label[1]/input[1]",
      "snippet": '<input value="yes" name="active" type="checkbox">'}, False),
])
def test_only_the_documented_false_positives_are_forgiven(violation, expected):  # type: ignore[no-untyped-def]
    assert excused(violation) is expected
