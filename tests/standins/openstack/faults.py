"""Fault injection and the request journal, applied by an ASGI middleware in front of every service."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .clock import Clock
from .errors import error_for_path

__all__ = ["Fault", "FaultInjector", "Journal", "JournalEntry", "TrackingH11Protocol", "faults_middleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# client (host, port) -> transport, so a "drop" fault can abort the TCP connection mid-request.
_TRANSPORTS: dict[tuple[str, int], asyncio.Transport] = {}


class TrackingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, remembering each connection's transport by client address."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.client:
            _TRANSPORTS[self.client] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.client:
            _TRANSPORTS.pop(self.client, None)
        super().connection_lost(exc)


@dataclass
class Fault:
    """One injected misbehaviour for requests whose method and path match.

    ``times`` = how many matching requests it affects (None = until cleared); the first ``skip`` matching
    requests pass untouched (to catch, say, the second read of an object). Exactly one of
    ``status`` (answer with this code), ``hang`` (stall this many seconds, then answer normally),
    ``drop`` (abort the connection) or ``latency`` (delay, then answer normally) applies.
    """

    path: str = ".*"
    method: str | None = None
    status: int | None = None
    message: str = "Injected fault"
    latency: float = 0.0
    hang: float | None = None
    drop: bool = False
    times: int | None = 1
    skip: int = 0
    hits: int = 0
    skipped: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        """True while the fault has uses left and the request matches."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self._pattern.search(path) is None:
            return False
        if self.skipped < self.skip:
            self.skipped += 1
            return False
        return True


class FaultInjector:
    """Thread-safe list of active faults; tests add them, the middleware consumes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.released = threading.Event()

    def add(self, fault: Fault) -> Fault:
        """Activate a fault."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, path: str, status: int = 503, *, times: int | None = 1, method: str | None = None) -> Fault:
        """Answer ``status`` (with the service's error body) for the next ``times`` matching calls."""
        return self.add(Fault(path=path, method=method, status=status, times=times))

    def slow(self, path: str, seconds: float, *, times: int | None = None, method: str | None = None) -> Fault:
        """Add latency to matching calls."""
        return self.add(Fault(path=path, method=method, latency=seconds, times=times))

    def hang(self, path: str, seconds: float = 30.0, *, times: int | None = None, method: str | None = None) -> Fault:
        """Stall matching calls (until ``clear()`` or ``seconds``), so clients time out."""
        return self.add(Fault(path=path, method=method, hang=seconds, times=times))

    def drop(self, path: str, *, times: int | None = 1, method: str | None = None) -> Fault:
        """Abort the TCP connection of matching calls without answering."""
        return self.add(Fault(path=path, method=method, drop=True, times=times))

    def describe(self) -> list[dict[str, Any]]:
        """Every active fault as JSON (path, method, kind, times, hits)."""
        with self._lock:
            faults = list(self._faults)
        return [
            {
                "path": f.path,
                "method": f.method,
                "status": f.status,
                "hang": f.hang,
                "drop": f.drop,
                "latency": f.latency,
                "times": f.times,
                "skip": f.skip,
                "hits": f.hits,
            }
            for f in faults
        ]

    def clear(self) -> None:
        """Remove every fault and release hung requests."""
        with self._lock:
            self._faults.clear()
        self.released.set()
        self.released = threading.Event()

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault (counting the hit), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None


@dataclass(frozen=True)
class JournalEntry:
    """One request as the stand-in saw it."""

    method: str
    path: str
    query: str
    status: int
    clock_time: float
    wall_time: float
    duration_s: float
    #: The first :data:`JOURNAL_BODY_BYTES` of the request body (UTF-8, undecodable bytes replaced), so a
    #: test can count the requests about one object (a create naming its volume) among everyone's.
    body: str = ""


#: How much of each request body the journal keeps.
JOURNAL_BODY_BYTES = 4096


class Journal:
    """The most recent requests (bounded) and a total count."""

    def __init__(self, maxlen: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self.total = 0

    def record(self, entry: JournalEntry) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(
        self, *, method: str | None = None, path: str | None = None, contains: str | None = None
    ) -> list[JournalEntry]:
        """Entries, optionally filtered by method, a path regex and a substring of the request body."""
        pattern = re.compile(path) if path else None
        with self._lock:
            items = list(self._entries)
        return [
            e
            for e in items
            if (method is None or e.method == method.upper())
            and (pattern is None or pattern.search(e.path))
            and (contains is None or contains in e.body)
        ]

    def count(self, *, method: str | None = None, path: str | None = None, contains: str | None = None) -> int:
        """How many recorded entries match."""
        return len(self.entries(method=method, path=path, contains=contains))

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self.total = 0


def _capturing(receive: Receive, kept: list[bytes]) -> Receive:
    """``receive`` that also keeps the first :data:`JOURNAL_BODY_BYTES` of the request body in ``kept``."""

    async def capture() -> Message:
        message = await receive()
        if message["type"] == "http.request" and sum(map(len, kept)) < JOURNAL_BODY_BYTES:
            kept.append(bytes(message.get("body", b"")))
        return message

    return capture


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now and replay it later, as a server that received a request does."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return replay


def faults_middleware(
    app: ASGIApp, faults: FaultInjector, journal: Journal, clock: Clock, before: Callable[[], None]
) -> ASGIApp:
    """Wrap ``app``: journal every request (except ``/_standin``), apply faults, settle transitions."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_standin"):
            await app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        started = time.monotonic()
        status_holder = [0]
        recorded = [False]
        body_kept: list[bytes] = []
        receive = _capturing(receive, body_kept)

        def record() -> None:
            if not recorded[0]:
                recorded[0] = True
                journal.record(
                    JournalEntry(
                        method=method,
                        path=path,
                        query=scope.get("query_string", b"").decode(),
                        status=status_holder[0],
                        clock_time=clock.now(),
                        wall_time=time.time(),
                        duration_s=time.monotonic() - started,
                        body=b"".join(body_kept)[:JOURNAL_BODY_BYTES].decode("utf-8", "replace"),
                    )
                )

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()  # before the client can see the answer, so tests never race the journal
            await send(message)

        try:
            fault = faults.take(method, path)
            if fault is not None:
                if fault.latency:
                    await asyncio.sleep(fault.latency)
                if fault.hang is not None:
                    receive = await _buffered(receive)  # the request is in: it completes even if its client dies
                    released = faults.released
                    deadline = time.monotonic() + fault.hang
                    while time.monotonic() < deadline and not released.is_set():
                        await asyncio.sleep(0.05)
                if fault.drop:
                    record()  # status 0: no answer was sent
                    transport = _TRANSPORTS.get(tuple(scope.get("client") or ("", 0)))  # type: ignore[arg-type]
                    if transport is not None:
                        transport.abort()
                        await asyncio.sleep(0.01)  # let uvicorn see the disconnect
                    return
                if fault.status is not None:
                    err = error_for_path(path, fault.status, fault.message)
                    body = err.body if isinstance(err.body, str) else json.dumps(err.body)
                    kind = b"text/plain" if isinstance(err.body, str) else b"application/json"
                    start = {
                        "type": "http.response.start",
                        "status": fault.status,
                        "headers": [(b"content-type", kind)],
                    }
                    await recording_send(start)
                    await recording_send({"type": "http.response.body", "body": body.encode()})
                    return
            before()
            await app(scope, receive, recording_send)
        finally:
            record()

    return wrapped
