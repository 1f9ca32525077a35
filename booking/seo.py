"""What search engines and link previews read from the public pages: a description, the canonical
address, and schema.org data (JSON-LD) for the clinic and its providers; /robots.txt and /sitemap.xml.

JSON-LD goes in a `<script type="application/ld+json">` data block: browsers never run it, so the
Content-Security-Policy (no inline scripts) does not apply, and `tojson` escapes `<`, `>` and `&` so no
text in it can close the element. Every address in it is absolute, from BASE_URL (`public_url`).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, Response, current_app

from booking.domain.opening_hours import OpeningLine
from booking.extensions import db
from booking.models import Provider
from booking.models.queries import bookable_provider_ids
from booking.views import public_url

bp = Blueprint("seo", __name__)

#: Pages that are someone's own or the clinic's inside: never in a search engine's index.
PRIVATE_PREFIXES = ("/auth/", "/me/", "/account/", "/staff/", "/admin/", "/api/", "/feeds/")


def clinic_data(opening_hours: list[OpeningLine]) -> dict[str, Any]:
    """The clinic as schema.org sees it (MedicalClinic by default; CLINIC_SCHEMA_TYPE for others), with
    the opening hours the page shows in words, in their short form."""
    config = current_app.config
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": config.get("CLINIC_SCHEMA_TYPE", "MedicalClinic"),
        "@id": public_url("home.index") + "#clinic",
        "name": config["CLINIC_NAME"],
        "url": public_url("home.index"),
        "description": config["CLINIC_DESCRIPTION"],
        "address": config["CLINIC_ADDRESS"],
        "email": config["CLINIC_EMAIL"],
        "openingHours": [line.entry for line in opening_hours],
    }
    if config.get("CLINIC_PHONE"):
        data["telephone"] = config["CLINIC_PHONE"]
    return data


@bp.app_template_global()
def provider_data(provider: Any) -> dict[str, Any]:
    """A provider (a ProviderInfo) as a schema.org Person who works for the clinic, with what their
    profile says: photo, languages, where they see patients, bio."""
    from booking.profiles import provider_profile

    facts = provider_profile(provider.id)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": provider.name,
        "url": public_url("patient.calendar_page", provider_id=provider.id),
        "worksFor": {"@id": public_url("home.index") + "#clinic", "name": current_app.config["CLINIC_NAME"]},
    }
    if provider.specialty_name:
        data["jobTitle"] = provider.specialty_name
    if facts is not None:
        data["workLocation"] = {"@type": "Place", "address": facts.location}
        if facts.bio:
            data["description"] = facts.bio
        if facts.photo_url:
            data["image"] = urljoin(public_url("home.index"), facts.photo_url)
        if facts.languages:
            data["knowsLanguage"] = [part.strip() for part in facts.languages.split(",") if part.strip()]
    return data


@bp.get("/robots.txt")
def robots():  # type: ignore[no-untyped-def]
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES), "Allow: /",
             f"Sitemap: {public_url('seo.sitemap')}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/sitemap.xml")
def sitemap():  # type: ignore[no-untyped-def]
    """The home page, the directory and every bookable provider's calendar: the pages worth finding."""
    addresses = [public_url("home.index"), public_url("patient.providers")]
    ids = db.session.scalars(bookable_provider_ids().order_by(Provider.id))
    addresses += [public_url("patient.calendar_page", provider_id=provider_id) for provider_id in ids]
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
            *(f"  <url><loc>{_xml(address)}</loc></url>" for address in addresses), "</urlset>", ""]
    response = Response("\n".join(body), mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
