"""Provider photos served from our own route, and the profile facts pages show beside a provider.

A photo's address holds the hash of its bytes (`/providers/7/photo/<sha256>.webp`), so an address
always means the same bytes: browsers and caches may keep it for a year without asking again
(`immutable`), and a new photo simply has a new address. An old address answers 404 rather than the
new photo, which would make a year-long cache of it wrong. Anyone may fetch a photo whose address
they have: the hash cannot be guessed, and only pages that show the provider tell it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, make_response, request

from booking.extensions import db
from booking.models import Provider
from booking.services.photos import MAX_UPLOAD_BYTES, Upload, read_upload, stored_photo
from booking.views import url_for

bp = Blueprint("profiles", __name__)

YEAR = 365 * 24 * 60 * 60
PHOTO_BODY_MAX = MAX_UPLOAD_BYTES + 64 * 1024  # an upload route's body limit: the file and the form around it


def uploaded_photo() -> Upload:
    """The posted `photo` file as an Upload (empty when none was chosen)."""
    file = request.files.get("photo")
    if file is None:
        return Upload(b"")
    return read_upload(file.stream, file.filename, file.mimetype)


@bp.get("/providers/<id:provider_id>/photo/<digest>.webp")
def photo(provider_id: int, digest: str):  # type: ignore[no-untyped-def]
    """`digest`: the SHA-256 of the photo's bytes, in hex."""
    found = stored_photo(provider_id, digest)
    if found is None:
        abort(404)
    response = make_response(found.data)
    response.content_type = found.content_type
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.set_etag(found.sha256)
    return response.make_conditional(request)


@dataclass(frozen=True)
class ProfileFacts:
    """What the calendar's header shows of a provider besides the name and specialty."""

    photo_url: str | None
    languages: str | None
    location: str
    bio: str | None


PROFILE_ROW = sa.select(Provider.id, Provider.photo_hash, Provider.languages, Provider.location, Provider.bio)


@bp.app_template_global()
def photo_url(provider: Any) -> str | None:
    """The address of a provider's photo (anything with `id` and `photo_hash`), or None: show initials."""
    if not getattr(provider, "photo_hash", None):
        return None
    return url_for("profiles.photo", provider_id=provider.id, digest=provider.photo_hash)


@bp.app_template_global()
def provider_location(provider: Any) -> str:
    """Where the provider sees patients: their room or branch, or the clinic's own address."""
    return getattr(provider, "location", None) or current_app.config["CLINIC_ADDRESS"]


@bp.app_template_global()
def provider_profile(provider_id: int) -> ProfileFacts | None:
    """The profile facts of a page that knows only the provider's id (one small query by key)."""
    row = db.session.execute(PROFILE_ROW.where(Provider.id == provider_id)).first()
    if row is None:
        return None
    return ProfileFacts(photo_url(row), row.languages, provider_location(row), row.bio)
