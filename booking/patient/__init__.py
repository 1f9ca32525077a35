"""The patient's side: finding a provider, booking a slot, and the patient's own appointments."""
from flask import Blueprint

bp = Blueprint("patient", __name__)

from booking.patient import appointments, routes  # noqa: E402,F401  (they register their views on bp)
