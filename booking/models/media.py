"""Pictures the clinic shows: today a provider's photo.

A photo is kept in the database, not on disk: backups then hold it with everything else, every worker
(and every machine behind a load balancer) reads the same bytes without a shared folder, and a photo
is replaced in the same transaction as the row that names it, so no page ever points at a file that is
not there yet or no longer. Photos are small by the time they are stored (re-encoded to at most
400 x 400 pixels, some tens of kilobytes), so the database hardly notices them.

The bytes live in a table of their own, one row per provider, rather than in a column of `providers`:
the directory and every calendar read provider rows all the time, and none of them needs the picture.
The provider row keeps only the photo's hash (`Provider.photo_hash`), which is all a page needs to
build the photo's address; the address changes with the hash, so browsers may keep a photo for a year.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow


class ProviderPhoto(db.Model):
    """A provider's photo as served: re-encoded, without metadata, named by the SHA-256 of its bytes."""

    __tablename__ = "provider_photos"
    __table_args__ = (
        sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        sa.CheckConstraint("width > 0 AND width <= 400 AND height > 0 AND height <= 400", name="bounded_size"),
    )

    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
