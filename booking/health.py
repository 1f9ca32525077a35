"""`GET /healthz`: for load balancers and the CI smoke check; proves the database answers."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from booking.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    db.session.execute(sa.text("SELECT 1"))
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
