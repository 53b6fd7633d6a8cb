"""The one backend runtime: client cache (keyed, rotated, invalidated), retry policy, CA files."""

from __future__ import annotations

import gc
import os
import stat
import threading
from dataclasses import dataclass, field

import pytest
from daytwo.operator.backends.runtime import (
    ClientCache,
    ClientFactory,
    CredentialKey,
    RetryPolicy,
    call_with_retries,
    remove_ca_file,
    write_ca_file,
)
from daytwo.operator.errors import AuthFailed, BackendError, Timeout, Unavailable

PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


@dataclass
class FakeClient:
    """A client that records whether it was closed."""

    label: str
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class FakeParams:
    endpoint: str
    principal: str
    secret: str

    def fingerprint(self) -> str:
        return f"{self.endpoint}|{self.principal}|{self.secret}"


@dataclass
class BuiltClient:
    params: FakeParams
    limiter: threading.BoundedSemaphore
    policy: RetryPolicy
    pool_size: int
    closed: bool = False

    def close(self) -> None:
        self.closed = True


class FakeFactory(ClientFactory[FakeParams, BuiltClient]):
    client_type = BuiltClient


PROD = CredentialKey("tenant-a", "CloudCredential", "prod")
STAGING = CredentialKey("tenant-a", "CloudCredential", "staging")
NODE = CredentialKey("tenant-a", "ProxmoxNode", "prod")


# ---------------------------------------------------------------- cache


def test_same_key_and_version_gives_the_cached_client() -> None:
    cache = ClientCache()
    first = cache.get(PROD.cache_key("aws"), "rv-101/fp", lambda: FakeClient("one"))
    again = cache.get(PROD.cache_key("aws"), "rv-101/fp", lambda: FakeClient("two"))
    assert again is first and len(cache) == 1


def test_rotated_secret_version_replaces_the_client_without_closing_it() -> None:
    cache = ClientCache()
    old = cache.get(PROD.cache_key("aws"), "rv-101/fp", lambda: FakeClient("old"))
    new = cache.get(PROD.cache_key("aws"), "rv-102/fp", lambda: FakeClient("new"))
    assert new is not old and new.label == "new"
    assert not old.closed  # a worker may still be in a call with it
    assert len(cache) == 1


def test_invalidate_drops_and_closes_only_that_credentials_clients() -> None:
    cache = ClientCache()
    prod_aws = cache.get(PROD.cache_key("aws"), "v", lambda: FakeClient("prod-aws"))
    prod_os = cache.get(PROD.cache_key("openstack"), "v", lambda: FakeClient("prod-os"))
    staging = cache.get(STAGING.cache_key("aws"), "v", lambda: FakeClient("staging"))
    node = cache.get(NODE.cache_key("proxmox"), "v", lambda: FakeClient("node"))

    assert cache.invalidate(PROD.namespace, PROD.kind, PROD.name) == 2

    assert prod_aws.closed and prod_os.closed
    assert not staging.closed and not node.closed  # same name, other kind: untouched
    rebuilt = cache.get(PROD.cache_key("aws"), "v", lambda: FakeClient("rebuilt"))
    assert rebuilt.label == "rebuilt"
    assert cache.invalidate("tenant-a", "CloudCredential", "never-cached") == 0


def test_least_recently_used_client_is_evicted_and_closed_beyond_the_bound() -> None:
    cache = ClientCache(max_entries=2)
    a = cache.get(("p", "a"), "v", lambda: FakeClient("a"))
    b = cache.get(("p", "b"), "v", lambda: FakeClient("b"))
    cache.get(("p", "a"), "v", lambda: FakeClient("unused"))  # a is now the most recent
    cache.get(("p", "c"), "v", lambda: FakeClient("c"))
    assert b.closed and not a.closed and len(cache) == 2


def test_one_limiter_per_endpoint() -> None:
    cache = ClientCache()
    first = cache.limiter("keystone.example:5000", 3)
    assert cache.limiter("keystone.example:5000", 9) is first
    assert cache.limiter("pve.example:8006", 3) is not first


