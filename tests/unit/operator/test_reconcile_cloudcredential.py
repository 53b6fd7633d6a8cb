"""CloudCredential decisions with plain data: when to revalidate and resync, conditions, inventory chunks."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.cloudcredential import CloudCredentialSpec, CloudCredentialStatus, InventoryStatus
from daytwo.operator.reconcile.cloudcredential import (
    CHUNK_BYTES,
    LastRuns,
    Observed,
    RetryState,
    Validation,
    after_attempt,
    at_rest,
    chunk_records,
    configmap_changes,
    configmap_name,
    identity_status,
    inventory_condition,
    inventory_configmaps,
    inventory_status,
    seconds_until_next,
    secret_problem,
    status_time,
    summary_conditions,
    user_entries,
    users_status,
    validated_condition,
    why_sync_inventory,
    why_validate,
)
from daytwo.operator.reconcile.conditions import apply_conditions

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
T0 = "2026-11-22T07:00:00Z"
SPEC_BODY: dict[str, Any] = {
    "provider": "aws",
    "secretRef": {"name": "aws-keys"},
    "aws": {"region": "eu-west-1"},
    "validationIntervalSeconds": 3600,
    "inventory": {"enabled": True, "intervalSeconds": 900, "kinds": ["vms", "storage", "networks"]},
}
SPEC = CloudCredentialSpec.model_validate(SPEC_BODY)
VALIDATED = {
    "observedGeneration": 2,
    "secretResourceVersion": "41",
    "lastValidatedTime": "2026-11-22T07:30:00Z",
    "inventory": {"lastSyncTime": "2026-11-22T07:55:00Z", "counts": {"vms": 3, "storage": 1, "networks": 1}},
    "conditions": [
        {"type": "InventorySynced", "status": "True", "reason": "Synced", "message": "", "lastTransitionTime": T0}
    ],
}


def parsed(status: dict[str, Any]) -> CloudCredentialStatus:
    """A status as the handler parses the object's."""
    return CloudCredentialStatus.model_validate(status)


def seen(version: str | None = "41", generation: int = 2, token: str | None = None, now: datetime = NOW) -> Observed:
    """What the handler observed."""
    return Observed(generation, version, token, now)


def test_nothing_is_due_when_nothing_changed() -> None:
    assert why_validate(SPEC, parsed(VALIDATED), seen(), RetryState()) is None
    assert why_sync_inventory(SPEC, parsed(VALIDATED), None, RetryState(), NOW) is None


@pytest.mark.parametrize(
    ("status", "observed", "why"),
    [
        ({}, seen(), "first validation"),
        (VALIDATED, seen(version="42"), "the Secret changed"),
        (VALIDATED, seen(generation=3), "the spec changed"),
        (VALIDATED, seen(token="now"), "a reconcile was requested"),
        ({**VALIDATED, "lastHandledReconcileAt": "now"}, seen(token="now"), None),
        (VALIDATED, seen(now=NOW + timedelta(minutes=30)), "the validation interval elapsed"),
        ({**VALIDATED, "lastValidatedTime": None}, seen(), "never validated"),
    ],
)
def test_why_validate(status: dict[str, Any], observed: Observed, why: str | None) -> None:
    assert why_validate(SPEC, parsed(status), observed, RetryState()) == why


def test_rotation_beats_a_pending_backoff() -> None:
    backing_off = RetryState(3, NOW + timedelta(minutes=5))
    assert why_validate(SPEC, parsed(VALIDATED), seen(), backing_off) is None
    assert why_validate(SPEC, parsed(VALIDATED), seen(now=NOW + timedelta(minutes=5)), backing_off) is not None
    assert why_validate(SPEC, parsed(VALIDATED), seen(version="43"), backing_off) == "the Secret changed"


def test_backoff_doubles_up_to_the_cap_and_clears() -> None:
    state = RetryState()
    delays = []
    for _ in range(6):
        state = after_attempt(state, True, True, NOW, (2.0, 30.0), 3600)
        assert state.not_before is not None
        delays.append((state.not_before - NOW).total_seconds())
    assert delays == [2, 4, 8, 16, 30, 30]
    assert after_attempt(state, False, False, NOW, (2.0, 30.0), 3600) == RetryState()


