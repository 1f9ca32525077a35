"""Small helpers shared by the blueprints' views and templates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from functools import lru_cache
from urllib.parse import urlsplit

from flask import abort, current_app, has_request_context, request
from flask import url_for as flask_url_for
from werkzeug.routing import IntegerConverter

from booking.assets import fingerprinted
from booking.extensions import db
from flask_login import current_user

from booking.domain.roles import HOME_ENDPOINT, Role
from booking.domain.locale import clinic_locale
from booking.domain.timezones import format_local, format_range, in_own_zone, zone_words

#: Navigation by role: (endpoint, label). The first entry is the role's home.
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.PATIENT: [("patient.providers", "Book"), ("patient.appointments", "My appointments"),
                   ("account.profile_page", "Account")],
    Role.STAFF: [("staff.requests", "Requests"), ("staff.schedule", "Schedule"), ("staff.hours", "Working hours"),
                 ("staff.time_off", "Time off"), ("staff.profile", "My profile"), ("account.profile_page", "Account")],
    Role.ADMIN: [
        ("admin.dashboard", "Dashboard"),
        ("admin.appointments", "Appointments"),
        ("staff.requests", "Requests"),
        ("admin.providers", "Providers"),
        ("admin.services", "Services"),
        ("admin.specialties", "Specialties"),
        ("admin.users", "Users"),
        ("admin.outbox_view", "Outbox"),
        ("account.profile_page", "Account"),
    ],
}


CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


#: Highest page number we will compute: far past any real table, far below an integer overflow.
MAX_PAGE = 100_000
#: Largest id a URL may carry: PostgreSQL's integer primary keys stop here.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive database id; anything larger than a key can be is a 404, not a 500."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, min=1, max=MAX_ID)


def refuse_control_characters() -> None:
    """before_request: no NUL or other control characters in the path, query or form values.

    PostgreSQL cannot store NUL in text at all (the driver raises), and no person types one: such input
    is answered 400 before it can reach a query and become a 500.
    """
    for value in (request.path, *request.args.values(), *request.form.values()):
        if any(ord(c) < 32 and c not in "\t\r\n" or c == "\x7f" for c in value):
            abort(400, "The request contained characters that are not allowed.")


def paginate(query: Any, per_page: int | None = None) -> Any:
    """One page of `query` from the `page` argument; nonsense pages show the first, absurd ones 404."""
    page = request.args.get("page", 1, type=int) or 1
    if page > MAX_PAGE:
        abort(404)
    return db.paginate(
        query, page=max(page, 1), per_page=per_page or current_app.config["PER_PAGE"], error_out=False, count=True
    )


def money(cents: int | None) -> str:
    """Prices are kept in cents; shown with two decimals and the clinic's currency."""
    if cents is None:
        return ""
    code = current_app.config["CURRENCY"]
    amount = f"{cents / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{amount}" if symbol else f"{amount} {code}"


def initials(name: str) -> str:
    """"Dr Amelia Hart" -> "AH": the letters on a provider's photo placeholder."""
    words = [w for w in name.split() if w.rstrip(".").lower() not in {"dr", "mr", "mrs", "ms", "prof"}]
    return "".join(w[0] for w in words[:1] + words[1:][-1:]).upper()


def machine_time(instant: datetime) -> str:
    """"2026-11-23T09:30:00Z": an instant as a `<time datetime>` attribute (and any machine) reads it.

    In UTC and to the second: HTML allows at most three digits of a fraction of a second, where
    Python's isoformat writes six. A time without a zone is UTC, as every stored time is.
    """
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=16_384)
def _cached_url(script_root: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
    return flask_url_for(endpoint, **dict(values))


def url_for(endpoint: str, **values: Any) -> str:
    """Flask's url_for, remembered: a calendar page builds a dozen links and building them was a
    fifth of its cost. Only app-relative links of absolute endpoints are remembered (the key holds
    everything they depend on); anything else is built as usual."""
    if endpoint == "static" and "filename" in values:
        values = {**values, "filename": fingerprinted(values["filename"])}
    if endpoint.startswith(".") or any(key.startswith("_") for key in values):
        return flask_url_for(endpoint, **values)
    try:
        key = tuple(sorted((k, v) for k, v in values.items() if v is not None))
        hash(key)
    except TypeError:
        return flask_url_for(endpoint, **values)
    return _cached_url(request.script_root, endpoint, key)


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint` on the public site (BASE_URL), for links that leave the site:
    e-mails, calendar files, feeds, the feed address people copy. Never built from the request, whose
    Host header the client chose; works outside requests too (commands send mail)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def init_templates(app: Any) -> None:
    app.jinja_env.globals["url_for"] = url_for
    app.jinja_env.globals["public_url"] = public_url
    app.jinja_env.globals["clinic_locale"] = clinic_locale(app.config["LOCALE"])  # lang=, date and time fields
    app.context_processor(template_context)
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_control_characters)
    app.add_template_filter(format_local, "local")
    app.add_template_filter(money, "money")
    app.add_template_filter(initials, "initials")
    app.add_template_filter(machine_time, "machine_time")
    app.add_template_filter(format_range, "local_range")
    app.add_template_filter(zone_words, "zone_words")
    app.add_template_filter(in_own_zone, "in_own_zone")
    app.jinja_env.globals["own_zone"] = own_zone
    app.jinja_env.globals["timedelta"] = timedelta
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(timezone.utc)


def own_zone(viewer: Any) -> str | None:
    """The time zone a logged-in person chose for themselves (account settings), if any: pages show
    times on the provider's clock, and on theirs too when it differs."""
    profile = getattr(viewer, "profile", None) if viewer is not None else None
    return profile.timezone if profile is not None and profile.timezone else None


def home_url(user: Any) -> str:
    """Where a user lands: their role's home, or the public start page for a visitor."""
    if not getattr(user, "is_authenticated", False):
        return url_for("home.index")
    return url_for(HOME_ENDPOINT[Role(user.role)])


def template_context() -> dict[str, Any]:
    from booking.models.queries import pending_count

    nav: list[tuple[str, str]] = []
    count = None
    in_request = has_request_context()  # e-mails are rendered from commands too
    viewer = current_user._get_current_object() if in_request and current_user.is_authenticated else None
    if viewer is not None:
        nav = NAVIGATION[Role(viewer.role)]
        if viewer.has_role(Role.STAFF, Role.ADMIN):
            count = pending_count(viewer)
    return {
        "viewer": viewer,  # the user object itself: templates read it often, and the proxy costs each time
        "current_endpoint": request.endpoint if in_request else None,
        "live_refresh_seconds": current_app.config["LIVE_REFRESH_SECONDS"],
        "pending_count": count,
        "clinic_name": current_app.config["CLINIC_NAME"],
        "navigation": nav,
        "home_url": home_url(viewer) if in_request else None,
        "Role": Role,
    }
