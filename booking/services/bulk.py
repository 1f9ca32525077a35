"""Bulk data for benchmarks (`flask seed-load`): many providers, patients and appointments, fast.

Not a use case like the others: it bypasses the ORM and the booking rules for speed, so it builds
its rows so that they keep every invariant the app relies on all the same:

* a provider's appointments never overlap (whatever their status) and lie inside its working hours
  (Mon-Fri 09:00-12:00 and 13:00-17:00 in its zone, the clinic's); a block that a clock change cuts
  through is left empty rather than computed wrongly;
* a patient is never in two places at once: on any one day every patient sees at most one provider
  (patients are split into as many groups as there are providers, and the groups rotate daily);
* the past is settled (completed, no show, cancelled, rejected) and ends before today; a few per cent
  are upcoming, pending or approved, from tomorrow to 59 days ahead, a few a day so that free slots
  remain; a self-approving service is never pending;
* every appointment has its "created" audit event.

Everything runs in one transaction: a failed load leaves nothing behind. Rows are made with plain
arithmetic on a per-day table of block starts in UTC, and written with Core `insert()` executemany in
large batches (SQLite, with `synchronous=OFF` and a large page cache for this connection only) or with
COPY (PostgreSQL).
"""
from __future__ import annotations

import random
import secrets
import time as clock
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from booking.domain.roles import Role
from booking.domain.status import Status
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentEvent,
    PatientProfile,
    Provider,
    Service,
    Specialty,
    User,
    WorkingHours,
    provider_services,
)
from booking.models.locking import SQLITE_BEGIN_MODE
from booking.models.types import utcnow
from booking.services.errors import Conflict, Invalid
from booking.services.passwords import hash_password

DOMAIN = "load.test"
FIRST_STAFF_EMAIL = f"load-staff1@{DOMAIN}"

WORKDAYS = frozenset(range(5))  # Monday to Friday
BLOCKS = ((time(9), time(12)), (time(13), time(17)))  # a lunch break from 12:00 to 13:00
FUTURE_DAYS = 60  # upcoming appointments start within this many days
FUTURE_SHARE = 0.03  # the share of appointments that are upcoming
FUTURE_PER_DAY = 4  # at most this many upcoming per provider and day: the rest of the day stays free
PATTERNS = 7  # different day plans per provider
GAP_CHANCE = 0.15  # before an appointment, the chance of a free quarter hour
BATCH_ROWS = 50_000  # rows per executemany
MAX_PER_PROVIDER = 500_000  # about 180 years of full days; more would run past the year 1

#: specialty -> services (name, minutes, price in cents, approves itself)
CATALOGUE: dict[str, list[tuple[str, int, int, bool]]] = {
    "Family Medicine": [
        ("Standard consultation", 30, 5000, False),
        ("Quick follow-up", 15, 2500, True),
        ("Extended consultation", 60, 9000, False),
    ],
    "Dental Care": [
        ("Dental examination", 30, 6000, False),
        ("Hygienist cleaning", 45, 7500, False),
    ],
    "Physiotherapy": [
        ("Physio assessment", 60, 7000, False),
        ("Physio treatment", 45, 6000, False),
        ("Physio review", 30, 4000, False),
    ],
    "Dermatology": [
        ("Skin consultation", 20, 8000, False),
        ("Quick follow-up", 15, 2500, True),
    ],
}

PAST_STATUSES = [Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED, Status.REJECTED]
PAST_WEIGHTS = [75, 8, 10, 7]
PENDING_SHARE = 0.45  # of upcoming appointments that need approval

REASONS = [None, "Check-up", None, "Follow-up on results", None, "Pain that will not go away", "Second opinion", None]
FIRST_NAMES = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Robin", "Jamie", "Avery", "Riley", "Quinn",
               "Charlie", "Elliot", "Harper", "Rowan", "Sasha", "Noor", "Kai", "Mina", "Tariq"]
LAST_NAMES = ["Smith", "Jones", "Patel", "Nguyen", "Kowalski", "Okafor", "Murphy", "Rossi", "Hansen", "Silva",
              "Cohen", "Kim", "Haddad", "Novak", "Ibrahim", "Larsen", "Moreau", "Tanaka", "Walsh", "Costa"]

UTC = timezone.utc


class AlreadyLoaded(Conflict):
    """The load data is there already: seed-load runs once per database."""


