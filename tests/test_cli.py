"""The flask commands of DESIGN.md's contract."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from booking.domain.status import Status
from booking.extensions import db
from booking.models import Appointment, AppointmentEvent, Provider, Service, Specialty, User, WorkingHours
from booking.services.passwords import verify_password

DEMO_PASSWORD = "demo-password"
MODELS = (User, Specialty, Service, Provider, WorkingHours, Appointment, AppointmentEvent)


def counts() -> dict[str, int]:
    db.session.rollback()
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MODELS}


def test_create_user_reads_the_password_from_stdin(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["create-user", "--email", "Boss@Clinic.test", "--name", "The Boss", "--role", "admin", "--password-stdin"],
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@clinic.test"))
    assert user.role == "admin" and user.email_verified
    assert verify_password(user.password_hash, "a long enough secret")
    assert "a long enough secret" not in result.output


def test_create_user_refuses_a_duplicate_and_a_weak_password(runner):  # type: ignore[no-untyped-def]
    args = ["create-user", "--email", "x@clinic.test", "--name", "X", "--role", "staff", "--password-stdin"]
    assert runner.invoke(args=args, input="a long enough secret\n").exit_code == 0
    duplicate = runner.invoke(args=[*args[:2], "X@CLINIC.TEST", *args[3:]], input="another long secret\n")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    weak = runner.invoke(args=[*args[:2], "y@clinic.test", *args[3:]], input="short\n")
    assert weak.exit_code != 0 and "at least 10" in weak.output
    assert counts()["User"] == 1


def test_seed_demo_makes_a_believable_clinic(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    numbers = counts()
    assert numbers["Specialty"] >= 4 and numbers["Service"] >= 6 and numbers["Provider"] >= 5
    assert numbers["Appointment"] >= 50
    patients = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "patient"))
    assert patients >= 10
    durations = db.session.scalars(sa.select(Service.duration_min)).all()
    assert all(15 <= d <= 60 for d in durations)
    statuses = set(db.session.scalars(sa.select(Appointment.status).distinct()))
    assert statuses == {s.value for s in Status}
    staff1_pending = db.session.scalar(
        sa.select(sa.func.count(Appointment.id)).join(Provider).join(User, Provider.user_id == User.id)
        .where(User.email == "staff1@demo.test", Appointment.status == "pending")
    )
    assert staff1_pending >= 3
    # some provider has a lunch break: two blocks on one weekday
    blocks = db.session.execute(
        sa.select(WorkingHours.provider_id, WorkingHours.weekday, sa.func.count())
        .group_by(WorkingHours.provider_id, WorkingHours.weekday).having(sa.func.count() > 1)
    ).all()
    assert blocks
    accounts = db.session.scalars(sa.select(User)).all()
    assert all(u.email_verified for u in accounts)
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.test"))
    assert admin.role == "admin" and verify_password(admin.password_hash, DEMO_PASSWORD)
    # the past is settled and the future is open: nothing pending in the past, nothing completed ahead
    now = datetime.now(timezone.utc)
    for appointment in db.session.scalars(sa.select(Appointment)):
        if appointment.end_at < now:
            assert appointment.status not in ("pending", "approved"), appointment
        elif appointment.start_at > now:
            assert appointment.status not in ("completed", "no_show"), appointment
        assert appointment.events and appointment.events[0].kind == "created"
        if appointment.service.auto_approve:
            assert appointment.status != "pending", "a service that approves itself never waits for staff"


def test_seed_demo_twice_gives_the_same_counts(runner):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD]).exit_code == 0
    first = counts()
    second_run = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert second_run.exit_code == 0, second_run.output
    assert counts() == first


def test_seed_demo_if_empty_leaves_a_used_database_alone(runner):  # type: ignore[no-untyped-def]
    runner.invoke(args=["create-user", "--email", "only@clinic.test", "--name", "Only", "--role", "admin",
                        "--password-stdin"], input="a long enough secret\n")
    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD, "--if-empty"])
    assert result.exit_code == 0
    assert counts()["User"] == 1


def test_demo_accounts_log_in(runner, client, auth):  # type: ignore[no-untyped-def]
    runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    for email, home in [("admin@demo.test", "/admin/appointments"), ("staff1@demo.test", "/staff/requests"),
                        ("patient1@demo.test", "/book/")]:
        response = auth.login(email, DEMO_PASSWORD)
        assert response.status_code == 303 and response.headers["Location"] == home
        page = client.get(home)
        assert page.status_code == 200
        auth.logout()
