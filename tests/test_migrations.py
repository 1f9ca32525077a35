"""The committed migrations build, remove and rebuild the schema, and match the models exactly."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from booking.extensions import db
from tests.conftest import PG_URL, build_app

EXPECTED_TABLES = {
    "users", "patient_profiles", "specialties", "services", "providers", "provider_services",
    "working_hours", "time_off", "appointments", "appointment_events", "appointment_notes", "outbox",
    "account_limit_counts", "intake_questions", "intake_answers", "provider_photos",
}


@pytest.fixture
def empty_database(backend, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    assert PG_URL
    name = f"booking_migrations_{uuid.uuid4().hex[:10]}"
    server = sa.make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_database):  # type: ignore[no-untyped-def]
    app = build_app(empty_database)
    with app.app_context():
        upgrade()
        assert tables(db.engine) == EXPECTED_TABLES
        downgrade(revision="base")
        assert tables(db.engine) == set()
        upgrade()
        assert tables(db.engine) == EXPECTED_TABLES
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                constraint = connection.execute(
                    sa.text("SELECT 1 FROM pg_constraint WHERE conname = 'ex_appointments_provider_time'")
                ).scalar()
            assert constraint == 1
        db.engine.dispose()


def test_downgrade_leaves_nothing_behind_on_postgres(empty_database, backend):  # type: ignore[no-untyped-def]
    if backend.name != "postgresql":
        pytest.skip("extensions are PostgreSQL's")
    app = build_app(empty_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            extensions = set(connection.execute(sa.text("SELECT extname FROM pg_extension")).scalars())
        assert "btree_gist" not in extensions
        db.engine.dispose()


def test_autogenerate_finds_no_difference(app):  # type: ignore[no-untyped-def]
    """The test database was built by the migrations; comparing it to the models must find nothing."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_database_has_every_constraint_the_models_declare(app):  # type: ignore[no-untyped-def]
    """Autogenerate does not compare CHECK or exclusion constraints; compare their names instead."""
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        reflected = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert declared == reflected, table.name
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            exclusions = set(connection.execute(sa.text("SELECT conname FROM pg_constraint WHERE contype = 'x'")).scalars())
        assert exclusions == {"ex_appointments_provider_time"}


def test_downgrading_a_step_keeps_the_data(empty_database):  # type: ignore[no-untyped-def]
    """SQLite alters tables by copying them; that must not cascade-delete the rows pointing at them."""
    from tests.factories import make_provider

    app = build_app(empty_database)
    with app.app_context():
        upgrade()
        provider = make_provider()
        hours = len(provider.working_hours)
        db.session.remove()
        downgrade(revision="0001_initial")  # through every later migration
        with db.engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT count(*) FROM working_hours")).scalar()
            providers = connection.execute(sa.text("SELECT count(*) FROM providers")).scalar()
        assert (providers, kept) == (1, hours)
        upgrade()
        db.engine.dispose()


def test_the_database_keeps_nights_and_whole_days_but_refuses_an_empty_block(app):  # type: ignore[no-untyped-def]
    from datetime import time

    from booking.models import WorkingHours
    from tests.factories import make_provider

    provider = make_provider(weekdays=range(0))
    for start, end in ((time(22), time(6)), (time(18), time(0)), (time(0), time(0))):
        db.session.add(WorkingHours(provider_id=provider.id, weekday=len(provider.working_hours), start_time=start,
                                    end_time=end))
        db.session.commit()
        db.session.refresh(provider)
    db.session.add(WorkingHours(provider_id=provider.id, weekday=5, start_time=time(9), end_time=time(9)))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_downgrading_below_night_hours_refuses_while_nights_exist(empty_database, caplog):  # type: ignore[no-untyped-def]
    """Migration 0007's downgrade keeps the data: it refuses (`flask db downgrade` exits 1 with the
    message), names how many blocks, and changes nothing."""
    from datetime import time

    from booking.models import WorkingHours
    from tests.factories import make_provider

    app = build_app(empty_database)
    with app.app_context():
        upgrade()
        provider = make_provider(weekdays=range(1))
        db.session.add_all([WorkingHours(provider_id=provider.id, weekday=4, start_time=time(22), end_time=time(6)),
                            WorkingHours(provider_id=provider.id, weekday=5, start_time=time(0), end_time=time(0))])
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):
            downgrade(revision="0006_account_limits")
        assert "2 block(s) of working hours end at midnight or the next day" in caplog.text
        with db.engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            assert version != "0006_account_limits"
            assert connection.execute(sa.text("SELECT count(*) FROM working_hours")).scalar() == 3
        with db.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM working_hours WHERE end_time <= start_time"))
        downgrade(revision="0006_account_limits")
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM working_hours")).scalar() == 1
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:  # the old check is back
            connection.execute(sa.text("UPDATE working_hours SET end_time = start_time"))
        upgrade()
        db.engine.dispose()