@dataclass(frozen=True)
class LoadReport:
    providers: int
    patients: int
    appointments: int
    upcoming: int
    events: int
    seconds: float


@dataclass(frozen=True)
class _Offered:
    id: int
    minutes: int
    auto_approve: bool


# One appointment of a day plan: block index, offset from the block's start, length, service.
_Entry = tuple[int, timedelta, timedelta, _Offered]


def seed_load(
    *,
    providers: int,
    appointments: int,
    patients: int,
    password: str,
    clinic_zone: str,
    now: datetime | None = None,
    future_share: float = FUTURE_SHARE,
    seed: int = 20261122,
) -> LoadReport:
    """Create the load data in one transaction, or raise AlreadyLoaded / Invalid and create nothing."""
    if providers < 1 or patients < 1 or appointments < 0:
        raise Invalid("Providers and patients must be at least 1, appointments at least 0.")
    if patients < providers:
        raise Invalid("Give at least as many patients as providers, so that no patient is booked twice at once.")
    if -(-appointments // providers) > MAX_PER_PROVIDER:
        raise Invalid(f"At most {MAX_PER_PROVIDER} appointments per provider: give more providers.")
    if not 0 <= future_share <= 1:
        raise Invalid("The share of upcoming appointments lies between 0 and 1.")
    started = clock.perf_counter()
    now = now or utcnow()
    zone = ZoneInfo(clinic_zone)
    password_hash = hash_password(password)  # Argon2 is slow on purpose: once for every account
    rng = random.Random(seed)

    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _sqlite_bulk_mode(conn, True)
        try:
            conn.execution_options(**{SQLITE_BEGIN_MODE: "IMMEDIATE"})
            with conn.begin():
                if conn.scalar(sa.select(User.id).where(User.email == FIRST_STAFF_EMAIL)) is not None:
                    raise AlreadyLoaded(
                        f"The load data is already there ({FIRST_STAFF_EMAIL} exists): "
                        "seed-load runs once per database; load into an empty one."
                    )
                if not sqlite:  # nobody else adds appointments while we number ours
                    conn.exec_driver_sql("LOCK TABLE appointments IN EXCLUSIVE MODE")
                specialty_ids, catalogue = _catalogue(conn)
                staff_ids, patient_ids = _users(conn, providers, patients, password_hash, now)
                provider_rows = _providers(conn, staff_ids, specialty_ids, catalogue, clinic_zone, now)
                upcoming = _appointments(
                    conn, provider_rows, patient_ids, appointments, zone, now, future_share, rng
                )
                if not sqlite:
                    conn.exec_driver_sql(
                        "SELECT setval(pg_get_serial_sequence('appointments', 'id'), "
                        "(SELECT COALESCE(MAX(id), 0) + 1 FROM appointments), false)"
                    )
                    conn.exec_driver_sql("ANALYZE")  # what autovacuum would do soon; benchmarks start now
        finally:
            if sqlite:
                _sqlite_bulk_mode(conn, False)
    return LoadReport(
        providers=providers, patients=patients, appointments=appointments, upcoming=upcoming,
        events=appointments, seconds=clock.perf_counter() - started,
    )


def _sqlite_bulk_mode(conn: Connection, on: bool) -> None:
    """No fsync and a big page cache for this connection while it loads (the index pages stay in memory)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    if on:
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -524288")  # KiB: up to 512 MiB
    else:  # back to what booking.models.locking.configure_engine gives every connection
        raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute("PRAGMA cache_size = -2000")


# --- the clinic: specialties, services, people, providers -------------------------------------------


def _catalogue(conn: Connection) -> tuple[dict[str, int], dict[str, list[_Offered]]]:
    """Specialty ids by name, and each specialty's services; existing rows with the same names are reused."""
    specialty_ids = _get_or_insert(conn, Specialty.__table__, [{"name": name} for name in CATALOGUE])
    services: dict[str, dict] = {}
    for items in CATALOGUE.values():
        for name, minutes, price, auto in items:
            services[name] = {
                "name": name, "duration_min": minutes, "price_cents": price, "auto_approve": auto,
                "description": f"{name}, {minutes} minutes.", "active": True,
            }
    _get_or_insert(conn, Service.__table__, list(services.values()))
    found = {
        name: _Offered(id_, minutes, bool(auto))
        for id_, name, minutes, auto in conn.execute(
            sa.select(Service.id, Service.name, Service.duration_min, Service.auto_approve)
            .where(Service.name.in_(list(services)))
        )
    }
    return specialty_ids, {specialty: [found[name] for name, *_ in items] for specialty, items in CATALOGUE.items()}


def _get_or_insert(conn: Connection, table: sa.Table, rows: list[dict]) -> dict[str, int]:
    names = [row["name"] for row in rows]
    existing = dict(conn.execute(sa.select(table.c.name, table.c.id).where(table.c.name.in_(names))).all())
    missing = [row for row in rows if row["name"] not in existing]
    if missing:
        conn.execute(table.insert(), missing)
    return dict(conn.execute(sa.select(table.c.name, table.c.id).where(table.c.name.in_(names))).all())


def _person(k: int) -> str:
    return f"{FIRST_NAMES[k % len(FIRST_NAMES)]} {LAST_NAMES[(k // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


def _users(conn: Connection, providers: int, patients: int, password_hash: str, now: datetime
           ) -> tuple[list[int], list[int]]:
    """Staff and patient accounts, verified, all with the one password hash; their ids in number order."""
    def rows(prefix: str, count: int, role: Role) -> Iterator[dict]:
        for k in range(1, count + 1):
            name = _person(k * 7 + (0 if role is Role.STAFF else 3))
            yield {
                "email": f"{prefix}{k}@{DOMAIN}",
                "password_hash": password_hash,
                "full_name": f"Dr {name}" if role is Role.STAFF else name,
                "phone": f"+44 7700 {k % 1_000_000:06d}",
                "role": role.value,
                "active": True,
                "email_verified_at": now,
                "created_at": now,
                "session_token": secrets.token_urlsafe(32),
            }

    users = User.__table__
    for batch in _batches(rows("load-staff", providers, Role.STAFF)):
        conn.execute(users.insert(), batch)
    for batch in _batches(rows("load-patient", patients, Role.PATIENT)):
        conn.execute(users.insert(), batch)
    ids = dict(conn.execute(sa.select(User.email, User.id).where(User.email.like(f"load-%@{DOMAIN}"))).all())
    staff_ids = [ids[f"load-staff{k}@{DOMAIN}"] for k in range(1, providers + 1)]
    patient_ids = [ids[f"load-patient{k}@{DOMAIN}"] for k in range(1, patients + 1)]
    profiles = ({"user_id": user_id, "date_of_birth": date(1940 + k % 65, k % 12 + 1, k % 28 + 1)}
                for k, user_id in enumerate(patient_ids))
    for batch in _batches(profiles):
        conn.execute(PatientProfile.__table__.insert(), batch)
    return staff_ids, patient_ids


def _providers(conn: Connection, staff_ids: list[int], specialty_ids: dict[str, int],
               catalogue: dict[str, list[_Offered]], clinic_zone: str, now: datetime
               ) -> list[tuple[int, list[_Offered]]]:
    """One provider per staff account, 2-3 services each, Mon-Fri hours with a lunch break."""
    specialties = list(CATALOGUE)
    chosen: list[tuple[str, list[_Offered]]] = []
    rows = []
    for k, user_id in enumerate(staff_ids):
        specialty = specialties[k % len(specialties)]
        services = catalogue[specialty]
        if len(services) > 2 and (k // len(specialties)) % 2:
            services = services[:2]
        chosen.append((specialty, services))
        rows.append({
            "user_id": user_id, "specialty_id": specialty_ids[specialty], "timezone": clinic_zone,
            "license_number": f"LOAD-{k + 1:06d}", "years_experience": 1 + k % 30,
            "bio": f"{specialty}, seeing patients for load tests.", "created_at": now,
        })
    for batch in _batches(rows):
        conn.execute(Provider.__table__.insert(), batch)
    by_user = dict(conn.execute(sa.select(Provider.user_id, Provider.id).where(Provider.user_id.in_(staff_ids))).all())
    provider_ids = [by_user[user_id] for user_id in staff_ids]
    links = [{"provider_id": pid, "service_id": s.id} for pid, (_, services) in zip(provider_ids, chosen)
             for s in services]
    hours = [{"provider_id": pid, "weekday": day, "start_time": start, "end_time": end}
             for pid in provider_ids for day in sorted(WORKDAYS) for start, end in BLOCKS]
    for batch in _batches(links):
        conn.execute(provider_services.insert(), batch)
    for batch in _batches(hours):
        conn.execute(WorkingHours.__table__.insert(), batch)
    return [(pid, services) for pid, (_, services) in zip(provider_ids, chosen)]


# --- appointments -------------------------------------------------------------------------------------


class _Calendar:
    """Per local day, the UTC start of each working block, or None where a clock change cuts the block."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._days: dict[date, tuple[datetime | None, ...]] = {}

    def blocks(self, day: date) -> tuple[datetime | None, ...]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._compute(day)
        return found

    def _compute(self, day: date) -> tuple[datetime | None, ...]:
        if day.weekday() not in WORKDAYS:
            return ()
        starts: list[datetime | None] = []
        for start_t, end_t in BLOCKS:
            start = datetime.combine(day, start_t, self.zone)
            end = datetime.combine(day, end_t, self.zone)
            start_utc = start.astimezone(UTC)
            exists = start_utc.astimezone(self.zone).replace(tzinfo=None) == start.replace(tzinfo=None)
            starts.append(start_utc if exists and start.utcoffset() == end.utcoffset() else None)
        return tuple(starts)


def _day_plans(rng: random.Random, services: Sequence[_Offered]) -> list[list[_Entry]]:
    """A few ways a provider's day is filled: back to back, with the odd free quarter hour."""
    shortest = min(s.minutes for s in services)
    plans = []
    for _ in range(PATTERNS):
        entries: list[_Entry] = []
        for index, (start_t, end_t) in enumerate(BLOCKS):
            length = (end_t.hour * 60 + end_t.minute) - (start_t.hour * 60 + start_t.minute)
            cursor = 0
            while cursor + shortest <= length:
                if rng.random() < GAP_CHANCE:
                    cursor += 15
                service = rng.choice(services)
                if cursor + service.minutes > length:
                    service = min(services, key=lambda s: s.minutes)
                    if cursor + service.minutes > length:
                        break
                entries.append((index, timedelta(minutes=cursor), timedelta(minutes=service.minutes), service))
                cursor += service.minutes
        plans.append(entries)
    return plans


def _appointments(
    conn: Connection,
    provider_rows: list[tuple[int, list[_Offered]]],
    patient_ids: list[int],
    total: int,
    zone: ZoneInfo,
    now: datetime,
    future_share: float,
    rng: random.Random,
) -> int:
    """Write `total` appointments, spread evenly over the providers, and their events; return the upcoming."""
    calendar = _Calendar(zone)
    today = now.astimezone(zone).date()
    future_days = [today + timedelta(days=n) for n in range(1, FUTURE_DAYS)]
    # Patient groups: on day d provider p sees only group (p + d) mod N, so nobody is in two places.
    groups = [patient_ids[g::len(provider_rows)] for g in range(len(provider_rows))]
    first_id = (conn.scalar(sa.select(sa.func.max(Appointment.id))) or 0) + 1
    writer = _Writer(conn, first_id)
    per_provider, extra = divmod(total, len(provider_rows))
    upcoming = 0
    lead = [timedelta(days=1 + k % 20, minutes=(k * 37) % 600) for k in range(101)]
    future_lead = [timedelta(hours=3 + k % 300) for k in range(97)]
    two_hours, one_hour = timedelta(hours=2), timedelta(hours=1)
    pending, approved = Status.PENDING.value, Status.APPROVED.value
    past_values = [s.value for s in PAST_STATUSES]
    rejected, cancelled = Status.REJECTED.value, Status.CANCELLED.value
    final_after_visit = {Status.COMPLETED.value, Status.NO_SHOW.value}

    for p, (provider_id, services) in enumerate(provider_rows):
        count = per_provider + (1 if p < extra else 0)
        if not count:
            continue
        plans = _day_plans(rng, services)
        n_groups = len(groups)
        future = _future_counts(calendar, plans, future_days, round(count * future_share), rng)
        n_future = sum(n for _, n in future)
        n_past = count - n_future
        j = 0  # this provider's running number

        # Upcoming: a few a day, spread over the day's plan.
        for day, n in future:
            if not n:
                continue
            starts = calendar.blocks(day)
            plan = [e for e in plans[day.toordinal() % PATTERNS] if starts[e[0]] is not None]
            members = groups[(p + day.toordinal()) % n_groups]
            for k in range(n):
                block, offset, length, service = plan[int((k + 0.5) * len(plan) / n)]
                start = starts[block] + offset  # type: ignore[operator]
                patient = members[j % len(members)]
                created = now - future_lead[j % 97]
                if service.auto_approve or rng.random() >= PENDING_SHARE:
                    status, updated = approved, created + one_hour
                else:
                    status, updated = pending, created
                writer.add(patient, provider_id, service, start, start + length, status,
                           REASONS[j % len(REASONS)], created, updated)
                j += 1
        upcoming += n_future

        # The past: full days going back from yesterday.
        statuses = rng.choices(past_values, weights=PAST_WEIGHTS, k=n_past)
        day = today
        left = n_past
        while left:
            day -= timedelta(days=1)
            starts = calendar.blocks(day)
            if not starts:
                continue
            members = groups[(p + day.toordinal()) % n_groups]
            for block, offset, length, service in plans[day.toordinal() % PATTERNS]:
                block_start = starts[block]
                if block_start is None:
                    continue
                start = block_start + offset
                end = start + length
                status = statuses[left - 1]
                if status == rejected and service.auto_approve:
                    status = cancelled  # a service that approves itself is never turned down
                created = start - lead[j % 101]
                updated = end + one_hour if status in final_after_visit else created + two_hours
                writer.add(members[j % len(members)], provider_id, service, start, end, status,
                           REASONS[j % len(REASONS)], created, updated)
                j += 1
                left -= 1
                if not left:
                    break
    writer.flush()
    return upcoming


def _future_counts(calendar: _Calendar, plans: list[list[_Entry]], days: list[date], wanted: int,
                   rng: random.Random) -> list[tuple[date, int]]:
    """How many upcoming appointments each future day gets: as even as can be, at most a few a day."""
    room = []
    for day in days:
        starts = calendar.blocks(day)
        usable = sum(1 for e in plans[day.toordinal() % PATTERNS] if starts and starts[e[0]] is not None)
        room.append(min(FUTURE_PER_DAY, usable))
    wanted = min(wanted, sum(room))
    counts = [0] * len(days)
    order = [i for i in range(len(days)) if room[i]]
    rng.shuffle(order)
    level = 0
    while wanted:
        for i in order:
            if wanted and room[i] > level:
                counts[i] += 1
                wanted -= 1
        level += 1
    return list(zip(days, counts))


class _Writer:
    """Collects appointment rows (with ids we number ourselves) and writes them with their events."""

    APPOINTMENT_COLUMNS = ("id", "patient_id", "provider_id", "service_id", "start_at", "end_at", "status",
                           "reason", "created_at", "updated_at")
    EVENT_COLUMNS = ("appointment_id", "actor_id", "kind", "to_status", "to_start_at", "created_at")

    def __init__(self, conn: Connection, first_id: int) -> None:
        self.conn = conn
        self.next_id = first_id
        self.appointments: list[tuple] = []
        self.events: list[tuple] = []
        self.copy = conn.dialect.name == "postgresql"

    def add(self, patient: int, provider: int, service: _Offered, start: datetime, end: datetime, status: str,
            reason: str | None, created: datetime, updated: datetime) -> None:
        id_ = self.next_id
        self.next_id += 1
        self.appointments.append((id_, patient, provider, service.id, start, end, status, reason, created, updated))
        first_status = Status.APPROVED.value if service.auto_approve else Status.PENDING.value
        self.events.append((id_, patient, "created", first_status, start, created))
        if len(self.appointments) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.appointments:
            self._write(Appointment.__table__, self.APPOINTMENT_COLUMNS, self.appointments)
            self._write(AppointmentEvent.__table__, self.EVENT_COLUMNS, self.events)
        self.appointments, self.events = [], []

    def _write(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self.copy:
            _copy(self.conn, table, columns, rows)
        else:
            self.conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])


def _copy(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """PostgreSQL COPY on the connection's own transaction; scalar column defaults are filled in."""
    defaults = [
        (c.name, c.default.arg) for c in table.columns
        if c.name not in columns and c.default is not None and getattr(c.default, "is_scalar", False)
    ]
    names = ", ".join([*columns, *(name for name, _ in defaults)])
    tail = tuple(value for _, value in defaults)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + tail if tail else row)


def _batches(rows: Iterable[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
