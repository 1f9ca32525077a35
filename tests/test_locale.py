"""BOOKING_LOCALE: the language pages and e-mails declare, and how forms take times; a bad tag refuses
to start. (tests/test_browser_locale.py shows what Chromium makes of it.)"""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.domain.locale import LocaleError, clinic_locale
from booking.domain.roles import Role
from booking.extensions import db
from booking.models import OutboxMessage
from booking.services import accounts
from tests.booking_helpers import everyday_provider
from tests.conftest import build_app
from tests.factories import DEFAULT_PASSWORD, make_user

LANG = re.compile(r'<html lang="([^"]+)">')


@pytest.mark.parametrize(("setting", "lang"), [(None, "en-GB"), ("de-DE", "de-DE"), ("en-gb", "en-GB"),
                                                ("fr", "fr"), ("zh-Hant-TW", "zh-Hant-TW")])
def test_pages_and_e_mails_declare_the_clinics_language(make_app, setting, lang):  # type: ignore[no-untyped-def]
    app = make_app(**({} if setting is None else {"LOCALE": setting}))
    with app.app_context():
        assert app.config["LOCALE"] == lang
        client = app.test_client()
        for path in ("/", "/auth/login", "/no-such-page"):
            assert LANG.search(client.get(path).get_data(as_text=True))[1] == lang, path
        user = make_user(Role.PATIENT)
        accounts.change_password(user.id, DEFAULT_PASSWORD, "another long passphrase", "http://localhost/auth/reset")
        mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()
        assert LANG.search(mail.html_body or "")[1] == lang


@pytest.mark.parametrize("setting", ["en_GB", "english", "", "xx-YY", "en-GB; x", 12, ["en-GB"]])
def test_a_setting_that_is_no_language_tag_refuses_to_start(tmp_path, setting):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="BOOKING_LOCALE"):
        build_app(f"sqlite:///{tmp_path / 'x.sqlite'}", LOCALE=setting)


@pytest.mark.parametrize(("tag", "clock_24h", "hint"), [
    ("en-GB", True, "dd/mm/yyyy"), ("en-US", False, "mm/dd/yyyy"), ("de-DE", True, "dd.mm.yyyy"),
    ("ja-JP", True, "yyyy/mm/dd"),
])
def test_the_locale_knows_its_clock_and_date_order(tag, clock_24h, hint):  # type: ignore[no-untyped-def]
    found = clinic_locale(tag)
    assert (found.tag, found.clock_24h, found.date_hint) == (tag, clock_24h, hint)


def test_a_malformed_tag_is_a_locale_error():  # type: ignore[no-untyped-def]
    with pytest.raises(LocaleError):
        clinic_locale("en_GB")


def staff_at_desk(app):  # type: ignore[no-untyped-def]
    """A staff member working as a provider who works every day, logged in: (their client, the provider)."""
    staff = make_user(Role.STAFF)
    provider = everyday_provider()
    provider.user_id = staff.id
    db.session.commit()
    client = app.test_client()
    assert client.post("/auth/login", data={"email": staff.email, "password": DEFAULT_PASSWORD}).status_code == 303
    return client, provider


@pytest.mark.parametrize(("setting", "kind"), [(None, "text"), ("en-US", "time")])
def test_working_hours_take_24_hour_times_under_a_24_hour_locale(make_app, setting, kind):  # type: ignore[no-untyped-def]
    app = make_app(**({} if setting is None else {"LOCALE": setting}))
    with app.app_context():
        client, _ = staff_at_desk(app)
        body = client.get("/staff/hours").get_data(as_text=True)
        start = re.search(r'<input id="new-start" name="start" type="(\w+)" value="09:00"', body)
        end = re.search(r'<input id="new-end" name="end" type="(\w+)" value="17:00"[^>]*>', body)
        assert start and end and start[1] == end[1] == kind
        if kind == "text":
            assert 'pattern="([01][0-9]|2[0-3]):[0-5][0-9]|24:00"' in end[0]
            # what such a field sends is what the server takes: 24-hour text, 24:00 for midnight
            added = client.post("/staff/hours", data={"weekday": "5", "start": "18:30", "end": "24:00"})
            assert added.status_code == 303
            assert client.post("/staff/hours", data={"weekday": "6", "start": "6:30 PM", "end": "20:00"}).status_code == 422


def test_time_off_takes_a_date_and_a_24_hour_time_under_a_24_hour_locale(make_app):  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    from booking.models import TimeOff

    app = make_app()
    with app.app_context():
        client, provider = staff_at_desk(app)
        body = client.get("/staff/time-off").get_data(as_text=True)
        assert 'name="start_date" type="date"' in body and 'name="start_time" type="text"' in body
        assert 'type="datetime-local"' not in body
        day = (date.today() + timedelta(days=30)).isoformat()
        refused = client.post("/staff/time-off", data={"start_date": day, "start_time": "1:00 PM",
                                                       "end_date": day, "end_time": "17:00"})
        assert refused.status_code == 422
        assert "Give the start as a date and a time such as 09:30." in refused.get_data(as_text=True)
        added = client.post("/staff/time-off", data={"start_date": day, "start_time": "13:00",
                                                     "end_date": day, "end_time": "17:00", "reason": "Training"})
        assert added.status_code == 303
        db.session.rollback()
        [off] = db.session.scalars(sa.select(TimeOff).where(TimeOff.provider_id == provider.id)).all()
        zone = ZoneInfo(provider.timezone)
        assert (off.start_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), off.end_at.astimezone(zone).hour) == (
            f"{day} 13:00", 17)
