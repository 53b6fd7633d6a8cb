"""What the public-cloud backends (aws, azure, gcp) share: normalised records, identity, retries.

Every provider turns its answers into the same frozen values, so the CloudCredential reconciler and the
multicloud facade never see SDK types:

    identity = backend.validate()                       # CloudIdentity
    inventory = backend.inventory([InventoryKind.VMS])  # Inventory of InventoryRecord
    inventory.counts()                                  # {"vms": 12, "storage": 0, "networks": 0}

``call_with_retries`` is the one retry loop: it retries only ``RetryableError`` (5xx, 429/throttling,
connection failures, timeouts), never a terminal error (4xx), with jittered exponential backoff.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import tempfile
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import requests
from requests.adapters import HTTPAdapter

from ..errors import BackendError, InvalidRequest, RetryableError, Timeout, TLSVerificationFailed, Unavailable
from ..stopping import pause

__all__ = [
    "ALL_KINDS",
    "ClientFactory",
    "CloudIdentity",
    "HttpAnswer",
    "Inventory",
    "InventoryKind",
    "InventoryRecord",
    "JsonHttp",
    "RetryPolicy",
    "call_with_retries",
    "digest",
    "endpoint_slot",
    "parse_kinds",
    "transport_error",
    "write_ca_file",
]

T = TypeVar("T")
log = logging.getLogger(__name__)


def digest(domain: bytes, *parts: str) -> str:
    """A one-way SHA-256 over length-prefixed parts (secrets included, so rotation changes it); safe to log."""
    hashed = hashlib.sha256(domain)
    for part in parts:
        encoded = part.encode()
        hashed.update(len(encoded).to_bytes(4, "big") + encoded)
    return hashed.hexdigest()[:32]


class InventoryKind(StrEnum):
    """The inventory categories a CloudCredential syncs (same values as the CRD's spec.inventory.kinds)."""

    VMS = "vms"
    STORAGE = "storage"
    NETWORKS = "networks"

    @property
    def resource_type(self) -> str:
        """The multicloud API's resource_type of records of this kind: vm, storage or network."""
        return {"vms": "vm", "storage": "storage", "networks": "network"}[self.value]


ALL_KINDS: tuple[InventoryKind, ...] = (InventoryKind.VMS, InventoryKind.STORAGE, InventoryKind.NETWORKS)


def parse_kinds(kinds: Iterable[str] | None) -> tuple[InventoryKind, ...]:
    """The kinds asked for, deduplicated in canonical order; None means all three."""
    if kinds is None:
        return ALL_KINDS
    wanted: set[InventoryKind] = set()
    for kind in kinds:
        try:
            wanted.add(InventoryKind(str(kind)))
        except ValueError:
            raise InvalidRequest(f"inventory kind {kind!r} is not one of vms, storage, networks") from None
    return tuple(k for k in ALL_KINDS if k in wanted)


@dataclass(frozen=True, slots=True)
class CloudIdentity:
    """Who a credential authenticates as (the CRD's status.identity plus status.expiresAt).

    aws: account = account id, principal = user/assumed-role ARN; azure: tenant, principal = client id,
    account = subscription id; gcp: project, principal = service account email.
    """

    provider: str
    principal: str
    account: str | None = None
    tenant: str | None = None
    project: str | None = None
    expires_at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InventoryRecord:
    """One VM, disk/volume or network, in the multicloud API's shape (resource_type vm/storage/network)."""

    resource_id: str
    name: str
    type: str
    provider: str
    region: str
    status: str
    metadata: Mapping[str, str]
    last_synced: datetime
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """The records of one sync, all stamped with the same ``synced_at``."""

    provider: str
    kinds: tuple[InventoryKind, ...]
    records: tuple[InventoryRecord, ...]
    synced_at: datetime
    api_calls: int = 0

    def counts(self) -> dict[str, int]:
        """Records per requested kind (the CRD's status.inventory.counts); 0 for a kind with none."""
        by_type = Counter(r.type for r in self.records)
        return {k.value: by_type.get(k.resource_type, 0) for k in self.kinds}

    def of_kind(self, kind: InventoryKind) -> list[InventoryRecord]:
        """The records of one kind, in the order the cloud listed them."""
        return [r for r in self.records if r.type == kind.resource_type]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a retryable failure is retried (per API call, per page)."""

    retries: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    queue_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise InvalidRequest("retries and backoff must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): jittered exponential, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt) * random.uniform(0.5, 1.0)


def call_with_retries(what: str, endpoint: str, attempt: Callable[[], T], policy: RetryPolicy) -> T:
    """Run ``attempt`` until it returns, retrying ``RetryableError`` up to ``policy.retries`` times.

    ``attempt`` must raise only BackendError subclasses built outside an ``except`` block (no SDK
    exception, which may hold request headers, rides along as ``__context__``).
    """
    tries = 0
    while True:
        try:
            return attempt()
        except RetryableError as exc:
            error = exc
        if tries >= policy.retries:
            log.debug("%s at %s failed for good: %s %s", what, endpoint, error.reason, error.message)
            raise error
        delay = policy.delay(tries)
        tries += 1
        log.info(
            "%s at %s failed (%s: %s); retry %d/%d in %.2fs",
            what,
            endpoint,
            error.reason,
            error.message,
            tries,
            policy.retries,
            delay,
        )
        pause(delay)


@contextlib.contextmanager
def endpoint_slot(limiter: threading.BoundedSemaphore, timeout: float, what: str, endpoint: str) -> Iterator[None]:
    """Hold one of the endpoint's concurrency slots for one HTTP attempt; Timeout when none frees up."""
    if not limiter.acquire(timeout=timeout):
        raise Timeout(f"{what}: no free connection slot for {endpoint} in {timeout:g}s (raise the concurrency limit?)")
    try:
        yield
    finally:
        limiter.release()


# ---------------------------------------------------------------------- JSON over HTTPS (azure, gcp)

_CERT_FAILURES = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch", "doesn't match")


def transport_error(exc: requests.exceptions.RequestException, what: str, endpoint: str) -> BackendError:
    """A requests failure (no HTTP answer) as a typed error; the text names the endpoint, never headers."""
    if isinstance(exc, requests.exceptions.SSLError):
        if any(reason in str(exc) for reason in _CERT_FAILURES):
            return TLSVerificationFailed(
                f"{what}: the certificate of {endpoint} did not verify against the trusted CA bundle; "
                "configure the CA that signed it, or fix the endpoint's name"
            )
        return Unavailable(f"{what}: TLS handshake with {endpoint} failed")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Unavailable(f"{what}: could not connect to {endpoint} in time (host down or filtered)")
    if isinstance(exc, requests.exceptions.Timeout):
        return Timeout(f"{what}: {endpoint} did not answer in time")
    text = str(exc)
    known = ("Connection refused", "Connection reset by peer", "Name or service not known", "RemoteDisconnected")
    reason = next((k for k in known if k in text), type(exc).__name__)
    return Unavailable(f"{what}: cannot reach {endpoint} ({reason})")


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """Status and decoded JSON body ({"raw": text} when not JSON) of one HTTP answer."""

    status: int
    body: Any


class JsonHttp:
    """A pooled requests.Session for one endpoint: TLS trust, a timeout on every call, the endpoint's
    concurrency slot held per attempt. Errors from the transport come back as typed errors."""

    def __init__(
        self,
        endpoint: str,
        *,
        limiter: threading.BoundedSemaphore,
        timeout_seconds: float,
        ca_bundle_pem: str | None,
        queue_timeout_seconds: float = 60.0,
        pool_size: int = 10,
    ) -> None:
        self.endpoint = endpoint
        self.limiter = limiter
        self.timeout = timeout_seconds
        self.queue_timeout = queue_timeout_seconds
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or CA bundle picked up from the environment by surprise
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.ca_file = write_ca_file(self, ca_bundle_pem) if ca_bundle_pem else None
        if self.ca_file:
            self.session.verify = self.ca_file
        self.calls = 0
        self._count_lock = threading.Lock()

    def request(
        self, method: str, url: str, what: str, *, headers: Mapping[str, str], params: Mapping[str, str] | None = None
    ) -> HttpAnswer:
        """One attempt: the answer whatever its status; transport failures raise typed errors."""
        error: BackendError
        with endpoint_slot(self.limiter, self.queue_timeout, what, self.endpoint):
            with self._count_lock:
                self.calls += 1
            try:
                response = self.session.request(method, url, headers=dict(headers), params=params, timeout=self.timeout)
                try:
                    body: Any = response.json()
                except ValueError:
                    body = {"raw": response.text[:500]}
                return HttpAnswer(response.status_code, body)
            except requests.exceptions.RequestException as exc:
                error = transport_error(exc, what, self.endpoint)
        raise error

    def close(self) -> None:
        """Close pooled connections (the CA bundle file goes when the object is collected)."""
        self.session.close()


def write_ca_file(owner: object, pem: str) -> str:
    """Write a CA bundle to a private temp file for the HTTP library; it is removed when ``owner`` is
    garbage collected (or at exit)."""
    fd, path = tempfile.mkstemp(prefix="daytwo-cloud-ca-", suffix=".pem")
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(pem)
    weakref.finalize(owner, _remove, path)
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# ---------------------------------------------------------------------- client factories


class ConnectionParams(Protocol):
    """What a provider's params offer the factory: where (endpoint), who (principal), a digest."""

    @property
    def endpoint(self) -> str: ...

    @property
    def principal(self) -> str: ...

    def fingerprint(self) -> str: ...


class CloudClient(Protocol):
    """What a provider's client offers the factory."""

    def close(self) -> None: ...


P = TypeVar("P", bound=ConnectionParams)
C = TypeVar("C", bound=CloudClient)


class ClientFactory(Generic[P, C]):
    """Builds and caches clients keyed by ``params.fingerprint()``: the one place a client is made.

    Rotated credentials (or any changed setting) give a new fingerprint, so a new client; the client of
    the same endpoint and principal it replaces leaves the cache (not closed: a worker may still use
    it). All clients of one endpoint share one semaphore of ``max_concurrency`` slots.
    """

    def __init__(self, *, max_concurrency: int = 4, policy: RetryPolicy | None = None) -> None:
        if max_concurrency < 1:
            raise InvalidRequest(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.policy = policy or RetryPolicy()
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[P, C]] = {}
        self._limiters: dict[str, threading.BoundedSemaphore] = {}

    def build(self, params: P, limiter: threading.BoundedSemaphore) -> C:
        """Make a new client (providers override this)."""
        raise NotImplementedError

    def get(self, params: P) -> C:
        """The cached client for these params, built on first use."""
        key = params.fingerprint()
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None:
                return cached[1]
            limiter = self._limiters.setdefault(params.endpoint, threading.BoundedSemaphore(self.max_concurrency))
            client = self.build(params, limiter)
            for other_key, (other, _) in list(self._clients.items()):
                if other.endpoint == params.endpoint and other.principal == params.principal:
                    del self._clients[other_key]
                    log.info(
                        "client for %s as %s replaced (credentials or settings changed)",
                        other.endpoint,
                        other.principal,
                    )
            self._clients[key] = (params, client)
        return client

    def invalidate(self, params: P) -> None:
        """Drop and close the client of these params (e.g. the CloudCredential was deleted)."""
        with self._lock:
            cached = self._clients.pop(params.fingerprint(), None)
        if cached is not None:
            cached[1].close()

    def close(self) -> None:
        """Close every client."""
        with self._lock:
            clients = [client for _, client in self._clients.values()]
            self._clients.clear()
        for client in clients:
            client.close()

    def __len__(self) -> int:
        """Number of cached clients."""
        with self._lock:
            return len(self._clients)
