"""SnapshotPolicy decisions for Proxmox guests with plain data: names, ownership, matching, retention, SLA."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.snapshotpolicy import ProxmoxGuestTargets, SnapshotPolicySpec
from daytwo.operator.reconcile.snapshotpolicy.decisions import existing_for_slot, retention_deletions
from daytwo.operator.reconcile.snapshotpolicy.guests import (
    guest_snapshot_description,
    guest_snapshot_info,
    guest_target,
    match_guests,
    split_target_id,
)
from daytwo.operator.reconcile.snapshotpolicy.sla import compliance
from daytwo.operator.reconcile.snapshotpolicy.targets import targets_configmap
from daytwo.operator.shared.snapshots import (
    GUEST_SNAPSHOT_NAME_MAX,
    OWNER_KEY,
    SLOT_KEY,
    guest_snapshot_name,
    policy_view,
)

SLOT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
PVE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,39}$")


def view(name: str = "nightly", **template: Any) -> Any:
    spec = {
        "credentialsRef": {"kind": "ProxmoxNode", "name": "pve"},
        "targets": {"proxmox": {"nodes": ["pve1"]}},
        "schedule": "0 2 * * *",
        "retention": {"keepLast": 2},
        "snapshot": template,
    }
    return policy_view("ns", name, SnapshotPolicySpec.model_validate(spec))


def guests() -> list[Any]:
    return [
        guest_target("pve1", 100, "web", "running", "vm", ("prod", "web"), 32 * 2**30),
        guest_target("pve1", 101, "db", "stopped", "vm", (), 64 * 2**30),
        guest_target("pve2", 200, "", "running", "lxc", ("prod",), 8 * 2**30),
    ]


def test_names_are_valid_for_proxmox_deterministic_and_distinct_per_policy() -> None:
    name = guest_snapshot_name(view(), SLOT)
    assert PVE_NAME.match(name) and name.endswith("-202611300200")
    assert name == guest_snapshot_name(view(), SLOT)
    assert name != guest_snapshot_name(view("hourly"), SLOT)
    long_prefix = guest_snapshot_name(view(namePrefix="9" + "x" * 39), SLOT)
    assert PVE_NAME.match(long_prefix) and len(long_prefix) <= GUEST_SNAPSHOT_NAME_MAX
    assert PVE_NAME.match(guest_snapshot_name(view(namePrefix="a.b"), SLOT))
    assert "ns/SnapshotPolicy/nightly" in guest_snapshot_description(view(), SLOT)
    on_demand = guest_snapshot_name(view(namePrefix="x" * 40), SLOT.replace(second=7))
    assert on_demand.endswith("-20261130020007") and len(on_demand) <= GUEST_SNAPSHOT_NAME_MAX
    back = guest_snapshot_info(view(namePrefix="x" * 40), "pve1/100", on_demand, 0)
    assert back.metadata[SLOT_KEY] == "2026-11-30T02:00:07Z"


def test_ownership_and_slot_come_back_from_the_name() -> None:
    mine = guest_snapshot_info(view(), "pve1/100", guest_snapshot_name(view(), SLOT), int(SLOT.timestamp()))
    assert mine.metadata == {OWNER_KEY: "ns/SnapshotPolicy/nightly", SLOT_KEY: "2026-11-30T02:00:00Z"}
    assert mine.id == f"pve1/100@{mine.name}" and mine.status == "available" and mine.created_at == SLOT
    other = guest_snapshot_info(view(), "pve1/100", guest_snapshot_name(view("other"), SLOT), 0)
    manual = guest_snapshot_info(view(), "pve1/100", "before-upgrade", 0)
    assert other.metadata == {} and manual.metadata == {} and manual.created_at is None
    assert existing_for_slot(view(), SLOT, [mine, other, manual]) == {"pve1/100": mine}


def test_match_by_node_vmid_or_tag() -> None:
    def ids(**selectors: Any) -> list[str]:
        return [g.id for g in match_guests(ProxmoxGuestTargets(**selectors), guests())]

    assert ids(nodes=["pve2"]) == ["pve2/200"]
    assert ids(vmids=[101]) == ["pve1/101"]
    assert ids(tags=["prod"]) == ["pve1/100", "pve2/200"]
    assert ids(tags=["nope"], vmids=[999]) == []
    assert guests()[2].name == "lxc-200" and guests()[0].size_gb == 32
    assert split_target_id("pve-a/b/100") == ("pve-a/b", 100)


def test_retention_keeps_newest_and_ignores_foreign_snapshots() -> None:
    policy = view()
    now = SLOT + timedelta(days=3)
    mine = [
        guest_snapshot_info(
            policy,
            "pve1/100",
            guest_snapshot_name(policy, SLOT - timedelta(days=d)),
            int((SLOT - timedelta(days=d)).timestamp()),
        )
        for d in range(4)
    ]
    manual = guest_snapshot_info(policy, "pve1/100", "manual", int((SLOT - timedelta(days=9)).timestamp()))
    doomed = retention_deletions(policy, [*mine, manual], now)
    assert [s.name for s in doomed] == [mine[2].name, mine[3].name]


def test_sla_per_node() -> None:
    policy = view()
    targets = guests()
    fresh = guest_snapshot_info(policy, "pve1/100", guest_snapshot_name(policy, SLOT), int(SLOT.timestamp()))
    stale_time = SLOT - timedelta(days=3)
    stale = guest_snapshot_info(policy, "pve2/200", "old", int(stale_time.timestamp()))
    result = compliance(policy, targets, [fresh, stale], SLOT + timedelta(hours=1), 50)
    by_tenant = {t.tenant: (t.total, t.compliant, t.warning, t.critical) for t in result.tenants}
    assert by_tenant == {"pve1": (2, 1, 0, 1), "pve2": (1, 0, 1, 0)}
    assert [(e.id, e.severity) for e in result.out_of_sla] == [("pve1/101", "critical"), ("pve2/200", "warning")]


def test_targets_configmap_is_owned_labelled_and_falls_back_to_ids() -> None:
    policy = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": "nightly", "namespace": "ns", "uid": "u-1"},
    }
    body = targets_configmap(policy, guests(), "guest")
    assert body["metadata"]["name"] == "nightly-targets"
    assert body["metadata"]["labels"]["app.kubernetes.io/part-of"] == "daytwo"
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    records = json.loads(body["data"]["targets.json"])
    assert records[0] == {"id": "pve1/100", "name": "web", "tenant": "pve1", "sizeGb": 32, "kind": "guest"}
    assert body["data"] | {"targets.json": ""} == {"targets.json": "", "count": "3", "detail": "full"}
    small = targets_configmap(policy, guests(), "guest", budget=100)
    assert small["data"]["detail"] == "ids"
    assert json.loads(small["data"]["targets.json"])[2] == {"id": "pve2/200", "kind": "guest"}
