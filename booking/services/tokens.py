"""Signed, expiring tokens for links sent by e-mail (itsdangerous, keyed by the app's secret)."""
from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def make_token(purpose: str, payload: Any) -> str:
    return URLSafeTimedSerializer(current_app.secret_key, salt=purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age_seconds: int) -> Any | None:
    """The payload, or None when the token is forged, for another purpose, or too old."""
    try:
        return URLSafeTimedSerializer(current_app.secret_key, salt=purpose).loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
