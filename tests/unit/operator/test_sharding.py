"""Sharding decisions: rendezvous ownership, the live set from observed Leases, fencing, and the settings."""

from __future__ import annotations

import pytest
from daytwo.operator.settings import OperatorSettings
from daytwo.operator.sharding import Membership, ObservedLease, owner, shard_from_hostname
from pydantic import ValidationError

KEYS = [("team-a", f"policy-{i}") for i in range(600)] + [("team-b", f"node-{i}") for i in range(600)]
LEASE, GRACE = 15.0, 10.0


def joined(me: int, shards: int = 3, at: float = 0.0) -> Membership:
    """A shard whose first renewal was long enough ago that it no longer waits to join, renewed at ``at``."""
    membership = Membership(me, shards, LEASE, GRACE)
    membership.heartbeat(at - LEASE - GRACE, at - LEASE - GRACE, {})
    membership.heartbeat(at, at, {})
    return membership


def test_every_object_has_exactly_one_owner_and_the_shards_share_them() -> None:
    owners = [owner(namespace, name, [0, 1, 2]) for namespace, name in KEYS]
    assert set(owners) == {0, 1, 2}
    for shard in (0, 1, 2):
        assert owners.count(shard) > len(KEYS) / 4, "rendezvous hashing spreads the objects"
    assert owner("team-a", "policy-1", []) is None
    assert owners == [owner(namespace, name, [2, 0, 1]) for namespace, name in KEYS], "order of the live set"


def test_a_dead_shard_moves_only_its_own_objects_and_spreads_them_over_the_survivors() -> None:
    before = {key: owner(*key, [0, 1, 2]) for key in KEYS}
    after = {key: owner(*key, [0, 2]) for key in KEYS}
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if before[key] == 1}
    assert {after[key] for key in moved} == {0, 2}


def test_the_shard_id_comes_from_the_statefulset_ordinal() -> None:
    assert shard_from_hostname("daytwo-operator-2", 3) == 2
    with pytest.raises(ValueError, match="set DAYTWO_SHARD_ID"):
        shard_from_hostname("daytwo-operator", 3)
    with pytest.raises(ValueError, match="not below DAYTWO_SHARDS=3"):
        shard_from_hostname("daytwo-operator-3", 3)


def test_a_joining_shard_owns_nothing_for_lease_plus_grace_after_its_first_renewal() -> None:
    membership = Membership(0, 1, LEASE, GRACE)
    assert membership.fenced(0.0) and not membership.owns("team-a", "policy-1", 0.0), "no heartbeat yet"
    for moment in (0.0, 5.0, 10.0, 15.0, 20.0):
        membership.heartbeat(moment, moment, {})
        assert not membership.owns("team-a", "policy-1", moment)
    membership.heartbeat(LEASE + GRACE, LEASE + GRACE, {})
    assert membership.owns("team-a", "policy-1", LEASE + GRACE)


def test_a_shard_that_cannot_renew_stops_after_the_lease() -> None:
    membership = joined(0, shards=1, at=100.0)
    assert membership.owns("team-a", "policy-1", 100.0 + LEASE - 0.1)
    membership.observe(100.0 + LEASE - 0.1, {})  # listings still answer, renewals do not
    assert membership.fenced(100.0 + LEASE) and membership.live(100.0 + LEASE) == ()


def test_a_peer_is_live_until_its_lease_is_unchanged_for_lease_plus_grace_of_our_listings() -> None:
    membership = joined(0, at=0.0)
    membership.observe(0.0, {1: ObservedLease("b", "7")})
    assert membership.live(0.0) == (0, 1)
    membership.heartbeat(20.0, 20.0, {1: ObservedLease("b", "7")})
    assert membership.live(20.0) == (0, 1)
    membership.heartbeat(24.9, 24.9, {1: ObservedLease("b", "7")})
    assert membership.live(24.9) == (0, 1), "unchanged for less than lease + grace"
    membership.heartbeat(25.0, 25.0, {1: ObservedLease("b", "7")})
    assert membership.live(25.0) == (0,)
    membership.heartbeat(26.0, 26.0, {1: ObservedLease("b", "8")})
    assert membership.live(26.0) == (0, 1), "renewed again"


