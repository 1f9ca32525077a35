"""Static files under fingerprinted names, cached for a year, and compressed responses.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<hash>.css`, where the hash is of
the file's content: a browser may keep it forever (Cache-Control immutable), and a changed file gets
a new name, so nobody ever runs a stale stylesheet or script. The plain name still answers, briefly
cached, for anything that asks for it directly.

Responses are compressed (zstd, brotli or gzip, as the browser accepts) unless a server in front
already did. Compressing pages that carry a CSRF token invites BREACH-style guessing only when an
attacker can make the victim's browser send many authenticated requests that reflect chosen text:
session cookies are SameSite=Lax, so cross-site requests arrive without them.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask import Flask, Response, abort, current_app, send_from_directory
from flask_compress import Compress

YEAR = 365 * 24 * 3600
PLAIN_NAME_MAX_AGE = 300
HASH_LENGTH = 10
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "text/csv", "text/calendar", "image/svg+xml", "text/plain"]

compress = Compress()


def init_assets(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    compress.init_app(app)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_static)


def fingerprinted(filename: str) -> str:
    """`css/app.css` -> `css/app.<hash>.css`; names of files that do not exist are left alone."""
    folder = _folder()
    path = os.path.join(folder, filename)
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return filename
    digest = _digest(path, stamp)
    stem, dot, ext = filename.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{filename}.{digest}"


@lru_cache(maxsize=256)
def _digest(path: str, _mtime_ns: int) -> str:  # the mtime in the key: an edited file gets a new hash
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:HASH_LENGTH]


def _static(filename: str):  # type: ignore[no-untyped-def]
    stem, _, ext = filename.rpartition(".")
    base, dot, digest = stem.rpartition(".")
    if dot and len(digest) == HASH_LENGTH and fingerprinted(f"{base}.{ext}") == filename:
        response = _in_memory(send_from_directory(_folder(), f"{base}.{ext}", max_age=YEAR))
        response.cache_control.immutable = True
        response.cache_control.public = True
        return response
    if ".." in filename.split("/") or not os.path.isfile(os.path.join(_folder(), filename)):
        abort(404)
    return _in_memory(send_from_directory(_folder(), filename, max_age=PLAIN_NAME_MAX_AGE))


def _in_memory(response: Response) -> Response:
    """Read the (small) file into the response, so it is compressed like a page, with any algorithm,
    and the file is closed at once instead of by a compressing stream that might not close it."""
    response.direct_passthrough = False
    response.make_sequence()
    return response


def _folder() -> str:
    return os.path.join(current_app.root_path, "static")
