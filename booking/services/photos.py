"""Provider photos: an upload is judged by what its bytes hold, and what is kept is a new small WebP.

Why each step is there:
- The bytes alone say what a file is: Pillow's detection, offered only JPEG, PNG and WebP. A name or a
  content type that claims another type refuses the file too: a file that lies about itself is more
  likely crafted than a photo, and the person uploading is better told than silently corrected.
- Markup anywhere in the bytes (HTML, SVG, script) refuses the file: a polyglot that is both an image
  and a web page is made to be opened as the page somewhere.
- The size in pixels is judged from the header, before a single pixel is decoded, so a small file that
  unpacks to gigabytes (a decompression bomb) is refused cheaply: Pillow checks it when it opens the
  file against Image.MAX_IMAGE_PIXELS (set here), warning up to twice the limit and raising past it;
  both refuse. A very long, thin image is refused by its longest side.
- What is stored is re-encoded from the decoded pixels, turned upright first (by the camera's EXIF
  orientation) and fitted within 400 x 400 (pages show it at most 128 CSS pixels wide, so
  it is sharp on a 3x screen and light to send): none of the upload's bytes reach a browser, and its
  metadata (EXIF with GPS position and camera serial, XMP, comments, anything appended) is left behind.
- Only an administrator or the provider's own staff user may change a provider's photo; the check is
  made here, inside the transaction, whatever the route checked.
"""
from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from booking.extensions import db
from booking.models import Provider, ProviderPhoto, write_transaction
from booking.services.errors import Invalid, NotFound, ServiceError
from booking.services.permissions import require_acting_for

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera's full frame; a 20,000 x 20,000 bomb is ten times that
MAX_SIDE = 12_000
STORED_BOX = (400, 400)  # also the database's bound (ck_provider_photos_bounded_size)
STORED_TYPE = "image/webp"

Image.MAX_IMAGE_PIXELS = MAX_PIXELS

#: The formats accepted, as Pillow names them -> (what a person calls it, content types, file name
#: endings, the usual one first).
ACCEPTED = {
    "JPEG": ("JPEG", {"image/jpeg", "image/jpg", "image/pjpeg"}, (".jpg", ".jpeg", ".jpe", ".jfif")),
    "PNG": ("PNG", {"image/png"}, (".png",)),
    "WEBP": ("WebP", {"image/webp"}, (".webp",)),
}
#: Content types that claim nothing: a browser that does not know the file sends one of these.
UNCLAIMED_TYPES = {"", "application/octet-stream"}
#: Markup that makes a file a web page too. Long enough that the compressed data of a real 5 MB photo
#: holds one by chance less than once in ten thousand files (a bare "<svg" would be nearer once in a hundred).
MARKUP = re.compile(rb"<(?:script|html[\s>]|body[\s>]|iframe|object[\s>]|embed[\s>]|!doctype|\?php|svg\b[^>]{0,200}xmlns)",
                    re.IGNORECASE)

TOO_LARGE = "The photo is larger than 5 MB. Choose a smaller one (a phone's \"medium\" size is plenty)."
NOT_AN_IMAGE = "This file is not a JPEG, PNG or WebP image. Choose a photo in one of those formats."
NOT_SVG = "SVG drawings are not accepted. Choose a JPEG, PNG or WebP photo."
HAS_MARKUP = "This file holds a web page or script as well as an image, so it is refused. Choose another photo."
UNREADABLE = "This image could not be read (it may be damaged or cut short). Choose another photo."
NO_FILE = "Choose a photo to upload."
TOO_MANY_PIXELS = (f"This image has too many pixels: photos may have at most {MAX_PIXELS // 1_000_000} million, "
                   f"and {MAX_SIDE:,} on a side. Choose a smaller one.")


class PhotoTooLarge(ServiceError):
    """The photo's bytes are over the limit: 413, as a body over the request limit answers."""

    status = 413


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the browser sent it; only `data` is believed."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class PreparedPhoto:
    """What will be stored: WebP bytes, their size in pixels and their hash."""

    data: bytes
    width: int
    height: int
    sha256: str


def read_upload(stream: IO[bytes], filename: str | None, content_type: str | None) -> Upload:
    """An upload's bytes, reading at most one byte past the limit (so a larger file is told, not kept)."""
    return Upload(stream.read(MAX_UPLOAD_BYTES + 1), filename, content_type)