def test_terminal_failure_waits_for_the_interval_or_a_change() -> None:
    """A refused key is not retried every pass: only after the interval, or at once on rotation."""
    waiting = after_attempt(RetryState(), True, False, NOW, (2.0, 30.0), 900)
    assert waiting == RetryState(0, NOW + timedelta(seconds=900))
    failed = {
        **VALIDATED,
        "conditions": [
            {"type": "InventorySynced", "status": "False", "reason": "PermissionDenied", "lastTransitionTime": T0}
        ],
    }
    assert why_sync_inventory(SPEC, parsed(failed), None, waiting, NOW + timedelta(seconds=5)) is None
    assert why_sync_inventory(SPEC, parsed(failed), "the Secret changed", waiting, NOW) == "the Secret changed"
    assert (
        why_sync_inventory(SPEC, parsed(failed), None, waiting, NOW + timedelta(seconds=900))
        == "retrying after a failure"
    )
    never = {"observedGeneration": 2, "secretResourceVersion": "41"}
    assert why_validate(SPEC, parsed(never), seen(now=NOW + timedelta(seconds=5)), waiting) is None


@pytest.mark.parametrize(
    ("revalidated", "status", "now", "why"),
    [
        (None, {}, NOW, "never synced"),
        ("the Secret changed", VALIDATED, NOW, "the Secret changed"),
        ("the validation interval elapsed", VALIDATED, NOW, None),
        (None, VALIDATED, NOW + timedelta(minutes=10), "the inventory interval elapsed"),
        (None, {**VALIDATED, "inventory": {**VALIDATED["inventory"], "counts": {"vms": 3}}}, NOW, "the kinds changed"),
        (
            None,
            {
                **VALIDATED,
                "conditions": [
                    {"type": "InventorySynced", "status": "False", "reason": "NotValidated", "lastTransitionTime": T0}
                ],
            },
            NOW,
            "the last sync did not succeed",
        ),
    ],
)
def test_why_sync_inventory(revalidated: str | None, status: dict[str, Any], now: datetime, why: str | None) -> None:
    assert why_sync_inventory(SPEC, parsed(status), revalidated, RetryState(), now) == why


def test_disabled_inventory_is_never_due() -> None:
    spec = CloudCredentialSpec.model_validate({**SPEC_BODY, "inventory": {"enabled": False}})
    assert why_sync_inventory(spec, parsed({}), "the Secret changed", RetryState(), NOW) is None
    condition = inventory_condition(spec, True, None, None)
    assert condition is not None and condition.status and condition.reason == "Disabled"


def test_secret_problems_name_the_secret_and_keys() -> None:
    missing = secret_problem(SPEC, {"aws-keys": None})
    assert missing is not None and missing.reason == "SecretNotFound" and "aws-keys" in missing.message
    lacking = secret_problem(SPEC, {"aws-keys": {"accessKeyId"}})
    assert lacking is not None and lacking.reason == "KeyMissing" and "secretAccessKey" in lacking.message
    renamed = CloudCredentialSpec.model_validate(
        {**SPEC_BODY, "secretRef": {"name": "aws-keys", "keys": {"secretAccessKey": "secret"}}}
    )
    assert secret_problem(renamed, {"aws-keys": {"accessKeyId", "secret"}}) is None
    openstack = CloudCredentialSpec.model_validate(
        {"provider": "openstack", "secretRef": {"name": "os"}, "openstack": {"authUrl": "http://k/v3"}}
    )
    assert secret_problem(openstack, {"os": {"applicationCredentialId", "applicationCredentialSecret"}}) is None


