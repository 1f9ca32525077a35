"""The few htmx request and response helpers the app needs.

A view that answers differently to htmx calls `wants_fragment()`; that also marks the response to carry
`Vary: HX-Request`, so a cache never serves a fragment for a page or the other way round.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Response, g, get_flashed_messages, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_boosted() -> bool:
    return request.headers.get("HX-Boosted") == "true"


def is_history_restore() -> bool:
    return request.headers.get("HX-History-Restore-Request") == "true"


def target() -> str | None:
    """The id of the element htmx will swap into, if it said."""
    return request.headers.get("HX-Target")


def wants_fragment() -> bool:
    """True when the answer should be a fragment, not a whole page.

    Boosted requests and history restores swap the whole body, so they get the full page.
    """
    g.vary_hx_request = True
    return is_htmx() and not is_boosted() and not is_history_restore()


def render(page: str, fragment: str, status: int = 200, /, **context: Any) -> tuple[str, int]:
    """Render `fragment` for an htmx request that asked for one, else the full `page`."""
    return render_template(fragment if wants_fragment() else page, **context), status


def go(url: str) -> Response:
    """Redirect after a successful POST: 303 for a classic form; for htmx, HX-Redirect, so the browser
    loads the whole new page instead of swapping it into the form."""
    if wants_fragment():
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url, 303)


def add_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Merge an event into the response's HX-Trigger header (JSON, ASCII-safe)."""
    raw = response.headers.get("HX-Trigger")
    events: dict[str, Any] = json.loads(raw) if raw else {}
    if event == "toast" and "toast" in events:
        events["toast"]["messages"].extend(detail["messages"])
    else:
        events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def toast(response: Response, message: str, level: str = "info") -> Response:
    """Show a message to the user from a fragment response."""
    return add_trigger(response, "toast", {"messages": [{"level": level, "text": message}]})


def finish_response(response: Response) -> Response:
    """after_request: add Vary, and deliver flashed messages as toasts when only a fragment is swapped.

    A full page shows flashed messages in its message area; a fragment has none, so the messages ride
    in HX-Trigger instead and are never lost. Redirects keep them for the page they lead to.
    """
    if g.get("vary_hx_request"):
        response.vary.add("HX-Request")
    redirecting = 300 <= response.status_code < 400 or "HX-Redirect" in response.headers
    if g.get("vary_hx_request") and wants_fragment() and not redirecting:
        for level, text in get_flashed_messages(with_categories=True):
            toast(response, text, "info" if level == "message" else level)
    return response
