"""In Chromium, every page of every role on a phone (390x844) and a desktop (1280x800): a full-page
screenshot kept under test-output/screenshots/ (role-page-phone.png, ...), no sideways scrolling on the
phone, calendar days and time buttons big enough for a thumb; and the first visit to the booking pages
is light: under 60 KB on the wire with an empty cache, all of it from the app itself.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live import DESKTOP, PHONE, SHOTS, screenshot
from tests.test_browser_accessibility import WALKS, log_in, open_clinic, settle

TAP = 44  # CSS px, WCAG 2.5.5 and the platforms' guidance
BUDGET = 60 * 1024

OVERFLOW = """() => {
    const width = window.innerWidth;
    const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
    const wide = [...document.body.querySelectorAll('*')]
        .filter(el => el.getBoundingClientRect().right > width + 0.5
                      && (!scrolls(el) || ['absolute', 'fixed'].includes(getComputedStyle(el).position)))
        .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
             + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""

SMALL_TARGETS = """([selector, min]) => [...document.querySelectorAll(selector)]
    .map(el => ({el, box: el.getBoundingClientRect()}))
    .filter(({box}) => box.width < min || box.height < min)
    .map(({el, box}) => `${el.getAttribute('data-day') || el.getAttribute('data-slot-start') || el.outerHTML.slice(0, 60)}`
                        + ` is ${box.width.toFixed(1)}x${box.height.toFixed(1)}`)"""


def small_targets(page: Any, selector: str) -> list[str]:
    count = page.locator(selector).count()
    assert count > 0, f"nothing matches {selector} on {page.url}"
    return list(page.evaluate(SMALL_TARGETS, [selector, TAP]))


@pytest.mark.parametrize("role", list(WALKS))
def test_every_page_fits_a_phone_and_a_desktop(live, browser, role):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    problems: list[str] = []
    shots = 0
    for run, (device, viewport) in enumerate((("phone", PHONE), ("desktop", DESKTOP))):
        page = live.page(browser, viewport=viewport)
        for name in WALKS[role](page, clinic, run):
            settle(page)
            screenshot(page, f"{role}-{name}-{device}")
            shots += 1
            where = f"{role}-{name}-{device} ({urlsplit(page.url).path})"
            fit = page.evaluate(OVERFLOW)  # the phone is the point; the desktop must not scroll either
            if fit["scrollWidth"] > fit["width"]:
                problems.append(f"{where}: {fit['scrollWidth']} px wide in a {fit['width']} px window;"
                                f" too wide: {', '.join(fit['wide']) or '?'}")
            if name in ("calendar", "slots"):
                problems += [f"{where}: calendar day {s}" for s in small_targets(page, "#calendar td a")]
            if name == "slots":
                problems += [f"{where}: time button {s}" for s in small_targets(page, "[data-slot-start]")]
        page.context.close()
    assert shots >= 10 and (SHOTS / f"{role}-{name}-desktop.png").exists()
    assert not problems, "\n".join(problems)


# --- weight of a first visit -------------------------------------------------------------------------


def first_load(live: Any, browser: Any, state: dict, path: str) -> dict[str, Any]:
    """Load `path` in a new context (empty cache, the given cookies) and add up what crossed the wire."""
    context = browser.new_context(base_url=live.url, storage_state=state, viewport=PHONE)
    page = context.new_page()
    requested: list[str] = []
    finished: list[Any] = []

    def done(request: Any) -> None:
        finished.append(request)

    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfinished", done)
    response = page.goto(path)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    for _ in range(50):  # the browser asks for the icon on its own schedule
        if any("/favicon" in request.url for request in finished):
            break
        page.wait_for_timeout(100)
    page.remove_listener("requestfinished", done)  # later polls are not part of the first load
    resources = []
    for request in finished:
        if request.url.startswith("data:"):
            continue
        answer = request.response()
        sizes = request.sizes()
        resources.append({
            "url": urlsplit(request.url).path, "type": request.resource_type, "status": answer.status if answer else None,
            "encoding": (answer.headers.get("content-encoding") if answer else None) or "identity",
            "body": sizes["responseBodySize"], "headers": sizes["responseHeadersSize"],
        })
    context.close()
    by_type: dict[str, int] = {}
    for r in resources:
        by_type[r["type"]] = by_type.get(r["type"], 0) + r["body"] + r["headers"]
    return {"path": path, "requested": requested, "resources": resources, "by_type": by_type,
            "total": sum(by_type.values())}


@pytest.mark.parametrize("which", ["book", "calendar"])
def test_the_first_visit_is_light_and_all_local(live, browser, which):  # type: ignore[no-untyped-def]
    clinic = open_clinic()
    page = live.page(browser, viewport=PHONE)
    log_in(page, clinic.patient_email)
    state = page.context.storage_state()
    page.context.close()
    path = "/book/" if which == "book" else f"/book/{clinic.provider_id}?service={clinic.service_id}"

    load = first_load(live, browser, state, path)

    SHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SHOTS.parent / f"weight-{which}.json").write_text(json.dumps(load, indent=2))
    summary = ", ".join(f"{kind} {size / 1024:.1f} KB" for kind, size in sorted(load["by_type"].items()))
    print(f"\n{path}: {load['total'] / 1024:.1f} KB in {len(load['resources'])} responses ({summary})")

    origin = urlsplit(live.url).netloc
    elsewhere = [url for url in load["requested"] if not url.startswith("data:") and urlsplit(url).netloc != origin]
    assert not elsewhere, f"requests left the app: {elsewhere}"
    kinds = {r["type"] for r in load["resources"]}
    assert {"document", "stylesheet", "script"} <= kinds, load["resources"]
    assert all(r["status"] == 200 for r in load["resources"]), "an empty cache has nothing to revalidate"
    assert any(r["url"].startswith("/static/vendor/htmx") for r in load["resources"])
    assert any(r["url"].startswith("/static/favicon") for r in load["resources"])
    uncompressed = [r["url"] for r in load["resources"] if r["type"] in ("document", "stylesheet", "script")
                    and r["encoding"] == "identity" and r["body"] > 1024]
    assert not uncompressed, f"sent uncompressed: {uncompressed}"
    assert load["total"] < BUDGET, (f"{path} moved {load['total'] / 1024:.1f} KB ({summary}):\n"
                                    + "\n".join(f"  {r['url']} {r['body']} B {r['encoding']}" for r in load["resources"]))