def prepare(upload: Upload) -> PreparedPhoto:
    """The photo to store, or a refusal saying what is wrong with the file."""
    data = upload.data
    if not data:
        raise Invalid(NO_FILE, field="photo")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoTooLarge(TOO_LARGE, field="photo")
    try:
        with warnings.catch_warnings():  # Pillow warns, rather than refuses, up to twice its limit
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED))
    except UnidentifiedImageError as error:
        raise Invalid(NOT_SVG if _looks_like_svg(data) else NOT_AN_IMAGE, field="photo") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise Invalid(TOO_MANY_PIXELS, field="photo") from error
    except (OSError, ValueError, EOFError) as error:
        raise Invalid(UNREADABLE, field="photo") from error
    with image:
        if MARKUP.search(data):
            raise Invalid(HAS_MARKUP, field="photo")
        _check_claims(upload, image)
        if max(image.size) > MAX_SIDE:
            raise Invalid(TOO_MANY_PIXELS, field="photo")
        return _reencode(image)


def set_photo(actor_id: int, provider_id: int, upload: Upload) -> ProviderPhoto:
    """Check and store a provider's new photo in place of the old one; nothing is kept if it is refused.

    Who may is checked before the file is decoded (no work for strangers) and again in the transaction.
    """
    _may_change(actor_id, provider_id)
    prepared = prepare(upload)
    with write_transaction():
        provider = _may_change(actor_id, provider_id)
        photo = db.session.get(ProviderPhoto, provider_id) or ProviderPhoto(provider_id=provider_id)
        photo.sha256, photo.content_type = prepared.sha256, STORED_TYPE
        photo.width, photo.height, photo.data = prepared.width, prepared.height, prepared.data
        db.session.add(photo)
        provider.photo_hash = prepared.sha256
    return photo


def remove_photo(actor_id: int, provider_id: int) -> Provider:
    """Take a provider's photo away: pages show the initials again."""
    with write_transaction():
        provider = _may_change(actor_id, provider_id)
        photo = db.session.get(ProviderPhoto, provider_id)
        if photo is not None:
            db.session.delete(photo)
        provider.photo_hash = None
    return provider


def stored_photo(provider_id: int, sha256: str) -> ProviderPhoto | None:
    """The photo a hashed address names, or None when the provider's photo is not (or no longer) that one."""
    photo = db.session.get(ProviderPhoto, provider_id)
    return photo if photo is not None and photo.sha256 == sha256 else None


# --- helpers --------------------------------------------------------------------------------------


def _may_change(actor_id: int, provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("There is no such provider.")
    require_acting_for(actor_id, provider)
    return provider


def _check_claims(upload: Upload, image: Image.Image) -> None:
    """Refuse a file whose name or content type says it is something other than what it is."""
    name, types, endings = ACCEPTED[str(image.format)]
    claimed_type = (upload.content_type or "").split(";")[0].strip().lower()
    ending = _ending(upload.filename)
    if (claimed_type not in UNCLAIMED_TYPES and claimed_type not in types) or (ending and ending not in endings):
        raise Invalid(f"This file is a {name} image but its name or type says otherwise. Rename it to end in "
                      f"{endings[0]} and upload it again.", field="photo")


def _ending(filename: str | None) -> str:
    """The name's ending, lower case (".jpg"), or "" for a name with none."""
    if filename is None:
        return ""
    base = re.split(r"[\\/]", filename)[-1]  # some browsers send the whole path
    return "." + base.split(".")[-1].lower() if "." in base.strip(".") else ""


def _looks_like_svg(data: bytes) -> bool:
    return b"<svg" in data


def _reencode(image: Image.Image) -> PreparedPhoto:
    """Decode, turn upright, fit within STORED_BOX and encode afresh as WebP, with no metadata."""
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        mode = "RGBA" if upright.mode in ("RGBA", "LA") or "transparency" in upright.info else "RGB"
        upright = upright.convert(mode)
        upright.thumbnail(STORED_BOX)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise Invalid(UNREADABLE, field="photo") from error
    clean = Image.new(mode, upright.size)  # a new image carries no info: no EXIF, XMP, ICC or comment
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, "WEBP")
    data = out.getvalue()
    return PreparedPhoto(data, clean.width, clean.height, hashlib.sha256(data).hexdigest())