def test_without_a_listing_a_peer_is_not_declared_dead() -> None:
    membership = joined(0, at=0.0)
    membership.observe(0.0, {1: ObservedLease("b", "7")})
    membership.heartbeat(1.0, 0.0, {1: ObservedLease("b", "7")})
    assert 1 in membership.live(14.0), "our clock moved on, but we saw nothing new: not dead"


def test_a_released_or_deleted_lease_means_dead_at_once() -> None:
    membership = joined(0, at=0.0)
    membership.observe(0.0, {1: ObservedLease("b", "7"), 2: ObservedLease("c", "3")})
    membership.observe(1.0, {1: ObservedLease("", "8")})
    assert membership.live(1.0) == (0,)


def test_leases_of_shards_outside_the_count_are_ignored() -> None:
    membership = joined(0, shards=2, at=0.0)
    membership.observe(0.0, {5: ObservedLease("x", "1")})
    assert membership.live(0.0) == (0,)


def test_a_second_process_with_the_same_shard_id_waits_for_the_holder_to_go_silent() -> None:
    membership = Membership(0, 2, LEASE, GRACE)
    assert membership.may_claim(None, "me", 0.0) and membership.may_claim(ObservedLease("", "1"), "me", 0.0)
    assert membership.may_claim(ObservedLease("me", "1"), "me", 0.0)
    assert not membership.may_claim(ObservedLease("other", "1"), "me", 0.0)
    assert not membership.may_claim(ObservedLease("other", "2"), "me", 20.0), "it renewed: the clock restarts"
    assert not membership.may_claim(ObservedLease("other", "2"), "me", 44.9)
    assert membership.may_claim(ObservedLease("other", "2"), "me", 45.0)


def test_no_object_is_owned_by_two_shards_while_one_goes_silent_and_the_other_takes_over() -> None:
    """B renews every 5 s until t=100, then goes silent (killed, or cut off from the apiserver but running).
    A and B each list every 5 s (a renewal lands 0.5 s after it was sent, listings see it from then on);
    at every instant no key is owned by both, and after B's silence A owns every key."""
    a, b = joined(0, shards=2, at=0.0), joined(1, shards=2, at=0.0)
    version = {0: 0, 1: 0}
    double: list[tuple[float, str]] = []
    moment = 0.0
    while moment <= 160.0:
        for me, membership in ((0, a), (1, b)):
            alive = me == 0 or moment <= 100.0
            if alive:
                version[me] += 1
            leases = {shard: ObservedLease(f"p{shard}", str(version[shard])) for shard in (0, 1)}
            if alive:
                membership.heartbeat(moment, moment + 0.5, leases)
            else:
                membership.observe(moment + 0.5, leases)  # B still lists (partitioned from renewals only)
        for step in range(10):
            now = moment + 0.5 + step * 0.5
            for namespace, name in KEYS[:200]:
                if a.owns(namespace, name, now) and b.owns(namespace, name, now):
                    double.append((now, name))
        moment += 5.0
    assert not double
    assert all(a.owns(namespace, name, 160.0) for namespace, name in KEYS[:200])
    assert not any(b.owns(namespace, name, 160.0) for namespace, name in KEYS[:200])


def test_sharding_settings_fail_fast_with_what_to_do() -> None:
    with pytest.raises(ValidationError, match="unset DAYTWO_PEERING_NAME"):
        OperatorSettings(shards=2, peering_name="daytwo")
    with pytest.raises(ValidationError, match="DAYTWO_SHARD_ID=2 must be below DAYTWO_SHARDS=2"):
        OperatorSettings(shards=2, shard_id=2)
    assert OperatorSettings(shards=3, shard_id=1).effective_shard_id() == 1
    assert OperatorSettings(shard_namespace="ops").effective_shard_namespace() == "ops"


def test_the_shard_id_defaults_to_the_pod_name_ordinal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAME", "daytwo-operator-1")
    assert OperatorSettings(shards=2).effective_shard_id() == 1
    monkeypatch.setenv("POD_NAME", "daytwo-operator-7")
    with pytest.raises(ValueError, match="not below DAYTWO_SHARDS=2"):
        OperatorSettings(shards=2).effective_shard_id()
