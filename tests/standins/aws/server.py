"""moto's WSGI app served by werkzeug on loopback, behind a small middleware for faults and a journal.

The middleware sees every request before moto does: it records (service, action, access key id,
status) in a journal, and can answer a matching request itself with an AWS-shaped error (XML for the
query protocols of EC2/STS/IAM, JSON for Cost Explorer), delay it, or drop the connection.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (  # type: ignore[import-untyped]
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

__all__ = ["Fault", "JournalEntry", "MotoServer"]

_CREDENTIAL = re.compile(r"Credential=(?P<key>[A-Z0-9]+)/[0-9]{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/")
StartResponse = Callable[..., Any]


@dataclass
class Fault:
    """Answer matching requests with ``status``/``code`` (``times`` of them; None = until cleared)."""

    status: int = 503
    code: str = "ServiceUnavailable"
    message: str = "Service is unavailable. Please retry."
    service: str | None = None
    action: str | None = None
    times: int | None = 1
    delay: float = 0.0

    def matches(self, service: str, action: str) -> bool:
        """True when the fault applies to this service and action."""
        return (self.service in (None, service)) and (self.action in (None, action))


@dataclass(frozen=True)
class JournalEntry:
    """One request seen: which service/action, with which access key id, and the status answered."""

    service: str
    action: str
    access_key_id: str
    status: int
    injected: bool


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[Fault] = field(default_factory=list)
    latency: float = 0.0
    journal: list[JournalEntry] = field(default_factory=list)


def _error_body(service: str, fault: Fault) -> tuple[bytes, str]:
    request_id = str(uuid.uuid4())
    if service == "ce":
        body = {"__type": fault.code, "message": fault.message}
        return json.dumps(body).encode(), "application/x-amz-json-1.1"
    if service == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        kind = "Receiver" if fault.status >= 500 else "Sender"
        xml = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{fault.code}</Code><Message>{fault.message}"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return xml.encode(), "text/xml"


class _Middleware:
    def __init__(self, app: Any, state: _State) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = found.group("service") if found else "moto-api"
        key = found.group("key") if found else ""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            action = target.rpartition(".")[2]
        else:
            query = parse_qs(body.decode("utf-8", "replace")) if body else parse_qs(environ.get("QUERY_STRING", ""))
            action = (query.get("Action") or [environ.get("PATH_INFO", "")])[0]
        with self.state.lock:
            latency = self.state.latency
            fault = next((f for f in self.state.faults if f.matches(service, action)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.state.faults.remove(fault)
        if service != "moto-api" and (latency or (fault and fault.delay)):
            time.sleep(latency + (fault.delay if fault else 0.0))
        if fault is not None and service != "moto-api":
            payload, content_type = _error_body(service, fault)
            self._record(service, action, key, fault.status, True)
            start_response(
                f"{fault.status} Injected",
                [("Content-Type", content_type), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        statuses: list[int] = []

        def recording_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, *args)

        result = self.app(environ, recording_start)
        if service != "moto-api":
            self._record(service, action, key, statuses[0] if statuses else 0, False)
        return result  # type: ignore[no-any-return]

    def _record(self, service: str, action: str, key: str, status: int, injected: bool) -> None:
        with self.state.lock:
            self.state.journal.append(JournalEntry(service, action, key, status, injected))


class MotoServer:
    """moto in server mode on host:port (0 = a free port) in a daemon thread, with faults and a journal."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = _State()
        app = _Middleware(DomainDispatcherApplication(create_backend_app), self.state)
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self.host, self.port = str(self._server.server_address[0]), int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"moto-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """http://host:port."""
        return f"http://{self.host}:{self.port}"

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault (first matching fault wins)."""
        with self.state.lock:
            self.state.faults.append(fault)

    def clear_faults(self) -> None:
        """Forget every fault and the latency."""
        with self.state.lock:
            self.state.faults.clear()
            self.state.latency = 0.0

    def set_latency(self, seconds: float) -> None:
        """Delay every AWS request by this many seconds."""
        with self.state.lock:
            self.state.latency = seconds

    def journal(self) -> list[JournalEntry]:
        """A copy of the requests seen so far."""
        with self.state.lock:
            return list(self.state.journal)

    def clear_journal(self) -> None:
        """Forget the requests seen so far."""
        with self.state.lock:
            self.state.journal.clear()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
