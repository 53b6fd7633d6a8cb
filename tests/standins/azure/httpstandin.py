"""What the Azure and GCP stand-ins share: TLS serving with a test-time CA, faults and a request journal.

    server = TlsAppServer(app_factory, name="azure")   # app_factory(faults, journal) -> ASGI app
    server.start(); server.url; server.ca_pem; server.stop()

Faults are applied by ``fault_middleware`` before the app sees the request: answer a status with the
provider's error body for the next N matching requests, add latency, or take the whole API down.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.responses import JSONResponse

from tests.standins.proxmox._pki import CertificateAuthority

__all__ = ["Fault", "Faults", "Journal", "JournalEntry", "TlsAppServer", "fault_middleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorBody = Callable[[str, int, str], dict[str, Any]]


@dataclass
class Fault:
    """Requests whose path matches ``path`` (a regex) get ``status`` (None: answered normally after
    ``latency`` seconds); ``times`` matching requests are affected (None: until cleared). With
    ``answer_late`` the request is served at once and only its answer waits (a client that gives up, or dies,
    meanwhile has still made its change)."""

    path: str = ".*"
    status: int | None = 503
    message: str = "The service is temporarily unavailable."
    latency: float = 0.0
    times: int | None = 1
    answer_late: bool = False
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, path: str) -> bool:
        """True while the fault has uses left and the path matches."""
        if self.times is not None and self.hits >= self.times:
            return False
        return self._pattern.search(path) is not None


class Faults:
    """Thread-safe list of active faults: tests add them, the middleware consumes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a fault (the first matching one wins)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, path: str = ".*", status: int = 503, *, times: int | None = 1, message: str | None = None) -> Fault:
        """Answer ``status`` with the provider's error body for the next ``times`` matching requests."""
        fault = Fault(path=path, status=status, times=times)
        if message:
            fault.message = message
        return self.add(fault)

    def slow(self, seconds: float, path: str = ".*", *, times: int | None = None, answer_late: bool = False) -> Fault:
        """Delay matching requests by ``seconds``, then answer normally (``answer_late``: serve at once, delay
        only the answer)."""
        return self.add(Fault(path=path, status=None, latency=seconds, times=times, answer_late=answer_late))

    def outage(self, status: int = 503) -> Fault:
        """Every request answers ``status`` until ``clear()``."""
        return self.add(Fault(path=".*", status=status, times=None))

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """The first matching fault (counting the hit), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.hits += 1
                    return fault
        return None


@dataclass(frozen=True)
class JournalEntry:
    """One request as the stand-in saw it (``principal``: who the bearer token or grant was for)."""

    method: str
    path: str
    query: str
    status: int
    principal: str
    injected: bool


class Journal:
    """Every request seen, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append(entry)

    def entries(self, path: str | None = None) -> list[JournalEntry]:
        """Entries whose path matches the regex (all when None)."""
        pattern = re.compile(path) if path else None
        with self._lock:
            items = list(self._entries)
        return [e for e in items if pattern is None or pattern.search(e.path)]

    def count(self, path: str | None = None) -> int:
        """How many entries match."""
        return len(self.entries(path))

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()


def fault_middleware(app: ASGIApp, faults: Faults, journal: Journal, error_body: ErrorBody) -> ASGIApp:
    """Wrap ``app``: apply faults, journal every request; the app puts the principal in scope['state']."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        query = scope.get("query_string", b"").decode()
        scope.setdefault("state", {})
        fault = faults.take(path)
        injected = fault is not None and fault.status is not None
        recorded = [False]

        def record(status: int) -> None:
            principal = "" if injected else str(scope["state"].get("principal", ""))
            journal.record(JournalEntry(method, path, query, status, principal, injected))
            recorded[0] = True

        async def recording(message: Message) -> None:
            # Journal before the response leaves: a client that has its answer must find it recorded.
            if message["type"] == "http.response.start":
                record(int(message["status"]))
                if fault is not None and fault.latency and fault.answer_late:
                    await asyncio.sleep(fault.latency)
            await send(message)

        if fault is not None and fault.latency and not fault.answer_late:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status is not None:
            response = JSONResponse(error_body(path, fault.status, fault.message), status_code=fault.status)
            await response(scope, receive, recording)
            return
        try:
            await app(scope, receive, recording)
        finally:
            if not recorded[0]:
                record(0)

    return wrapped


class TlsAppServer:
    """An ASGI app served by uvicorn over TLS on 127.0.0.1 (free port unless given), in a daemon thread.

    The certificate is issued for 127.0.0.1/localhost by a CA made here; ``ca_pem`` is what clients trust.
    """

    def __init__(self, app: ASGIApp, *, name: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.name = name
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on TCP-protocol sockets; without it, every answer
        # on a kept-alive connection waited ~40 ms for the client's delayed ACK (Nagle)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self._workdir = tempfile.mkdtemp(prefix=f"daytwo-{name}-standin-")
        ca = CertificateAuthority(f"daytwo {name} test CA")
        self.ca_pem = ca.pem
        self.ca_file = f"{self._workdir}/ca.pem"
        with open(self.ca_file, "w", encoding="ascii") as out:
            out.write(self.ca_pem)
        cert = ca.issue(self._workdir, (host, "localhost"))
        self._config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            ssl_certfile=cert.certfile,
            ssl_keyfile=cert.keyfile,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """https://127.0.0.1:<port>."""
        return f"https://{self.host}:{self.port}"

    def start(self) -> TlsAppServer:
        """Serve in a daemon thread; returns once it accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=f"{self.name}-standin", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.name} stand-in did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (the ``python -m`` entry points)."""
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        """Stop serving, remove the certificate files."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
        shutil.rmtree(self._workdir, ignore_errors=True)
