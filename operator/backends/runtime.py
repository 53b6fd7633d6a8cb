"""The one backend runtime every cloud client uses: client cache, retry policy, CA files, HTTP plumbing.

- :class:`ClientCache` holds every client of the process, keyed by who it is for (a credential:
  namespace/kind/name, or endpoint + principal when no credential is known) and versioned by the Secret's
  resourceVersion and the connection parameters' fingerprint: a rotated Secret or a changed setting gives
  a new client; :meth:`ClientCache.invalidate` drops the clients of a deleted credential. All clients of one
  endpoint share one concurrency semaphore.
- :class:`ClientFactory` turns connection parameters into cached clients of one provider, with the
  concurrency limit and :class:`RetryPolicy` it was made with (settings are applied per client).
- :func:`call_with_retries` is the one retry loop: it retries only retryable errors (5xx, 429/throttling,
  connection failures, timeouts), never a terminal error (4xx), with jittered exponential backoff; a
  caller narrows it further (``retry_if``: writes only when the request never left, creates only on 429/503).
- :func:`write_ca_file` is the one place a CA bundle becomes a file for an HTTP library.
- :class:`PassPool` is the bounded thread pool every synchronous pass runs on (not asyncio's default
  executor): ``workers`` threads overall, at most ``per_endpoint`` passes of one cloud endpoint at once,
  so a hung endpoint holds a few threads and the passes of every other endpoint still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import logging
import os
import random
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, cast

import requests
from requests.adapters import HTTPAdapter

from ..errors import BackendError, InvalidRequest, TerminalError, Timeout, TLSVerificationFailed, Unavailable
from ..metrics import PoolUsage, cloud_of_module, record_backend_call
from ..stopping import pause
from .records import Inventory, InventoryKind, InventoryRecord, parse_kinds

__all__ = [
    "CacheKey",
    "ClientCache",
    "ClientFactory",
    "CredentialKey",
    "HttpAnswer",
    "JsonApiClient",
    "JsonHttp",
    "MalformedAnswer",
    "PassPool",
    "RetryPolicy",
    "call_with_retries",
    "digest",
    "endpoint_slot",
    "remove_ca_file",
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


class MalformedAnswer(TerminalError):
    """The cloud answered, but with data the backend cannot read (a field of the wrong type or shape);
    the message names the call and the field. Not retried: the same call gives the same answer."""

    reason = "MalformedAnswer"


# ---------------------------------------------------------------------- retries


def _jitter() -> float:
    return random.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a retryable failure is retried (per API call, per page).

    ``sleep`` and ``jitter`` are injectable (tests pass a recorder and a constant); by default the wait is
    :func:`daytwo.operator.stopping.pause`, which ends early when the operator stops.
    """

    retries: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    queue_timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = field(default=pause, compare=False, repr=False)
    jitter: Callable[[], float] = field(default=_jitter, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise InvalidRequest("retries and backoff must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): jittered exponential, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt) * self.jitter()


def call_with_retries(
    what: str,
    endpoint: str,
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    retry_if: Callable[[BackendError], bool] | None = None,
    cloud: str | None = None,
) -> T:
    """Run ``attempt`` until it returns, retrying a retryable BackendError up to ``policy.retries`` times.

    ``retry_if`` narrows what is retried (e.g. a write only when it provably never reached the server).
    ``attempt`` must raise only BackendError subclasses built outside an ``except`` block (no SDK
    exception, which may hold request headers, rides along as ``__context__``). Every call is counted and
    timed in ``daytwo.operator.metrics`` (retries included) under ``cloud``, by default the backend package
    ``attempt`` is defined in.
    """
    cloud = cloud or cloud_of_module(getattr(attempt, "__module__", None) or "")
    started, tries, outcome = time.monotonic(), 0, "error"
    try:
        while True:
            try:
                result = attempt()
                outcome = "success"
                return result
            except BackendError as exc:
                error = exc
            retry = error.retryable and (retry_if is None or retry_if(error))
            if not retry or tries >= policy.retries:
                log.debug("%s at %s failed for good: %s %s", what, endpoint, error.reason, error.message)
                outcome = error.reason
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
            policy.sleep(delay)
    finally:
        record_backend_call(cloud, what, outcome, time.monotonic() - started, tries)


# ---------------------------------------------------------------------- CA bundle files


def write_ca_file(owner: object, pem: str) -> str:
    """Write a CA bundle to a private (0600) temp file for an HTTP library and return its path; the file is
    removed when ``owner`` is garbage collected, at exit, or by :func:`remove_ca_file`."""
    fd, path = tempfile.mkstemp(prefix="daytwo-ca-", suffix=".pem")
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(pem)
    weakref.finalize(owner, remove_ca_file, path)
    return path


def remove_ca_file(path: str) -> None:
    """Remove a CA bundle file written by :func:`write_ca_file` (already gone is fine)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


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
    """Status, decoded JSON body ({"raw": text} when not JSON) and headers of one HTTP answer."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


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
        self,
        method: str,
        url: str,
        what: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> HttpAnswer:
        """One attempt (``json``: a request body for writes): the answer whatever its status; transport failures
        raise typed errors."""
        error: BackendError
        with endpoint_slot(self.limiter, self.queue_timeout, what, self.endpoint):
            with self._count_lock:
                self.calls += 1
            try:
                response = self.session.request(
                    method, url, headers=dict(headers), params=params, json=json, timeout=self.timeout
                )
                try:
                    body: Any = response.json()
                except ValueError:
                    body = {"raw": response.text[:500]}
                return HttpAnswer(response.status_code, body, dict(response.headers))
            except requests.exceptions.RequestException as exc:
                error = transport_error(exc, what, self.endpoint)
        raise error

    def close(self) -> None:
        """Close pooled connections (the CA bundle file goes when the object is collected)."""
        self.session.close()


HP = TypeVar("HP")


class JsonApiClient(Generic[HP]):
    """What the JSON-over-HTTPS clients (azure, gcp) share: their params, endpoint and call count, and a
    bearer-token GET retried by the policy, and a pooled :class:`JsonHttp` built from the params' endpoint,
    timeout and CA bundle (the constructor every provider's factory calls)."""

    _params: Any
    _http: JsonHttp
    _policy: RetryPolicy

    def __init__(
        self, params: HP, *, limiter: threading.BoundedSemaphore, policy: RetryPolicy | None = None, pool_size: int = 10
    ) -> None:
        self._params = params
        self._policy = policy or RetryPolicy()
        endpoint = cast(Any, params)
        self._http = JsonHttp(
            endpoint.endpoint,
            limiter=limiter,
            timeout_seconds=endpoint.timeout_seconds,
            ca_bundle_pem=endpoint.ca_bundle_pem,
            queue_timeout_seconds=self._policy.queue_timeout_seconds,
            pool_size=pool_size,
        )
        self._connect(params)

    def _connect(self, params: HP) -> None:
        """Set up what the provider adds over the pooled :class:`JsonHttp` (its credential, token
        transport); called at the end of the constructor, so providers keep the one constructor
        signature every factory calls. Nothing by default."""

    @property
    def endpoint(self) -> str:
        """host:port of the API."""
        return str(self._params.endpoint)

    @property
    def params(self) -> HP:
        """The connection parameters this client was built from."""
        return cast(HP, self._params)

    @property
    def calls_made(self) -> int:
        """API HTTP attempts made so far (retries included; token requests not counted)."""
        return self._http.calls

    def _inventory(
        self,
        provider: str,
        kinds: Iterable[str] | None,
        records_of: Callable[[InventoryKind, datetime], Iterable[InventoryRecord]],
    ) -> Inventory:
        """The inventory of ``kinds`` (all when None): each kind's records from ``records_of(kind, synced)``,
        with the API calls the listing made."""
        wanted = parse_kinds(kinds)
        synced = datetime.now(UTC)
        start_calls = self._http.calls
        records = [record for kind in wanted for record in records_of(kind, synced)]
        return Inventory(provider, wanted, tuple(records), synced, api_calls=self._http.calls - start_calls)

    def _bearer_get(
        self,
        url: str,
        what: str,
        token: str,
        query: Mapping[str, str] | None,
        error_of: Callable[[int, Any, str], BackendError],
    ) -> Any:
        """GET ``url`` with the token, retried; an answer of 400 or more becomes ``error_of(status, body, what)``."""
        return self._bearer_send("GET", url, what, token, query, None, error_of).body

    def _bearer_send(
        self,
        method: str,
        url: str,
        what: str,
        token: str,
        query: Mapping[str, str] | None,
        body: Any,
        error_of: Callable[[int, Any, str], BackendError],
        *,
        passes: frozenset[int] = frozenset(),
    ) -> HttpAnswer:
        """``method`` ``url`` with the token and a JSON ``body``, retried on retryable errors (callers send only
        idempotent writes: ARM PUT/DELETE by name, Compute inserts with a requestId); an answer of 400 or more
        becomes ``error_of(status, body, what)`` unless its status is in ``passes`` (e.g. 404 on a read)."""

        def attempt() -> HttpAnswer:
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            answer = self._http.request(method, url, what, headers=headers, params=query, json=body)
            if answer.status >= 400 and answer.status not in passes:
                raise error_of(answer.status, answer.body, what)
            return answer

        return call_with_retries(
            what, self.endpoint, attempt, self._policy, cloud=cloud_of_module(type(self).__module__)
        )


# ---------------------------------------------------------------------- the client cache


class Closeable(Protocol):
    """What the cache needs of a client: a way to release its connections."""

    def close(self) -> None: ...


#: A cache key: ``(namespace, kind, name, provider)`` for a credential's client, else ``(provider, endpoint,
#: principal)``; :meth:`ClientCache.invalidate` drops every key starting with a given prefix.
CacheKey = tuple[str, ...]
K = TypeVar("K", bound=Closeable)


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """The Kubernetes object a client authenticates for: a CloudCredential or a ProxmoxNode."""

    namespace: str
    kind: str
    name: str

    def cache_key(self, provider: str) -> CacheKey:
        """The cache key of this credential's client of ``provider``."""
        return (self.namespace, self.kind, self.name, provider)


class ClientCache:
    """Every client of the process, one per key, replaced when its version (Secret resourceVersion and
    parameters' fingerprint) changes, dropped by :meth:`invalidate`.

    A replaced client is not closed (a worker thread may still be in a call with it; it is cleaned up when
    the last user drops it); an invalidated or evicted (beyond ``max_entries``, least recently used) one is.
    """

    def __init__(self, *, max_entries: int | None = None) -> None:
        self._lock = threading.RLock()  # build() may ask for the endpoint's limiter
        self._entries: OrderedDict[CacheKey, tuple[str, Any]] = OrderedDict()
        self._limiters: dict[str, threading.BoundedSemaphore] = {}
        self._max_entries = max_entries

    def get(self, key: CacheKey, version: str, build: Callable[[], K]) -> K:
        """The client cached under ``key`` at ``version``; ``build()`` (no I/O) makes it when absent or stale."""
        evicted: list[Any] = []
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] == version:
                self._entries.move_to_end(key)
                return cast(K, cached[1])
            client = build()
            if cached is not None:
                log.info("client %s replaced (credentials or settings changed)", "/".join(key))
            self._entries[key] = (version, client)
            self._entries.move_to_end(key)
            while self._max_entries is not None and len(self._entries) > self._max_entries:
                evicted.append(self._entries.popitem(last=False)[1][1])
        _close_all(evicted)
        return client

    def peek(self, key: CacheKey, version: str) -> Any | None:
        """The client cached under ``key`` at ``version``, or None (never builds)."""
        with self._lock:
            cached = self._entries.get(key)
        return cached[1] if cached is not None and cached[0] == version else None

    def invalidate(self, *prefix: str) -> int:
        """Drop and close every client whose key starts with ``prefix`` (e.g. namespace, kind, name of a
        deleted credential); returns how many went."""
        with self._lock:
            gone = [key for key in self._entries if key[: len(prefix)] == prefix]
            clients = [self._entries.pop(key)[1] for key in gone]
        _close_all(clients)
        if gone:
            log.info("%d client(s) of %s dropped", len(gone), "/".join(prefix))
        return len(gone)

    def limiter(self, endpoint: str, slots: int) -> threading.BoundedSemaphore:
        """The concurrency semaphore shared by every client of ``endpoint`` (``slots`` applies on first use)."""
        with self._lock:
            found = self._limiters.get(endpoint)
            if found is None:
                found = self._limiters[endpoint] = threading.BoundedSemaphore(slots)
            return found

    def close(self) -> None:
        """Close every client."""
        with self._lock:
            clients = [client for _, client in self._entries.values()]
            self._entries.clear()
        _close_all(clients)

    def __len__(self) -> int:
        """Number of cached clients."""
        with self._lock:
            return len(self._entries)


def _close_all(clients: list[Any]) -> None:
    for client in clients:
        try:
            client.close()
        except Exception:  # closing is best effort; the client is dropped either way
            log.warning("closing a dropped %s failed", type(client).__name__, exc_info=True)


class ConnectionParams(Protocol):
    """What a provider's params offer the factory: where (endpoint), who (principal), a digest."""

    @property
    def endpoint(self) -> str: ...

    @property
    def principal(self) -> str: ...

    def fingerprint(self) -> str: ...


P = TypeVar("P", bound=ConnectionParams)
C = TypeVar("C", bound=Closeable)


_SHARED_LOCK = threading.Lock()
_SHARED: dict[type, Any] = {}  # ClientFactory subclass -> its process-wide instance (ClientFactory.shared)


class ClientFactory(Generic[P, C]):
    """Cached clients of one provider, built with this factory's concurrency limit and retry policy.

    Without a credential, a client is keyed by endpoint + principal (rotated credentials or a changed
    setting replace it); with one (:class:`CredentialKey`) it is keyed by the credential and versioned by
    the Secret's resourceVersion, so deleting the credential can drop it. Providers set ``client_type``,
    a class taking ``(params, *, limiter, policy, pool_size)``.
    """

    client_type: ClassVar[Callable[..., Any]]
    default_policy: ClassVar[RetryPolicy] = RetryPolicy()

    def __init__(
        self, *, max_concurrency: int = 4, policy: RetryPolicy | None = None, cache: ClientCache | None = None
    ) -> None:
        if max_concurrency < 1:
            raise InvalidRequest(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.max_concurrency = max_concurrency
        self.policy = policy or self.default_policy
        self.cache = cache if cache is not None else ClientCache()
        self.provider = type(self).__name__

    @classmethod
    def shared(cls) -> Self:
        """The process-wide factory of this class (default settings), built on first use: for callers that keep
        no factory of their own (the CloudResource provisioners)."""
        with _SHARED_LOCK:
            found = _SHARED.get(cls)
            if found is None:
                found = _SHARED[cls] = cls()
        return cast(Self, found)

    def build(self, params: P, limiter: threading.BoundedSemaphore) -> C:
        """Make a new client (no I/O)."""
        made = self.client_type(params, limiter=limiter, policy=self.policy, pool_size=self.max_concurrency)
        return cast(C, made)

    def _key(self, params: P, credential: CredentialKey | None) -> CacheKey:
        if credential is not None:
            return credential.cache_key(self.provider)
        return (self.provider, params.endpoint, params.principal)

    def get(self, params: P, *, credential: CredentialKey | None = None, secret_version: str = "") -> C:
        """The cached client for these params (of this credential at this Secret version), built on first use."""
        version = f"{secret_version}/{params.fingerprint()}"

        def build() -> C:
            return self.build(params, self.cache.limiter(params.endpoint, self.max_concurrency))

        return self.cache.get(self._key(params, credential), version, build)

    def invalidate(self, params: P) -> None:
        """Drop and close the client of these params' endpoint and principal."""
        self.cache.invalidate(*self._key(params, None))

    def close(self) -> None:
        """Close every client of the cache."""
        self.cache.close()

    def __len__(self) -> int:
        """Number of cached clients."""
        return len(self.cache)


# ---------------------------------------------------------------------- the pass pool


class PassPool:
    """The one bounded pool of the operator's passes: ``workers`` threads overall; a pass names the cloud
    endpoint it will talk to and waits (on the event loop, holding no thread) while ``per_endpoint`` passes of
    that endpoint already run. A hung endpoint therefore ties up at most ``per_endpoint`` threads.

    Passes that name no endpoint (None) are bounded only by the pool. Used from one event loop.
    """

    def __init__(self, workers: int, per_endpoint: int) -> None:
        if workers < 1 or per_endpoint < 1:
            raise InvalidRequest(f"workers ({workers}) and per_endpoint ({per_endpoint}) must be at least 1")
        self.workers = workers
        self.per_endpoint = per_endpoint
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="daytwo-pass")
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self._submitted = 0  # passes in run(): waiting or running (event loop only)
        self._running = 0  # passes on a thread now (counted from the threads, under _count_lock)
        self._count_lock = threading.Lock()

    async def run(self, endpoint: str | None, work: Callable[[], T]) -> T:
        """Run ``work`` on the pool once ``endpoint`` has a free slot; its result (or exception)."""
        self._submitted += 1
        try:
            # The caller's context variables go along (as asyncio.to_thread does): kopf.event reads Kopf's
            # settings from one, so a pass that posts an Event would fail without them.
            context = contextvars.copy_context()
            if endpoint is None:
                return await asyncio.get_running_loop().run_in_executor(
                    self._executor, context.run, self._counted, work
                )
            slot = self._enter(endpoint)
            try:
                async with slot:
                    return await asyncio.get_running_loop().run_in_executor(
                        self._executor, context.run, self._counted, work
                    )
            finally:
                self._leave(endpoint)
        finally:
            self._submitted -= 1

    def _counted(self, work: Callable[[], T]) -> T:
        with self._count_lock:
            self._running += 1
        try:
            return work()
        finally:
            with self._count_lock:
                self._running -= 1

    def usage(self) -> PoolUsage:
        """Read-only: passes running now, the pool's threads, and passes waiting (for a thread or a slot)."""
        with self._count_lock:
            running = self._running
        return PoolUsage(in_flight=running, capacity=self.workers, waiting=max(0, self._submitted - running))

    def _enter(self, endpoint: str) -> asyncio.Semaphore:
        slot, users = self._slots.get(endpoint) or (asyncio.Semaphore(self.per_endpoint), 0)
        self._slots[endpoint] = (slot, users + 1)
        return slot

    def _leave(self, endpoint: str) -> None:
        slot, users = self._slots[endpoint]
        if users <= 1:
            del self._slots[endpoint]  # no waiter left: the endpoint's entry goes (no growth with churn)
        else:
            self._slots[endpoint] = (slot, users - 1)

    def busy(self, endpoint: str) -> int:
        """Passes of ``endpoint`` running or waiting."""
        return self._slots.get(endpoint, (None, 0))[1]

    def shutdown(self) -> None:
        """Stop taking work; running passes finish (threads cannot be cancelled)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
