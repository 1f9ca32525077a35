"""GET /calendar/<token>.ics: the private feed calendar apps subscribe to (no login: the token is the key)."""
from __future__ import annotations

from flask import Response, abort, current_app

from booking.account import bp
from booking.services.feeds import feed_for, feed_owner


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):  # type: ignore[no-untyped-def]
    owner = feed_owner(token)
    if owner is None:
        abort(404, "There is no calendar at this address. It may have been replaced by a new one.")
    return Response(feed_for(owner, current_app.config["CLINIC_NAME"]), mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="appointments.ics"',
        # A subscriber polls; a shared cache must never keep a private calendar.
        "Cache-Control": "private, no-store",
        "X-Robots-Tag": "noindex",
    })
