"""Calendar files as calendar programs read them, and invitation e-mails as mail programs take them.

Every kind of .ics the clinic sends or serves (the patient's request, confirmation, move, reminder and
cancellation; the staff's copies of a request, a move and a patient's cancellation; the private feeds of
a patient and of staff) is read three ways: by Mozilla's ical.js, the parser inside Thunderbird and
Nextcloud Calendar (vendored under tests/vendor/, run with node by tests/ical_read.mjs), and by the
Python icalendar library both with its own zone database and with the file's own VTIMEZONE (which it
reads with dateutil). Every reading of every DTSTART and DTEND must be the stored instant, which is also
the instant zoneinfo makes of the TZID's wall time, in zones with every kind of clock (a one-hour
change north and south of the equator, Lord Howe's half hour, Kolkata's none), on clock-change days and
in the repeated hour.

Tests skip when node is missing, except in CI (CI=true), where a missing node is a failure. How the
e-mails around the files are built is tested in test_invitation_mail.py.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, User
from booking.services import notify
from booking.services.ics import vtimezone
from tests.booking_helpers import everyday_provider
from tests.factories import make_appointment, make_user
from tests.test_invitation_mail import clinic_mail, notify_now, set_status  # noqa: F401 (a fixture)

NODE = shutil.which("node")
READER = Path(__file__).resolve().parent / "ical_read.mjs"
UTC = timezone.utc
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata"]


def ical_js(texts: list[str]) -> list[dict]:
    """What ical.js makes of each calendar file: {"method", "events": [{"uid", "start", "end", ...}]}."""
    if NODE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must read the calendar files with ical.js, but node is not installed")
        pytest.skip("node is not installed (apt-get install nodejs)")
    done = subprocess.run([NODE, str(READER)], input=json.dumps(texts), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- when the clocks change, found from zoneinfo alone ------------------------------------------------

def clock_changes(zone: str, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of each change of the zone's UTC offset, to the second,
    found by walking zoneinfo hour by hour (independent of the code under test)."""
    tz, found = ZoneInfo(zone), []
    moment, before = start, start.astimezone(tz).utcoffset()
    while moment < end:
        later = moment + timedelta(hours=1)
        after = later.astimezone(tz).utcoffset()
        if after != before:
            low, high = int(moment.timestamp()), int(later.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                still = datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == before
                low, high = (middle, high) if still else (low, middle)
            found.append((datetime.fromtimestamp(high, UTC), before, after))
        moment, before = later, after
    return found


def scenarios(zone: str) -> list[tuple[str, datetime]]:
    """(label, start) of appointments worth reading in `zone`: an ordinary morning in December (08:30
    London is the case that read 07:30 UTC), a morning on the day each way the clocks change, one
    spanning the gap when they go forward, and the first and second time round the repeated hour."""
    tz = ZoneInfo(zone)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    december = datetime(now.year if now.month < 12 or now.day < 8 else now.year + 1, 12, 10, 8, 30, tzinfo=tz)
    found = [("a December morning", december.astimezone(UTC))]
    changes = clock_changes(zone, now + timedelta(days=3), now + timedelta(days=370))
    forward = next((c for c in changes if c[2] > c[1]), None)
    back = next((c for c in changes if c[2] < c[1]), None)
    if forward is not None:
        at, _, _ = forward
        day = at.astimezone(tz).date()
        found += [("the morning the clocks go forward", datetime(day.year, day.month, day.day, 10, tzinfo=tz)),
                  ("across the gap", at - timedelta(minutes=15))]
    if back is not None:
        at, old, new = back
        day = at.astimezone(tz).date()
        half = (old - new) / 2
        found += [("the morning the clocks go back", datetime(day.year, day.month, day.day, 10, tzinfo=tz)),
                  ("the repeated hour, first time round", at - half),
                  ("the repeated hour, second time round", at + half)]
    return [(label, start.astimezone(UTC)) for label, start in found]


# --- reading one file every way ---------------------------------------------------------------------

def assert_read_alike(text: str, zone: str, expected: dict[str, tuple[datetime, datetime]],
                      read_by_ical_js: dict) -> None:
    """Each event's start and end, read by ical.js, by icalendar with zoneinfo and by icalendar with the
    file's own VTIMEZONE, is the stored instant; a wall time is written only where it happens once."""
    calendar = Calendar.from_ical(text)
    own_zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}
    events = calendar.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == set(expected)
    by_js = {e["uid"]: e for e in read_by_ical_js["events"]}
    assert set(by_js) == set(expected)
    for event in events:
        uid = str(event["UID"])
        for name, stored in zip(("DTSTART", "DTEND"), expected[uid]):
            value = event[name]
            tzid, wall = value.params.get("TZID"), value.dt
            read = by_js[uid][name[2:].lower()]
            assert instant(read) == stored, f"{uid} {name}: ical.js read {read}, the instant is {stored:%FT%TZ}"
            assert wall.astimezone(UTC) == stored, (uid, name, wall)
            if tzid is None:  # UTC, only for a clock reading that happens twice
                assert wall.tzinfo == UTC or wall.utcoffset() == timedelta(0)
                local = stored.astimezone(ZoneInfo(zone))
                assert local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset(), (uid, name)
                continue
            naive = wall.replace(tzinfo=None)
            assert naive.replace(tzinfo=ZoneInfo(tzid)).astimezone(UTC) == stored  # zoneinfo's reading
            assert naive.replace(tzinfo=own_zones[tzid]).astimezone(UTC) == stored, (uid, name, tzid)
    assert not re.search(r"^RDATE", text, re.M)  # every change is a rule or an onset of its own, never a list