def test_factory_applies_its_settings_to_each_client_and_keys_by_credential() -> None:
    policy = RetryPolicy(retries=1, backoff_seconds=0.0)
    factory = FakeFactory(max_concurrency=2, policy=policy)
    params = FakeParams("api.example:443", "svc-7f3a", "secret-1")

    mine = factory.get(params, credential=PROD, secret_version="rv-101")
    assert mine.policy is policy and mine.pool_size == 2
    assert all(mine.limiter.acquire(blocking=False) for _ in range(2))
    assert not mine.limiter.acquire(blocking=False)  # two slots per endpoint, from the factory's settings

    theirs = factory.get(params, credential=STAGING, secret_version="rv-101")
    assert theirs is not mine and theirs.limiter is mine.limiter  # one limit per endpoint

    rotated = factory.get(params, credential=PROD, secret_version="rv-102")
    assert rotated is not mine
    assert factory.get(params, credential=PROD, secret_version="rv-102") is rotated

    factory.cache.invalidate(PROD.namespace, PROD.kind, PROD.name)
    assert rotated.closed and not theirs.closed


def test_factory_without_credential_replaces_the_client_of_the_same_principal() -> None:
    factory = FakeFactory()
    first = factory.get(FakeParams("api.example:443", "svc-7f3a", "secret-1"))
    second = factory.get(FakeParams("api.example:443", "svc-7f3a", "secret-2"))
    other = factory.get(FakeParams("api.example:443", "svc-91bc", "secret-1"))
    assert second is not first and len(factory) == 2 and other is not second


# ---------------------------------------------------------------- retries


@dataclass
class Script:
    """Raises the scripted errors in turn, then returns ``result``."""

    errors: list[BackendError]
    result: str = "done"
    calls: int = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


@dataclass
class Sleeps:
    waited: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


def policy(sleeps: Sleeps, retries: int = 3) -> RetryPolicy:
    return RetryPolicy(retries=retries, backoff_seconds=0.5, max_backoff_seconds=1.5, sleep=sleeps, jitter=lambda: 1.0)


def test_retryable_errors_are_retried_with_capped_exponential_backoff() -> None:
    sleeps = Sleeps()
    script = Script([Unavailable("503"), Timeout("slow"), Unavailable("503")])
    assert call_with_retries("list vms", "api.example", script, policy(sleeps)) == "done"
    assert script.calls == 4
    assert sleeps.waited == [0.5, 1.0, 1.5]


def test_the_retry_budget_ends_with_the_last_error() -> None:
    sleeps = Sleeps()
    script = Script([Unavailable("first"), Unavailable("second"), Unavailable("third")])
    with pytest.raises(Unavailable, match="third"):
        call_with_retries("list vms", "api.example", script, policy(sleeps, retries=2))
    assert script.calls == 3 and len(sleeps.waited) == 2


def test_terminal_errors_are_not_retried() -> None:
    sleeps = Sleeps()
    script = Script([AuthFailed("401")])
    with pytest.raises(AuthFailed):
        call_with_retries("validate", "api.example", script, policy(sleeps))
    assert script.calls == 1 and sleeps.waited == []


def test_retry_if_narrows_what_is_retried() -> None:
    sleeps = Sleeps()
    script = Script([Unavailable("500 on a create")])
    with pytest.raises(Unavailable):
        call_with_retries("create port", "api.example", script, policy(sleeps), retry_if=lambda _e: False)
    assert script.calls == 1 and sleeps.waited == []


def test_delay_jitter_is_injected() -> None:
    jittered = RetryPolicy(backoff_seconds=2.0, max_backoff_seconds=8.0, jitter=lambda: 0.5)
    assert [jittered.delay(n) for n in range(4)] == [1.0, 2.0, 4.0, 4.0]


def test_negative_budgets_are_refused() -> None:
    with pytest.raises(BackendError, match="negative"):
        RetryPolicy(retries=-1)


# ---------------------------------------------------------------- CA files


class Owner:
    """Something a CA file can live as long as."""


def test_ca_file_is_private_and_goes_with_its_owner() -> None:
    owner = Owner()
    path = write_ca_file(owner, PEM)
    with open(path, encoding="ascii") as handle:
        assert handle.read() == PEM
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    del owner
    gc.collect()
    assert not os.path.exists(path)


def test_ca_file_can_be_removed_early_and_twice() -> None:
    owner = Owner()
    path = write_ca_file(owner, PEM)
    remove_ca_file(path)
    remove_ca_file(path)
    assert not os.path.exists(path)
    del owner
    gc.collect()  # the finalizer finds nothing to remove: no error
