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
from sqlalchemy.orm import Session

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


WROTE_KEY = "booking_wrote"


@event.listens_for(Session, "after_flush")
def _remember_writes(session: Session, _context) -> None:  # type: ignore[no-untyped-def]
    session.info[WROTE_KEY] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction) -> None:  # type: ignore[no-untyped-def]
    if transaction.parent is None:
        session.info.pop(WROTE_KEY, None)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one transaction that may write; commit, or roll back on error.

    It begins the transaction itself, so that on SQLite it can take the write lock up front (see the
    module docstring): a transaction that read first and wrote later fails at once with "database is
    locked" when another writer got in between, and busy_timeout cannot help it. Whatever the request
    read before is let go, so the block must read what it decides on again; the session must hold no
    writes yet (they would be lost), which is checked.
    """
    session = db.session
    if session.new or session.dirty or session.deleted or session.info.get(WROTE_KEY):
        raise RuntimeError("a write transaction must start with no unsaved or uncommitted changes")
    session.rollback()
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={SQLITE_BEGIN_MODE: "IMMEDIATE"})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextlib.contextmanager
def provider_transaction(provider_id: int) -> Iterator[Provider]:
    """A write transaction that also holds `provider_id`'s lock: bookings for it are serialised.

    On SQLite the write lock already serialises everything; PostgreSQL locks only the provider's row.
    """
    with write_transaction():
        query = sa.select(Provider).where(Provider.id == provider_id).execution_options(populate_existing=True)
        if db.session.get_bind().dialect.name != "sqlite":
            query = query.with_for_update()
        provider = db.session.scalars(query).one_or_none()
        if provider is None:
            raise ProviderNotFound(provider_id)
        yield provider