def calendar_parts(raw: bytes) -> tuple[EmailMessage, str, str]:
    """The message (parsed with the modern policy), its inline text/calendar alternative, its attachment."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    [inline] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [attached] = [p for p in message.walk() if p.get_content_type() == "application/ics"]
    return message, inline.get_content(), attached.get_content().decode()


# --- every file the clinic produces, in every kind of zone --------------------------------------------

@pytest.mark.parametrize("zone", ZONES)
def test_every_calendar_file_reads_the_stored_instant_in_ical_js_and_icalendar(clinic_mail, zone):  # type: ignore[no-untyped-def]
    app, box = clinic_mail
    patient = make_user(Role.PATIENT, email="pat@example.com")
    providers = [everyday_provider(zone=zone), everyday_provider(zone=zone)]  # the gap overlaps a neighbour
    booked: dict[str, tuple[int, str]] = {}
    for label, start in scenarios(zone):
        provider = providers[1 if label == "across the gap" else 0]
        appointment = make_appointment(patient=patient, provider=provider, start_at=start, status=Status.PENDING)
        booked[label] = (appointment.id, provider.user.email)
    assert len(booked) == (1 if zone == "Asia/Kolkata" else 6)
    expected = {}
    for appointment_id, _ in booked.values():
        appointment = db.session.get(Appointment, appointment_id)
        uid = f"appointment-{appointment_id}@riverside-clinic.example"
        expected[uid] = (appointment.start_at, appointment.end_at)

    patient_id = patient.id
    for appointment_id, _ in booked.values():
        notify_now(notify.requested, appointment_id)  # patient: Request received; staff: New request
        set_status(appointment_id, Status.APPROVED)
        notify_now(lambda a: notify.decided(a, None, None), appointment_id)  # Confirmed
        notify_now(lambda a: notify.moved(a, a.start_at - timedelta(days=1)), appointment_id)  # both: Moved
        notify_now(notify.reminder, appointment_id)  # Reminder
    feeds = [app.test_client().get(f"/calendar/{user.calendar_token}.ics")
             for user in (db.session.get(User, patient_id), *(p.user for p in providers))]
    for appointment_id, _ in booked.values():
        set_status(appointment_id, Status.CANCELLED)
        notify_now(lambda a: notify.decided(a, db.session.get(User, patient_id), "Feeling better"), appointment_id)

    files: list[tuple[str, str, dict[str, tuple[datetime, datetime]]]] = []  # (what, text, expected)
    for raw in box.raw:
        message, inline, attached = calendar_parts(raw)
        assert attached == inline
        uid = re.search(r"^UID:(\S+)\r$", inline, re.M)[1]
        files.append((f"{message['To']}: {message['Subject'].strip()}", inline, {uid: expected[uid]}))
    kinds = {(what.split(": ", 1)[0], re.split(r":| from | by ", what.split(": ", 1)[1])[0]) for what, _, _ in files}
    assert {kind for who, kind in kinds if who == "pat@example.com"} == {
        "Request received", "Confirmed", "Moved", "Reminder", "Cancelled"}
    assert {kind for who, kind in kinds if who != "pat@example.com"} == {"New request", "Moved", "Cancelled"}
    for response, owner in zip(feeds, ("patient", "staff", "staff")):
        assert response.status_code == 200, owner
        text = response.get_data(as_text=True)
        listed = {uid: expected[uid] for uid in re.findall(r"^UID:(\S+)\r$", text, re.M)}
        assert listed or owner == "staff"
        files.append((f"the {owner} feed", text, listed))
    assert len(files[-3][2]) == len(expected)  # the patient's feed lists every standing appointment

    readings = ical_js([text for _, text, _ in files])
    for (what, text, wanted), reading in zip(files, readings):
        try:
            assert_read_alike(text, zone, wanted, reading)
        except AssertionError as error:
            raise AssertionError(f"{zone}, {what}: {error}") from error



# --- the VTIMEZONE itself, in zones whose rules changed or whose clocks are unusual -------------------

def vtimezone_text(zone: str, first_year: int, last_year: int) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Booking//Tests//EN")
    calendar.add("version", "2.0")
    calendar.add_component(vtimezone(zone, first_year, last_year))
    return calendar.to_ical().decode()


def test_a_vtimezone_states_a_zones_changes_as_yearly_rules_without_rdate_lists():  # type: ignore[no-untyped-def]
    calendar = Calendar.from_ical(vtimezone_text("Europe/London", 2026, 2027))
    [zone] = calendar.walk("VTIMEZONE")
    parts = {(p.name, str(p["TZNAME"])): p for p in zone.subcomponents}
    assert set(parts) == {("STANDARD", "GMT"), ("DAYLIGHT", "BST")}
    assert all("RDATE" not in p for p in parts.values())
    assert parts["DAYLIGHT", "BST"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert parts["STANDARD", "GMT"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    # Kolkata has not changed its clock since 1945: one observance, no rule.
    [kolkata] = Calendar.from_ical(vtimezone_text("Asia/Kolkata", 2026, 2027)).walk("VTIMEZONE")
    [only] = kolkata.subcomponents
    assert only.name == "STANDARD" and "RRULE" not in only and only.to_ical().count(b"+0530") == 2


#: (zone, first year, last year): rule changes, abolished and permanent summer times, negative and
#: two-hour DST, offsets of 30 and 45 minutes, a day skipped at the date line, and clocks that never change.
HISTORY = [
    ("America/New_York", 2006, 2007), ("Australia/Sydney", 2006, 2008), ("Europe/Moscow", 2010, 2014),
    ("America/Sao_Paulo", 2018, 2019), ("Asia/Tehran", 2021, 2023), ("Africa/Casablanca", 2026, 2027),
    ("Europe/Dublin", 2026, 2027), ("Pacific/Apia", 2011, 2012), ("Antarctica/Troll", 2026, 2027),
    ("Pacific/Chatham", 2026, 2027), ("America/St_Johns", 2026, 2027), ("Asia/Kathmandu", 2026, 2026),
    ("Asia/Kolkata", 2026, 2027), ("Australia/Lord_Howe", 2026, 2027), ("Europe/Volgograd", 2018, 2020),
    ("America/Caracas", 2015, 2016), ("Asia/Pyongyang", 2015, 2018), ("Europe/Istanbul", 2015, 2017),
    ("America/Santiago", 2026, 2027), ("Asia/Gaza", 2026, 2027), ("Africa/Windhoek", 2016, 2018),
    ("America/Whitehorse", 2019, 2021), ("Europe/London", 1995, 1997), ("America/St_Johns", 2006, 2007),
    ("UTC", 2026, 2027),
    ("Etc/GMT+5", 2026, 2026),
]


def probes(zone: str, first_year: int, last_year: int) -> list[datetime]:
    """Instants worth reading, inside the years a VTIMEZONE for first..last covers: around every change
    (a second, half an hour and two hours either side) and the middle of every month."""
    start, end = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 12, 31, tzinfo=UTC)
    found = [at + timedelta(seconds=s) for at, _, _ in clock_changes(zone, start, end)
             for s in (-7200, -1800, -1, 0, 1, 1800, 7200)]
    found += [datetime(year, month, 15, 12, tzinfo=UTC) for year in range(first_year, last_year + 2)
              for month in range(1, 13)]
    return sorted(found)


def wall_time_file(zone: str, first_year: int, last_year: int) -> tuple[str, list[datetime]]:
    """A calendar of one-second events at each probe that happens once on the zone's clock, written as
    TZID wall times with our VTIMEZONE; and the probes, in the events' order."""
    tz, lines, shown = ZoneInfo(zone), [], []
    for n, at in enumerate(probes(zone, first_year, last_year)):
        local = at.astimezone(tz)
        if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
            continue  # we write such times in UTC (see booking.services.ics)
        wall = f"{local:%Y%m%dT%H%M%S}"
        lines += ["BEGIN:VEVENT", f"UID:probe-{n}", "DTSTAMP:20260101T000000Z", f"DTSTART;TZID={zone}:{wall}",
                  f"DTEND;TZID={zone}:{wall}", "END:VEVENT"]
        shown.append(at)
    events = "\r\n".join([*lines, "END:VCALENDAR", ""])
    text = vtimezone_text(zone, first_year, last_year).replace("END:VCALENDAR\r\n", events)
    return text, shown