def test_validated_reasons_and_expiry() -> None:
    ok = Validation(None, "authenticated as arn:aws:iam::1:user/x", True)
    assert validated_condition(ok, None, False, NOW).reason == "Validated"
    soon = NOW + timedelta(days=2)
    expiring = validated_condition(ok, soon, False, NOW)
    assert expiring.status and expiring.reason == "Expiring" and "2026-11-24T08:00:00Z" in expiring.message
    assert validated_condition(ok, soon, True, NOW).reason == "Validated", "renewed sessions are not expiring"
    assert validated_condition(ok, NOW + timedelta(days=30), False, NOW).reason == "Validated"
    refused = validated_condition(Validation("CredentialsNotFound", "no key", False), None, False, NOW)
    assert not refused.status and refused.reason == "KeyMissing"
    denied = validated_condition(Validation("PermissionDenied", "no sts", True), None, False, NOW)
    assert denied.reason == "PermissionDenied"


def conditions(*updates: Any) -> list[dict[str, Any]]:
    """Conditions after applying updates to nothing."""
    return apply_conditions([], list(updates), 1, NOW)


def test_ready_summarises_validated_and_inventory() -> None:
    ok = validated_condition(Validation(None, "me", True), None, False, NOW)
    synced = inventory_condition(SPEC, True, None, {"vms": 2, "storage": 0, "networks": 1})
    assert synced is not None and synced.message == "synced 2 vms, 0 storage, 1 networks"
    ready = {u.type: u for u in summary_conditions(conditions(ok, synced), False)}
    assert ready["Ready"].status and ready["Ready"].reason == "Ready"
    assert not ready["Stalled"].status and not ready["Reconciling"].status

    auth = validated_condition(Validation("AuthFailed", "wrong secret", True), None, False, NOW)
    waiting = inventory_condition(SPEC, False, None, None)
    failed = {u.type: u for u in summary_conditions(conditions(auth, waiting), False)}
    assert (failed["Ready"].status, failed["Ready"].reason) == (False, "AuthFailed")
    assert failed["Stalled"].status and not failed["Reconciling"].status

    outage = validated_condition(Validation("Unavailable", "503", False, retryable=True), None, False, NOW)
    retrying = {u.type: u for u in summary_conditions(conditions(outage, waiting), True)}
    assert retrying["Ready"].reason == "Unavailable" and not retrying["Stalled"].status
    assert retrying["Reconciling"].status and retrying["Reconciling"].reason == "Retrying"

    denied = inventory_condition(SPEC, True, ("PermissionDenied", "ec2:DescribeInstances"), None)
    partial = {u.type: u for u in summary_conditions(conditions(ok, denied), False)}
    assert partial["Ready"].reason == "PermissionDenied" and partial["Stalled"].status


def test_users_are_sorted_unique_and_bounded() -> None:
    users = [f"SnapshotPolicy/p{n:03}" for n in range(80)] + ["AggregateMigration/a", "AggregateMigration/a"]
    listed = users_status(users)
    assert len(listed) == MAX_STATUS_LIST
    assert listed[0] == {"kind": "AggregateMigration", "name": "a"} and listed[1]["name"] == "p000"


def test_next_pass_is_the_earliest_due_time() -> None:
    assert seconds_until_next(SPEC, parsed(VALIDATED), [RetryState()], NOW, 60) == 60
    assert seconds_until_next(SPEC, parsed(VALIDATED), [RetryState()], NOW, 3600) == 600  # inventory at 08:10
    assert seconds_until_next(SPEC, parsed(VALIDATED), [RetryState(1, NOW + timedelta(seconds=4))], NOW, 60) == 4
    assert seconds_until_next(SPEC, parsed(VALIDATED), [RetryState()], NOW + timedelta(hours=2), 60) == 1


def test_schedule_counts_from_memory_not_from_the_status_times() -> None:
    # status times lag (moved only with a change or the heartbeat): the daemon's memory says when it ran
    lagging = parsed({**VALIDATED, "lastValidatedTime": "2026-11-22T06:00:00Z"})
    ran = LastRuns(validated=NOW - timedelta(minutes=10), synced=NOW - timedelta(minutes=5))
    assert why_validate(SPEC, lagging, seen(), RetryState()) == "the validation interval elapsed"  # after a restart
    assert why_validate(SPEC, lagging, seen(), RetryState(), ran) is None
    old_sync = parsed({**VALIDATED, "inventory": {**VALIDATED["inventory"], "lastSyncTime": "2026-11-22T07:00:00Z"}})
    assert why_sync_inventory(SPEC, old_sync, None, RetryState(), NOW) == "the inventory interval elapsed"
    assert why_sync_inventory(SPEC, old_sync, None, RetryState(), NOW, ran) is None
    assert seconds_until_next(SPEC, lagging, [RetryState()], NOW, 3600, ran) == 600  # inventory at 08:10
    assert LastRuns().or_status(lagging).validated == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


