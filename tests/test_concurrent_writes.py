"""Writes that race each other through the real request path end in clean answers, never a 500."""
from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from booking.extensions import db
from booking.models import User

PASSWORD = "correct horse battery"


def register_all_at_once(app, emails: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(emails))
    statuses: list[int] = []
    guard = threading.Lock()

    def visitor(email: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/auth/register", data={
            "full_name": "Racer", "email": email, "password": PASSWORD, "password_confirm": PASSWORD,
        })
        with guard:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=visitor, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return statuses


def test_many_people_register_at_the_same_moment(app):  # type: ignore[no-untyped-def]
    emails = [f"racer{n}@example.com" for n in range(8)]
    assert Counter(register_all_at_once(app, emails)) == Counter({303: 8})
    db.session.rollback()
    assert set(db.session.scalars(sa.select(User.email))) == set(emails)


def test_one_address_registered_twice_at_once(app):  # type: ignore[no-untyped-def]
    statuses = register_all_at_once(app, ["same@example.com", "SAME@example.com", "same@Example.com", "same@example.com"])
    assert Counter(statuses) == Counter({303: 4}), "the same answer whether or not the address was taken"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
