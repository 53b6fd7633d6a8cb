"""A local HTTP receiver for webhook tests: records every POST; answers from a script of status codes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """``with Receiver([500, 200]) as r:`` answers 500 then 200 (then the last code); ``r.url``, ``r.received``."""

    script: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                index = min(len(owner.received) - 1, len(owner.script) - 1)
                self.send_response(owner.script[index])
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                owner.event.set()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        """Where to send events."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
