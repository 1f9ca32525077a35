"""What patients read about a provider beside the calendar: bio, languages spoken, where they are seen.

Admins set it all in the provider editor; a provider's own staff user keeps their bio and languages up
to date from the staff area (where and what they practise stays the clinic's word).
"""
from __future__ import annotations

from booking.extensions import db
from booking.models import Provider, write_transaction
from booking.services.errors import NotFound, Problems, one_line
from booking.services.permissions import require_acting_for

BIO_MAX = 2000
LANGUAGES_MAX = 200  # the column's length
LANGUAGE_MAX = 40
LOCATION_MAX = 200


def tidy_languages(typed: str | None) -> str | None:
    """"english,  polish ,English" -> "English, Polish": one line, comma-separated, each once, capitalised
    as typed unless typed all in lower case. None when nothing is left."""
    seen: dict[str, str] = {}
    for part in (typed or "").replace(";", ",").split(","):
        name = one_line(part)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name[0].upper() + name[1:] if name.islower() else name
    return ", ".join(seen.values()) or None


def profile_problems(*, bio: str | None, languages: str | None, location: str | None,
                     problems: Problems | None = None) -> Problems:
    """Everything wrong with a profile's texts at once (`location` None: not part of this form)."""
    problems = problems if problems is not None else Problems()
    if len((bio or "").strip()) > BIO_MAX:
        problems.add(f"Keep the bio to {BIO_MAX:,} characters.", "bio")
    tidied = tidy_languages(languages) or ""
    if len(tidied) > LANGUAGES_MAX or any(len(name) > LANGUAGE_MAX for name in tidied.split(", ")):
        problems.add(f"List languages separated by commas, each up to {LANGUAGE_MAX} characters, "
                     f"{LANGUAGES_MAX} in all.", "languages")
    if len(one_line(location)) > LOCATION_MAX:
        problems.add(f"Keep the location to {LOCATION_MAX} characters.", "location")
    return problems


def tidy_location(typed: str | None) -> str | None:
    """One line, or None for the clinic's own address."""
    return one_line(typed) or None


def save_own_profile(actor_id: int, provider_id: int, *, bio: str | None, languages: str | None) -> Provider:
    """The provider's bio and languages, saved by its own staff user (or an admin)."""
    profile_problems(bio=bio, languages=languages, location=None).raise_any()
    with write_transaction():
        provider = db.session.get(Provider, provider_id)
        if provider is None:
            raise NotFound("There is no such provider.")
        require_acting_for(actor_id, provider)
        provider.bio = (bio or "").strip() or None
        provider.languages = tidy_languages(languages)
    return provider
