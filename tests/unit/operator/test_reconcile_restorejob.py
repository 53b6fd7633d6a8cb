"""RestoreJob planning with plain data: refusals, IP strategies, quota, restore points, Proxmox."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.crds.restorejob import RestoreJobSpec
from daytwo.crds.restorejob_status import InFlightCall, RetryStatus
from daytwo.operator.reconcile.restorejob.openstack import (
    NetworkFree,
    OpenStackObserved,
    PortView,
    QuotaLine,
    SnapshotView,
    SubnetFree,
    VmView,
    VolumeView,
    adopt,
    in_flight_wait,
    plan_openstack,
)
from daytwo.operator.reconcile.restorejob.plan import Request, new_vm_name, request_from_spec
from daytwo.operator.reconcile.restorejob.proxmox import GuestView, ProxmoxObserved, plan_proxmox
from daytwo.operator.settings import OperatorSettings

VM = VmView(
    id="vm-1",
    name="web-01",
    status="ACTIVE",
    project_id="p1",
    flavor_name="m1.small",
    flavor_id="f1",
    vcpus=2,
    ram_mb=4096,
    availability_zone="az-east",
    image_id=None,
    volume_ids=("boot", "data"),
    metadata={"role": "web", "daytwo.io/job-uid": "old"},
)
BOOT = VolumeView("boot", "web-01-root", "in-use", 20, True, "ssd", {"vm-1": "/dev/vda"})
DATA = VolumeView("data", "web-01-data", "in-use", 50, False, "ssd", {"vm-1": "/dev/vdb"})
SNAP = SnapshotView("s2", "nightly-2", "boot", "available", 20, "2026-01-02T00:00:00")
OLDER = SnapshotView("s1", "nightly-1", "boot", "available", 20, "2026-01-01T00:00:00")
PORT = PortView("port-1", "net-1", ("10.0.0.5",), "vm-1", "fa:16:3e:00:00:01", ("sg-1",))
NET = NetworkFree("net-1", "prod-net", (SubnetFree("sub-1", "prod", "10.0.0.0/24", "10.0.0.1", ("10.0.0.6",), 200),))
QUOTAS = (
    QuotaLine("instances", 10, 3),
    QuotaLine("cores", 20, 10),
    QuotaLine("ram", 40960, 8192),
    QuotaLine("volumes", 10, 4),
    QuotaLine("gigabytes", 1000, 100),
)


def observed(**changes: Any) -> OpenStackObserved:
    """The VM holds its own address; nothing else does."""
    base = OpenStackObserved(
        project_id="p1",
        project_name="prod",
        vm=VM,
        volumes=(BOOT, DATA),
        snapshot=SNAP,
        restore_points=(OLDER, SNAP),
        ports=(PORT,),
        networks={"net-1": NET},
        holders={("net-1", "10.0.0.5"): (PORT,)},
        quotas=QUOTAS,
    )
    return replace(base, **changes)


def request(**changes: Any) -> Request:
    base = Request(provider="openstack", mode="NEW", ip_strategy="TRY_SAME_IPS", project="prod", vm_id="vm-1",
                   restore_point_id="s2")  # fmt: skip
    return replace(base, **changes)


def test_new_plan_lists_restore_points_newest_first_and_free_addresses() -> None:
    plan = plan_openstack(request(), observed(), dry_run=False)
    status = plan.to_status().to_k8s()
    assert plan.ok and status["newVmName"] == "web-01-restored-s2"
    assert [p["id"] for p in status["restorePoints"]] == ["s2", "s1"]
    [network] = status["networks"]
    assert network["plannedIps"] == ["10.0.0.5"] and network["available"] is False
    assert network["subnets"][0] == {
        "subnetId": "sub-1",
        "subnetName": "prod",
        "cidr": "10.0.0.0/24",
        "gatewayIp": "10.0.0.1",
        "availableIps": ["10.0.0.6"],
        "availableCount": 200,
    }
    assert status["vmMetadata"] == {"role": "web"}, "daytwo's own marks are not copied"
    assert status["quotaOk"] and {q["resource"] for q in status["quota"]} == {
        "instances", "cores", "ram", "volumes", "gigabytes"
    }  # fmt: skip
    assert any("new address" in w for w in status["warnings"])
    assert any("data volume(s) data" in w for w in status["warnings"])


@pytest.mark.parametrize(
    ("strategy", "ok", "planned"),
    [("NEW_IPS", True, []), ("TRY_SAME_IPS", True, ["10.0.0.5"]), ("SAME_IPS_OR_FAIL", False, ["10.0.0.5"])],
)
def test_strategies_in_new_mode_where_the_vm_holds_its_address(strategy: str, ok: bool, planned: list[str]) -> None:
    plan = plan_openstack(request(ip_strategy=strategy), observed(), dry_run=False)
    assert plan.ok is ok and plan.to_status().to_k8s()["networks"][0]["plannedIps"] == planned
    if not ok:
        assert plan.reason == "IpUnavailable" and "10.0.0.5 by port port-1 of vm-1" in plan.message


def test_replace_counts_the_vms_own_address_as_free_but_not_anyone_elses() -> None:
    replace_request = request(mode="REPLACE", ip_strategy="SAME_IPS_OR_FAIL", confirm="DELETE AND RESTORE web-01")
    plan = plan_openstack(replace_request, observed(), dry_run=False)
    assert plan.ok and plan.to_status().to_k8s()["networks"][0]["available"] is True
    assert plan.status["newVmName"] == "web-01" and plan.warnings[0].startswith("DESTRUCTIVE")
    other = PortView("port-9", "net-1", ("10.0.0.5",), "vm-9")
    taken = plan_openstack(replace_request, observed(holders={("net-1", "10.0.0.5"): (PORT, other)}), dry_run=False)
    assert taken.reason == "IpUnavailable" and "port-9" in taken.message


def test_replace_checks_the_confirmation_against_the_real_name() -> None:
    plan = plan_openstack(request(mode="REPLACE", confirm="DELETE AND RESTORE web-1"), observed(), dry_run=False)
    assert plan.reason == "ConfirmationMismatch" and "'DELETE AND RESTORE web-01'" in plan.message


def test_manual_ip_must_be_free_in_a_subnet_of_an_attached_network() -> None:
    good = plan_openstack(request(ip_strategy="MANUAL_IP", manual_ips={"net-1": "10.0.0.6"}), observed(),
                          dry_run=False)  # fmt: skip
    assert good.ok and good.status["networks"][0]["plannedIps"] == ["10.0.0.6"]
    outside = plan_openstack(request(ip_strategy="MANUAL_IP", manual_ips={"net-1": "192.168.1.4"}), observed(),
                             dry_run=False)  # fmt: skip
    assert outside.reason == "InvalidManualIp"
    elsewhere = plan_openstack(request(ip_strategy="MANUAL_IP", manual_ips={"net-2": "10.0.0.6"}), observed(),
                               dry_run=False)  # fmt: skip
    assert elsewhere.reason == "InvalidManualIp" and "net-2" in elsewhere.message


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"project_id": None, "project_error": "no project 'x'"}, "ProjectNotFound"),
        ({"vm": None}, "VmNotFound"),
        ({"vm": replace(VM, project_id="p2")}, "VmNotInProject"),
        ({"vm": replace(VM, image_id="img-1")}, "NotBootFromVolume"),
        ({"volumes": (replace(BOOT, devices={"vm-1": "/dev/vdc"}, bootable=False), DATA)}, "NotBootFromVolume"),
        ({"snapshot": None}, "RestorePointNotFound"),
        ({"snapshot": replace(SNAP, volume_id="data")}, "RestorePointNotFound"),
        ({"snapshot": replace(SNAP, status="creating")}, "RestorePointNotAvailable"),
        ({"quotas": (QuotaLine("instances", 3, 3),)}, "QuotaExceeded"),
        ({"scope_error": "bound elsewhere"}, "CredentialScope"),
    ],
)
def test_refusals(changes: dict[str, Any], reason: str) -> None:
    plan = plan_openstack(request(), observed(**changes), dry_run=False)
    assert plan.reason == reason and plan.message


def test_replace_frees_compute_quota_first() -> None:
    full = (QuotaLine("instances", 3, 3), QuotaLine("cores", 10, 10))
    assert plan_openstack(request(), observed(quotas=full), dry_run=False).reason == "QuotaExceeded"
    plan = plan_openstack(request(mode="REPLACE", confirm="DELETE AND RESTORE web-01"), observed(quotas=full),
                          dry_run=False)  # fmt: skip
    assert plan.ok and plan.status["quota"] is None


def test_request_from_spec_takes_an_accepted_retry_override() -> None:
    spec = RestoreJobSpec.model_validate(
        {
            "credentialsRef": {"kind": "CloudCredential", "name": "prod-cloud"},
            "source": {"openstack": {"project": "prod", "vmId": "vm-1", "restorePointId": "s2"}},
            "ipStrategy": "SAME_IPS_OR_FAIL",
            "manualIps": [{"networkId": "n1", "ip": "10.0.0.9"}],
        }
    )
    assert request_from_spec(spec).ip_strategy == "SAME_IPS_OR_FAIL"
    assert request_from_spec(spec).manual_ips == {"n1": "10.0.0.9"}
    retried = RetryStatus(requested_at="t1", accepted=True, ip_strategy="TRY_SAME_IPS")
    assert request_from_spec(spec, retried).ip_strategy == "TRY_SAME_IPS"
    refused = RetryStatus(requested_at="t2", accepted=False, ip_strategy="TRY_SAME_IPS")
    assert request_from_spec(spec, refused).ip_strategy == "SAME_IPS_OR_FAIL"
    proxmox = request_from_spec(
        RestoreJobSpec.model_validate(
            {
                "credentialsRef": {"kind": "ProxmoxNode", "name": "pve-lab"},
                "source": {"proxmox": {"node": "pve1", "vmid": 101, "snapshot": "s"}},
            }
        )
    )
    assert (proxmox.provider, proxmox.vmid) == ("proxmox", 101)


def test_generated_names_fit_nova() -> None:
    long = new_vm_name(request(), "x" * 80)
    assert len(long) <= 63 and long.endswith("-restored-s2")
    assert new_vm_name(request(new_vm_name="mine"), "web-01") == "mine"


def test_proxmox_plans() -> None:
    guest = GuestView(101, "vm-pve1-1", "pve1", "vm", "running")
    snaps = (("old", 100, False), ("new", 200, True))
    base = Request(provider="proxmox", mode="REPLACE", ip_strategy="NEW_IPS", node="pve1", vmid=101, snapshot="old",
                   confirm="DELETE AND RESTORE vm-pve1-1")  # fmt: skip
    plan = plan_proxmox(base, ProxmoxObserved(guest, snaps), dry_run=True)
    assert plan.ok and [p["name"] for p in plan.status["restorePoints"]] == ["new", "old"]
    assert "stopped first" in plan.warnings[0] and "dry run" in plan.warnings[-1]
    assert plan_proxmox(replace(base, snapshot="nope"), ProxmoxObserved(guest, snaps), dry_run=False).reason == (
        "RestorePointNotFound"
    )
    assert plan_proxmox(base, ProxmoxObserved(None), dry_run=False).reason == "VmNotFound"
    wrong = plan_proxmox(replace(base, confirm="DELETE AND RESTORE x"), ProxmoxObserved(guest, snaps), dry_run=False)
    assert wrong.reason == "ConfirmationMismatch"
    clone = plan_proxmox(replace(base, mode="NEW", confirm=None), ProxmoxObserved(guest, snaps), dry_run=False)
    assert clone.ok and clone.status["newVmName"] == "vm-pve1-1-restored-old" and "clone" in clone.warnings[0]


def test_restore_config_is_what_pf9_reports() -> None:
    assert OperatorSettings().restore_config() == {"enabled": True, "dry_run": False, "cleanup_volumes": False}
    custom = OperatorSettings(restore_enabled=False, restore_dry_run=True, restore_cleanup_volumes=True)
    assert custom.restore_config() == {"enabled": False, "dry_run": True, "cleanup_volumes": True}


def test_adopt_keeps_the_recorded_else_the_oldest() -> None:
    """Issue 16 item 5: Nova/Cinder accept duplicate names; one object of a create step is kept."""
    made = namedtuple("made", "id created_at")
    older, newer = made("b", "2026-12-01T10:00:00Z"), made("a", "2026-12-01T10:00:05Z")
    assert adopt([newer, older], []) == (older, [newer])
    assert adopt([newer, older], ["a"]) == (newer, [older]), "the one status recorded wins"
    in_flight = InFlightCall(step="CREATE_SERVER", until="2026-12-01T10:01:00Z", holder="dead")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert in_flight_wait(in_flight, "CREATE_SERVER", "me", now) == 60.0
    assert in_flight_wait(in_flight, "CREATE_PORTS", "me", now) == 0.0
    assert in_flight_wait(in_flight, "CREATE_SERVER", "dead", now) == 0.0, "a live process waits for no own call"
    assert in_flight_wait(None, "CREATE_SERVER", "me", now) == 0.0
