"""A local SMTP sink (aiosmtpd) for alert e-mail tests: ``with SmtpSink() as sink: sink.port, sink.subjects()``."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["SmtpSink"]


def _free_port() -> int:
    """A free loopback port (aiosmtpd's Controller checks readiness by connecting, so port 0 will not do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """Accepts every message on 127.0.0.1:``port`` and keeps it (parsed) in ``messages``."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        """The subjects received so far."""
        with self._lock:
            return [str(message["Subject"]) for message in self.messages]

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