def test_vtimezones_read_like_zoneinfo_through_rule_changes_and_unusual_clocks():  # type: ignore[no-untyped-def]
    files = [wall_time_file(zone, first, last) for zone, first, last in HISTORY]
    for (zone, first, last), (text, shown), reading in zip(HISTORY, files, ical_js([text for text, _ in files])):
        by_js = [instant(e["start"]) for e in reading["events"]]
        assert by_js == shown, (zone, first, last, [(a, b) for a, b in zip(by_js, shown) if a != b][:3])
        own = Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
        for at in shown:
            wall = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            assert wall.replace(tzinfo=own).astimezone(UTC) == at, (zone, first, last, at, "icalendar")


ALL_ZONES = sorted(available_timezones() - {"Factory", "localtime"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ALL_ZONES), first=st.integers(1975, 2036), more=st.integers(0, 2))
def test_any_zones_vtimezone_reads_like_zoneinfo_in_icalendar(zone, first, more):  # type: ignore[no-untyped-def]
    """Any zone in any years (icalendar with the file's own VTIMEZONE; ical.js reads the list above)."""
    text, shown = wall_time_file(zone, first, first + more)
    own = Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    for at in shown:
        wall = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        assert wall.replace(tzinfo=own).astimezone(UTC) == at, (zone, first, more, at)