def test_at_rest_a_pass_that_changed_nothing_keeps_the_status_times() -> None:
    read = parsed(VALIDATED)
    heartbeat = timedelta(hours=1)
    again = read.model_copy(deep=True)
    again.last_validated_time = NOW
    again.inventory = InventoryStatus(last_sync_time=NOW, counts={"vms": 3, "storage": 1, "networks": 1})
    kept = at_rest(read, again, NOW, heartbeat)
    assert kept.patch_of(*CloudCredentialStatus.model_fields) == read.patch_of(*CloudCredentialStatus.model_fields)
    # a heartbeat due on either time moves both
    assert at_rest(read, again, NOW + timedelta(minutes=31), heartbeat) is again
    # an observable change (a count, an identity, a condition) moves them with it
    grown = again.model_copy(update={"inventory": InventoryStatus(last_sync_time=NOW, counts={"vms": 4})})
    assert at_rest(read, grown, NOW, heartbeat) is grown
    renamed = again.model_copy(update={"identity": identity_status("aws", "role/new", "1", None, None)})
    assert at_rest(read, renamed, NOW, heartbeat) is renamed
    # first validation and first sync are written at once
    fresh = parsed({})
    first = fresh.model_copy(update={"last_validated_time": NOW})
    assert at_rest(fresh, first, NOW, heartbeat) is first
    # a pass that ran nothing is returned as is
    assert at_rest(read, read, NOW, heartbeat) is read


def records(count: int, size: int = 100) -> list[dict[str, Any]]:
    """Synthetic inventory records with ``size`` bytes of metadata each."""
    return [
        {"resource_id": f"i-{n:08x}", "type": "vm", "provider": "aws", "metadata": {"pad": "x" * size}}
        for n in range(count)
    ]


def test_chunks_stay_under_the_budget_and_keep_every_record() -> None:
    many = records(10_000, size=300)
    chunks = chunk_records(many)
    assert len(chunks) > 1
    assert all(len(chunk.encode()) <= CHUNK_BYTES for chunk in chunks)
    assert [r for chunk in chunks for r in json.loads(chunk)] == many
    assert chunk_records([]) == ["[]"]
    assert [json.loads(c) for c in chunk_records(records(3), budget=10)] == [[r] for r in records(3)]


def test_configmaps_are_labelled_owned_and_listed_in_the_manifest() -> None:
    credential = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": "prod", "namespace": "team", "uid": "u-1"},
    }
    chunks = chunk_records(records(2_000, size=900))
    maps = inventory_configmaps(credential, "aws", chunks, {"vms": 2000}, NOW)
    assert [m["metadata"]["name"] for m in maps] == ["prod-inventory"] + [
        f"prod-inventory-{n}" for n in range(1, len(chunks))
    ]
    manifest = json.loads(maps[0]["data"]["manifest.json"])
    assert manifest["syncedAt"] == "2026-11-22T08:00:00Z" and manifest["records"] == 2000
    assert [c["sha256"] for c in manifest["chunks"]] == [hashlib.sha256(c.encode()).hexdigest() for c in chunks]
    for cm in maps:
        assert cm["metadata"]["labels"]["daytwo.io/credential"] == "prod"
        (owner,) = cm["metadata"]["ownerReferences"]
        assert owner["uid"] == "u-1" and owner["kind"] == "CloudCredential"
        assert len(json.dumps(cm).encode()) < 1024 * 1024


