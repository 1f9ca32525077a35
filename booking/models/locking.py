"""The serialising transaction that makes double booking impossible.

Everything that lets an appointment hold time (book, reschedule, approve) runs inside
`provider_transaction(provider_id)`: it starts a fresh transaction that holds the provider's lock, so
that a re-check of overlaps followed by the write cannot interleave with another request's.

* PostgreSQL: `SELECT ... FOR UPDATE` on the provider row; other providers are not blocked. The
  exclusion constraint on appointments is the last word if code ever forgets the lock.
* SQLite: `BEGIN IMMEDIATE` takes the database's single write lock up front. A deferred transaction
  that read first and wrote later could not wait for the lock: SQLite would fail it with "database is
  locked" instead, so the mode of BEGIN matters. WAL mode lets readers go on meanwhile, and
  busy_timeout makes the second writer wait instead of failing.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from booking.extensions import db
from booking.models.clinic import Provider

#: Execution option read by the SQLite "begin" hook: DEFERRED (default) or IMMEDIATE.
SQLITE_BEGIN_MODE = "booking_sqlite_begin_mode"


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Give SQLite connections foreign keys, WAL, a busy timeout and a BEGIN we control."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # pysqlite would otherwise send its own BEGIN lazily, before the first write only.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get(SQLITE_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class ProviderNotFound(LookupError):
    pass


@contextlib.contextmanager
def provider_transaction(provider_id: int) -> Iterator[Provider]:
    """Run the block in one transaction that holds `provider_id`'s lock; commit, or roll back on error.

    It must begin the transaction itself: whatever the request read before is let go (the session
    must hold no unsaved changes), and everything the block needs is read again under the lock.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("provider_transaction() needs a session without unsaved changes")
    session.rollback()
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.connection(execution_options={SQLITE_BEGIN_MODE: "IMMEDIATE"})
    query = sa.select(Provider).where(Provider.id == provider_id).execution_options(populate_existing=True)
    if dialect != "sqlite":
        query = query.with_for_update()
    try:
        provider = session.scalars(query).one_or_none()
        if provider is None:
            raise ProviderNotFound(provider_id)
        yield provider
        session.commit()
    except BaseException:
        session.rollback()
        raise
