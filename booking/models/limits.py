"""Counts that protect an account (failed logins, reset e-mails), kept in the database.

A count in one worker's memory multiplies by the number of workers and vanishes when a worker
restarts; a row here is shared by every worker and outlives them all. One row per (scope, account,
window length, window start): a fixed window, as Flask-Limiter counts the address limits.

`take` counts one attempt in every window of a limit at once, in one short transaction of its own
(not the request's: a failed login answers 422 and rolls back nothing it did not write, but its count
must be committed all the same). Each window is an atomic upsert, `INSERT ... ON CONFLICT DO UPDATE
SET count = count + 1 RETURNING count`, so two workers never both read 9 and both write 10; if any
window goes over its amount the whole transaction rolls back and the attempt is refused, so a refused
attempt counts nowhere. Counting before the attempt, not after it, is what keeps N simultaneous
attempts from all passing a check of "fewer than the limit so far". An attempt that turns out not to
count (a login that succeeded) is handed back with `give_back`.

Rows of windows that have ended are deleted by `prune`, a bounded batch run each time a new window
row is made: the table holds about one row per account and window that saw an attempt lately.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.locking import SQLITE_BEGIN_MODE

PRUNE_BATCH = 500


class AccountLimitCount(db.Model):
    __tablename__ = "account_limit_counts"
    __table_args__ = (
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
        sa.CheckConstraint("period > 0", name="period_positive"),
        sa.Index("ix_account_limit_counts_expires_at", "expires_at"),
    )

    scope: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # the setting, e.g. login_failures_per_account
    # A keyed digest of the normalised e-mail address: who has an account here is medical information.
    account: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    period: Mapped[int] = mapped_column(primary_key=True)  # the window's length in seconds
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)  # Unix seconds, a multiple of period
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[int] = mapped_column(sa.BigInteger)  # window_start + period


@dataclass(frozen=True)
class Window:
    """One part of a limit such as "5 per minute; 100 per hour": so many attempts per period seconds."""

    amount: int
    period: int


@dataclass(frozen=True)
class Taken:
    """Attempts counted by `take`, to be handed back if they turn out not to count."""

    scope: str
    account: str
    windows: tuple[tuple[int, int], ...]  # (period, window_start)


@dataclass(frozen=True)
class Refused:
    """The limit is reached; the earliest moment all the full windows are over, in Unix seconds."""

    retry_at: int


def take(scope: str, account: str, windows: list[Window], now: int) -> Taken | Refused:
    """Count one attempt in each window, or none if any window is full (see the module docstring)."""
    table = AccountLimitCount.__table__
    counted: list[tuple[int, int]] = []
    over: list[int] = []
    fresh = False
    with _transaction() as connection:
        # Always the same order (by period): two transactions never wait for each other's rows in a cycle.
        for window in sorted(windows, key=lambda w: w.period):
            start = now - now % window.period
            values = dict(scope=scope, account=account, period=window.period, window_start=start, count=1,
                          expires_at=start + window.period)
            count = connection.execute(_upsert(connection, values).returning(table.c.count)).scalar_one()
            counted.append((window.period, start))
            fresh = fresh or count == 1
            if count > window.amount:
                over.append(start + window.period)
        if over:
            connection.rollback()
            return Refused(retry_at=max(over))
    if fresh:
        prune(now)
    return Taken(scope, account, tuple(counted))


def give_back(taken: Taken) -> None:
    """Uncount an attempt `take` counted (the window may have ended since; then it no longer matters)."""
    table = AccountLimitCount.__table__
    with _transaction() as connection:
        for period, start in taken.windows:
            connection.execute(table.update().where(
                table.c.scope == taken.scope, table.c.account == taken.account, table.c.period == period,
                table.c.window_start == start, table.c.count > 0,
            ).values(count=table.c.count - 1))


def prune(now: int) -> int:
    """Delete up to PRUNE_BATCH rows of windows that are over; the number deleted.

    PostgreSQL skips rows another pruner has locked, so two workers pruning at once neither wait for
    each other nor deadlock; SQLite runs one writer at a time anyway.
    """
    with _transaction() as connection:
        if connection.dialect.name == "postgresql":
            statement = sa.text(
                "DELETE FROM account_limit_counts WHERE ctid IN (SELECT ctid FROM account_limit_counts "
                "WHERE expires_at <= :now LIMIT :batch FOR UPDATE SKIP LOCKED)")
        else:
            statement = sa.text(
                "DELETE FROM account_limit_counts WHERE rowid IN (SELECT rowid FROM account_limit_counts "
                "WHERE expires_at <= :now LIMIT :batch)")
        return connection.execute(statement, {"now": now, "batch": PRUNE_BATCH}).rowcount


def _upsert(connection: Connection, values: dict[str, object]):  # type: ignore[no-untyped-def]
    table = AccountLimitCount.__table__
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table).values(**values)
    return insert.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.account, table.c.period, table.c.window_start],
        set_={"count": table.c.count + 1},
    )


@contextlib.contextmanager
def _transaction() -> Iterator[Connection]:
    """A short transaction on a connection of its own, apart from the request's session; on SQLite it
    takes the write lock up front (BEGIN IMMEDIATE, see locking.py) so it waits instead of failing.
    Committed at the end of the block unless the block rolled it back or raised."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN_MODE: "IMMEDIATE"})
        connection.begin()
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        if connection.in_transaction():
            connection.commit()
