"""A real SMTP server for the tests (aiosmtpd in a thread on a free port) and what it received."""
from __future__ import annotations

import email
import re
import socket
import threading
import time
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []  # each message as it arrived, for parsing with another policy
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
            self.raw.append(envelope.content)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    """(mailbox, port): a running SMTP server; configure the app with MAIL_SERVER/MAIL_PORT."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def mail_app(make_app, smtp):  # type: ignore[no-untyped-def]
    """(app, mailbox): an app that sends its e-mail to the test SMTP server, inside its app context."""
    box, port = smtp
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        yield app, box


def bodies(message: Message) -> dict[str, str]:
    """content type -> decoded body, for every part of a message."""
    return {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
            if not part.is_multipart()}


def arrived(box: Mailbox, address: str, subject: str, timeout: float = 15) -> list[Message]:
    """The messages to `address` with `subject`, waiting for the first: a real server sends mail after
    the response that queued it, so it may land a moment after the page has."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in box.to(address) if m["Subject"] == subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def link_in(box: Mailbox, address: str, subject: str, path: str) -> str:
    """The app-relative link starting with `path` in the last e-mail to `address` with `subject`."""
    from tests.suite_log import remember_secret

    [*_, message] = arrived(box, address, subject)
    link = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", bodies(message)["text/plain"])[1]
    remember_secret(link.rsplit("/", 1)[-1])  # the token: no log may ever show it
    return link
