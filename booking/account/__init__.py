"""A person's own account, whatever their role: profile, e-mails, password, calendar feed, their data."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from booking.account import feed, routes  # noqa: E402,F401  (they register their views on bp)
