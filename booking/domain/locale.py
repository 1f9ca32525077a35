"""The clinic's locale (BOOKING_LOCALE): the language its pages declare and the way dates and times are
written in its forms.

`<html lang>` tells screen readers how to pronounce the page and tells browsers which language's
conventions apply; browsers that format date and time fields by the page's language (Android's WebView,
Chromium with language-aware form controls) then show the clinic's order of day, month and year. Time
fields are not left to the browser: on a desktop whose browser speaks US English a native time field
shows AM/PM, while every page prints 24-hour times, so under a 24-hour locale the forms take times as
typed "hh:mm" text, the way the pages print them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

#: RFC 5646 language tag, well-formed (privateuse and grandfathered tags are not offered).
BCP47 = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{3}){0,3}"  # language, extlang
    r"(-[A-Za-z]{4})?"  # script
    r"(-([A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"  # variants
)


class LocaleError(ValueError):
    """The setting is not a language tag we can serve."""


@dataclass(frozen=True)
class ClinicLocale:
    tag: str  # BCP 47, as written in lang="..." (en-GB)
    clock_24h: bool  # whether times are written 00:00-23:59
    date_hint: str  # how a date is written, for people: dd/mm/yyyy


def clinic_locale(tag: str) -> ClinicLocale:
    """Parse and check a BCP 47 tag ("en-GB", "de-CH", "zh-Hant-TW"); LocaleError says what is wrong.

    Read twice when an app starts (the setting's check, the templates' globals) and never per request,
    so it keeps no cache of its own (Babel keeps its locale data loaded).
    """
    if not isinstance(tag, str) or not BCP47.match(tag):
        raise LocaleError(f"{tag!r} is not a language tag such as en-GB (BCP 47: language, then region).")
    try:
        found = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError) as error:
        raise LocaleError(f"{tag!r} is not a language we know the conventions of ({error}).") from error
    parts = [found.language, found.script, found.territory, found.variant]
    canonical = "-".join(part for part in parts if part)
    time_pattern = found.time_formats["short"].pattern
    clock_24h = "H" in time_pattern or "k" in time_pattern
    return ClinicLocale(canonical, clock_24h, _date_hint(found.date_formats["short"].pattern))


def _date_hint(pattern: str) -> str:
    """CLDR's short date pattern ("dd/MM/y", "M/d/yy") as people write a date: dd/mm/yyyy, mm/dd/yyyy."""
    hint = re.sub(r"'[^']*'", "", pattern)
    hint = re.sub(r"y+", "yyyy", hint)
    hint = re.sub(r"M+", "mm", hint)
    hint = re.sub(r"d+", "dd", hint)
    return hint.strip()