def test_configmap_changes_write_chunks_before_the_head_and_skip_unchanged() -> None:
    credential = {"apiVersion": "v", "kind": "CloudCredential", "metadata": {"name": "c", "namespace": "n", "uid": "u"}}
    desired = inventory_configmaps(credential, "gcp", ["[1]", "[2]", "[3]"], {"vms": 3}, NOW)
    create, replace, delete = configmap_changes({}, desired)
    assert [m["metadata"]["name"] for m in create] == ["c-inventory-1", "c-inventory-2", "c-inventory"]
    assert replace == [] and delete == []
    existing = {m["metadata"]["name"]: m["data"] for m in desired}
    assert configmap_changes(existing, desired) == ([], [], [])
    shrunk = inventory_configmaps(credential, "gcp", ["[1]"], {"vms": 1}, NOW)
    create, replace, delete = configmap_changes(existing, shrunk)
    assert create == [] and [m["metadata"]["name"] for m in replace] == ["c-inventory"]
    assert delete == ["c-inventory-1", "c-inventory-2"]


def test_configmap_names_fit_the_limit() -> None:
    long = "a" * 253
    assert len(configmap_name(long, 0)) <= 253 and len(configmap_name(long, 12)) <= 253
    assert configmap_name(long, 1) != configmap_name("a" * 252 + "b", 1)


#: A status as the dict-based operator wrote it: ids are UUIDs, distinct from the names next to them.
WRITTEN: dict[str, Any] = {
    "observedGeneration": 3,
    "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready", "message": "validated and inventory synced",
         "lastTransitionTime": T0, "observedGeneration": 3},
        {"type": "InventorySynced", "status": "True", "reason": "Synced", "message": "synced 3 vms",
         "lastTransitionTime": T0, "observedGeneration": 3},
    ],
    "phase": "Ready",
    "identity": {"principal": "arn:aws:iam::123456789012:user/ops", "account": "123456789012"},
    "lastValidatedTime": "2026-11-22T07:30:00Z",
    "secretResourceVersion": "41",
    "users": [{"kind": "AggregateMigration", "name": "drain-gpu"}, {"kind": "SnapshotPolicy", "name": "nightly"}],
    "inventory": {"lastSyncTime": "2026-11-22T07:55:00Z", "counts": {"vms": 3}, "configMap": "prod-inventory"},
    "billing": {"lastSyncTime": "2026-11-22T06:00:00Z", "source": "estimate", "priceTable": "2026-10",
                "configMap": "prod-billing"},
    "secretBinding": {"secretUid": "5f0c6b1e-3f7a-4f7e-9a51-0d1c2b3a4e5f", "secretResourceVersion": "41",
                      "endpointFingerprint": "9c1e0f2a7b3d4c5e"},
}  # fmt: skip


def test_status_round_trip_is_the_written_dict() -> None:
    """Parsing the written status and dumping it gives the same dict, so a pass that changes nothing
    patches nothing (the handler diffs the dumped model against the dumped status it read)."""
    status = parsed(WRITTEN)
    assert status.to_k8s() == WRITTEN
    assert status.patch_of("users", "inventory", "expires_at") == {
        "users": WRITTEN["users"], "inventory": WRITTEN["inventory"], "expiresAt": None
    }  # fmt: skip


def test_typed_fields_dump_as_the_dict_based_code_wrote_them() -> None:
    synced_at = datetime(2026, 11, 22, 9, 0, 0, 654321, tzinfo=timezone(timedelta(hours=1)))
    assert inventory_status(synced_at, {"vms": 3}, "prod-inventory").to_k8s() == {
        "lastSyncTime": "2026-11-22T08:00:00Z", "counts": {"vms": 3}, "configMap": "prod-inventory"
    }  # fmt: skip
    identity = identity_status("aws", "arn:aws:iam::123456789012:user/ops", "123456789012", "", None)
    assert identity.to_k8s() == WRITTEN["identity"], "only the fields the cloud told"
    users = ["SnapshotPolicy/nightly", "AggregateMigration/drain-gpu", "SnapshotPolicy/nightly"]
    assert [user.to_k8s() for user in user_entries(users)] == WRITTEN["users"] == users_status(users)
    assert user_entries(list(reversed(users))) == user_entries(users), "one order whatever the index yields"
    assert status_time(synced_at) == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
