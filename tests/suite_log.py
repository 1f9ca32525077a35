"""Everything the app logs during the whole test run, and the secrets the tests used, so that one
last test can check that no password or token ever reached a log."""
from __future__ import annotations

import io
import logging

import pytest

from booking.logs import JsonFormatter
from tests.factories import DEFAULT_PASSWORD

#: Passwords and tokens the tests typed or received; tests add the ones they learn (links, feeds).
SECRETS: set[str] = {DEFAULT_PASSWORD, "correct horse battery", "a brand new passphrase", "wrong password",
                     "not my password", "yet another passphrase", "demo-password"}
LOG = io.StringIO()
LAST = "tests/test_logs.py::test_the_suite_logged_no_password_or_token"


def remember_secret(value: str) -> str:
    SECRETS.add(value)
    return value


@pytest.fixture(scope="session", autouse=True)
def suite_log():  # type: ignore[no-untyped-def]
    handler = logging.StreamHandler(LOG)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("booking")
    logger.addHandler(handler)
    yield LOG
    logger.removeHandler(handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scan runs after everything else."""
    last = [item for item in items if item.nodeid.startswith(LAST)]
    items[:] = [item for item in items if not item.nodeid.startswith(LAST)] + last
