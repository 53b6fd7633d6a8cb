"""Bad input: the real apiserver rejects each invalid manifest with a message a person can act on.

One row per schema/CEL rule. Each bad manifest is a valid example with one thing broken, so the
test proves that the rule (and nothing else) rejects it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.kubectl import Kubectl

from .conftest import EXAMPLES, NAMESPACE

Manifest = dict[str, Any]


def example(file: str, kind: str) -> Manifest:
    """The daytwo object of ``kind`` in examples/<file>."""
    docs = yaml.safe_load_all(Path(EXAMPLES / file).read_text())
    found: Manifest = next(doc for doc in docs if doc["kind"] == kind)
    return found


def mutate(file: str, kind: str, change: Callable[[Manifest], None]) -> Manifest:
    """A copy of an example with ``change`` applied and a fresh name."""
    manifest = copy.deepcopy(example(file, kind))
    manifest["metadata"]["name"] = "bad-" + manifest["metadata"]["name"][:50]
    change(manifest)
    return manifest


def set_path(path: str, value: Any) -> Callable[[Manifest], None]:
    """A change that sets a dotted path (creating maps); value None deletes it."""

    def change(manifest: Manifest) -> None:
        *parents, leaf = path.split(".")
        node = manifest
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value

    return change


def both(*changes: Callable[[Manifest], None]) -> Callable[[Manifest], None]:
    """Apply several changes."""

    def change(manifest: Manifest) -> None:
        for one in changes:
            one(manifest)

    return change


SP, RJ, DR, DE = "snapshotpolicy.yaml", "restorejob.yaml", "driftrule.yaml", "driftevent.yaml"
AM, PN, CC = "aggregatemigration.yaml", "proxmoxnode.yaml", "cloudcredential-openstack.yaml"
CR = "cloudresource.yaml"

CASES: list[tuple[str, str, str, Callable[[Manifest], None], str]] = [
    # SnapshotPolicy
    (
        "sp-schedule-and-policy",
        SP,
        "SnapshotPolicy",
        set_path("spec.schedule", "0 1 * * *"),
        "set exactly one of schedule (cron) or policyName",
    ),
    (
        "sp-neither-schedule",
        SP,
        "SnapshotPolicy",
        set_path("spec.policyName", None),
        "set exactly one of schedule (cron) or policyName",
    ),
    (
        "sp-bad-cron",
        SP,
        "SnapshotPolicy",
        both(
            set_path("spec.policyName", None),
            set_path("spec.schedule", "daily"),
            set_path("spec.retention", {"keepLast": 3}),
        ),
        "schedule must be a 5-field cron expression such as '0 2 * * *'",
    ),
    (
        "sp-bad-named-policy",
        SP,
        "SnapshotPolicy",
        set_path("spec.policyName", "fortnightly_3"),
        "policyName must be <hourly|daily|weekly|monthly>_<keep>, e.g. daily_5",
    ),
    (
        "sp-keeplast-zero",
        SP,
        "SnapshotPolicy",
        set_path("spec.retention", {"keepLast": 0}),
        "spec.retention.keepLast: Invalid value: 0",
    ),
    (
        "sp-schedule-without-retention",
        SP,
        "SnapshotPolicy",
        both(set_path("spec.policyName", None), set_path("spec.schedule", "0 2 * * *")),
        "with schedule, set retention.keepLast or retention.maxAge",
    ),
    (
        "sp-bad-max-age",
        SP,
        "SnapshotPolicy",
        set_path("spec.retention", {"maxAge": "30 days"}),
        "maxAge must be a duration such as 30d",
    ),
    (
        "sp-two-targets",
        SP,
        "SnapshotPolicy",
        set_path("spec.targets.proxmox", {"vmids": [100]}),
        "set exactly one of targets.openstack or targets.proxmox",
    ),
    (
        "sp-empty-openstack-target",
        SP,
        "SnapshotPolicy",
        set_path("spec.targets.openstack", {}),
        "targets.openstack needs at least one of",
    ),
    (
        "sp-empty-proxmox-target",
        SP,
        "SnapshotPolicy",
        both(set_path("spec.targets", {"proxmox": {}}), set_path("spec.credentialsRef.kind", "ProxmoxNode")),
        "targets.proxmox needs at least one of nodes, vmids or tags",
    ),
    (
        "sp-openstack-with-proxmox-creds",
        SP,
        "SnapshotPolicy",
        set_path("spec.credentialsRef.kind", "ProxmoxNode"),
        "targets.openstack needs credentialsRef.kind CloudCredential",
    ),
    (
        "sp-proxmox-with-cloud-creds",
        SP,
        "SnapshotPolicy",
        set_path("spec.targets", {"proxmox": {"vmids": [100]}}),
        "targets.proxmox needs credentialsRef.kind ProxmoxNode",
    ),
    ("sp-sla-zero", SP, "SnapshotPolicy", set_path("spec.slaDays", 0), "spec.slaDays"),
    ("sp-unknown-field", SP, "SnapshotPolicy", set_path("spec.retain", 5), 'unknown field "spec.retain"'),
    (
        "sp-missing-credentials",
        SP,
        "SnapshotPolicy",
        set_path("spec.credentialsRef", None),
        "spec.credentialsRef: Required",
    ),
    # RestoreJob
    (
        "rj-replace-no-confirm",
        RJ,
        "RestoreJob",
        both(set_path("spec.mode", "REPLACE"), set_path("spec.newVmName", None)),
        "mode REPLACE deletes the VM: set confirm to exactly 'DELETE AND RESTORE <vm name>'",
    ),
    (
        "rj-replace-wrong-confirm",
        RJ,
        "RestoreJob",
        both(set_path("spec.mode", "REPLACE"), set_path("spec.newVmName", None), set_path("spec.confirm", "yes")),
        "set confirm to exactly 'DELETE AND RESTORE <vm name>'",
    ),
    (
        "rj-two-sources",
        RJ,
        "RestoreJob",
        set_path("spec.source.proxmox", {"node": "pve1", "vmid": 100, "snapshot": "s"}),
        "set exactly one of source.openstack or source.proxmox",
    ),
    (
        "rj-proxmox-cloud-creds",
        RJ,
        "RestoreJob",
        set_path("spec.source", {"proxmox": {"node": "pve1", "vmid": 100, "snapshot": "s"}}),
        "source.proxmox needs credentialsRef.kind ProxmoxNode",
    ),
    (
        "rj-openstack-proxmox-creds",
        RJ,
        "RestoreJob",
        set_path("spec.credentialsRef.kind", "ProxmoxNode"),
        "source.openstack needs credentialsRef.kind CloudCredential",
    ),
    (
        "rj-manual-without-ips",
        RJ,
        "RestoreJob",
        set_path("spec.ipStrategy", "MANUAL_IP"),
        "ipStrategy MANUAL_IP needs manualIps",
    ),
    (
        "rj-bad-strategy",
        RJ,
        "RestoreJob",
        set_path("spec.ipStrategy", "SAME_IPS"),
        "spec.ipStrategy: Unsupported value",
    ),
    (
        "rj-retry-before-execute",
        RJ,
        "RestoreJob",
        set_path("spec.retry", {"requestedAt": "2026-01-01T00:00:00Z"}),
        "retry, cleanup and cleanupStorage act on an executed restore: set execute: true first",
    ),
    (
        "rj-retry-manual-strategy",
        RJ,
        "RestoreJob",
        both(set_path("spec.execute", True), set_path("spec.retry", {"requestedAt": "t", "ipStrategy": "MANUAL_IP"})),
        "spec.retry.ipStrategy: Unsupported value",
    ),
    (
        "rj-manual-ip-twice-per-network",
        RJ,
        "RestoreJob",
        both(
            set_path("spec.ipStrategy", "MANUAL_IP"),
            set_path("spec.manualIps", [{"networkId": "n1", "ip": "10.0.0.5"}, {"networkId": "n1", "ip": "10.0.0.6"}]),
        ),
        "Duplicate value",
    ),
    (
        "rj-newname-with-replace",
        RJ,
        "RestoreJob",
        both(set_path("spec.mode", "REPLACE"), set_path("spec.confirm", "DELETE AND RESTORE web-01")),
        "newVmName only applies to mode NEW",
    ),
    # DriftRule / DriftEvent
    (
        "dr-bad-field",
        DR,
        "DriftRule",
        set_path("spec.field", "flavor id!"),
        "field must be a field name such as flavor_id or a JSON path",
    ),
    (
        "dr-bad-type",
        DR,
        "DriftRule",
        set_path("spec.target.resourceType", "router"),
        "spec.target.resourceType: Unsupported value",
    ),
    ("dr-short-interval", DR, "DriftRule", set_path("spec.intervalSeconds", 5), "spec.intervalSeconds"),
    (
        "dr-proxmox-creds",
        DR,
        "DriftRule",
        set_path("spec.target.credentialsRef.kind", "ProxmoxNode"),
        "drift rules read OpenStack",
    ),
    (
        "de-ack-without-by",
        DE,
        "DriftEvent",
        set_path("spec.acknowledgement.by", None),
        "an acknowledgement needs acknowledgement.by",
    ),
    ("de-bad-severity", DE, "DriftEvent", set_path("spec.severity", "high"), "spec.severity: Unsupported value"),
    # AggregateMigration
    (
        "am-both-forms",
        AM,
        "AggregateMigration",
        set_path("spec.addTo", ["H100-n3-spot"]),
        "use either sourceAggregate/targetAggregate or removeFrom/addTo",
    ),
    (
        "am-neither-form",
        AM,
        "AggregateMigration",
        both(set_path("spec.sourceAggregate", None), set_path("spec.targetAggregate", None)),
        "use either sourceAggregate/targetAggregate or removeFrom/addTo",
    ),
    (
        "am-same-aggregate",
        AM,
        "AggregateMigration",
        set_path("spec.targetAggregate", "H100-n3"),
        "sourceAggregate and targetAggregate must differ",
    ),
    (
        "am-proxmox-creds",
        AM,
        "AggregateMigration",
        set_path("spec.credentialsRef.kind", "ProxmoxNode"),
        "credentialsRef.kind must be CloudCredential",
    ),
    (
        "am-bad-onfailure",
        AM,
        "AggregateMigration",
        set_path("spec.onFailure", "Ignore"),
        "spec.onFailure: Unsupported value",
    ),
    # ProxmoxNode
    (
        "pn-ca-and-insecure",
        PN,
        "ProxmoxNode",
        set_path("spec.tls.insecureSkipVerify", True),
        "set either caSecretRef or insecureSkipVerify, not both",
    ),
    ("pn-bad-port", PN, "ProxmoxNode", set_path("spec.port", 70000), "spec.port"),
    (
        "pn-bad-operation",
        PN,
        "ProxmoxNode",
        set_path("spec.actions", [{"id": "a1", "vmid": 100, "operation": "kill"}]),
        'Unsupported value: "kill"',
    ),
    (
        "pn-duplicate-action-id",
        PN,
        "ProxmoxNode",
        set_path(
            "spec.actions",
            [{"id": "a1", "vmid": 100, "operation": "start"}, {"id": "a1", "vmid": 101, "operation": "stop"}],
        ),
        "Duplicate value",
    ),
    (
        "pn-bad-vmid",
        PN,
        "ProxmoxNode",
        set_path("spec.guestPower", [{"vmid": 7, "state": "running"}]),
        "spec.guestPower[0].vmid",
    ),
    # CloudCredential
    (
        "cc-missing-block",
        CC,
        "CloudCredential",
        set_path("spec.openstack", None),
        "provider openstack needs the openstack block",
    ),
    (
        "cc-extra-block",
        CC,
        "CloudCredential",
        set_path("spec.aws", {"region": "eu-west-1"}),
        "provider aws needs the aws block, and the aws block needs provider aws",
    ),
    ("cc-bad-provider", CC, "CloudCredential", set_path("spec.provider", "ibm"), "spec.provider: Unsupported value"),
    (
        "cc-http-without-opt-out",
        CC,
        "CloudCredential",
        set_path("spec.openstack.allowInsecureHttp", None),
        "authUrl is http://: the credential would be sent in clear text",
    ),
    (
        "cc-aws-http-without-opt-out",
        CC,
        "CloudCredential",
        both(
            set_path("spec.provider", "aws"),
            set_path("spec.openstack", None),
            set_path("spec.billing", None),
            set_path("spec.inventory.kinds", ["vms"]),
            set_path("spec.aws", {"region": "eu-west-1", "endpointUrl": "http://127.0.0.1:5000"}),
        ),
        "endpointUrl is http://: the credential would be sent in clear text",
    ),
    (
        "cc-bad-auth-url",
        CC,
        "CloudCredential",
        set_path("spec.openstack.authUrl", "keystone:5000"),
        "authUrl must be an http(s):// URL",
    ),
    (
        "cc-bad-interface",
        CC,
        "CloudCredential",
        set_path("spec.openstack.interface", "private"),
        "interface must be public, internal or admin",
    ),
    ("cr-type-without-block", CR, "CloudResource", set_path("spec.type", "network"), "type vm needs the vm block"),
    (
        "cr-second-block",
        CR,
        "CloudResource",
        set_path("spec.storage", {"kind": "bucket"}),
        "only type storage may have it",
    ),
    (
        "cr-volume-without-size",
        CR,
        "CloudResource",
        both(set_path("spec.type", "storage"), set_path("spec.vm", None), set_path("spec.storage", {"kind": "volume"})),
        "a volume needs sizeGb",
    ),
    (
        "cr-bad-cidr",
        CR,
        "CloudResource",
        both(
            set_path("spec.type", "network"), set_path("spec.vm", None), set_path("spec.network", {"cidr": "10.0.0.0"})
        ),
        "must be an IPv4 CIDR such as 10.20.0.0/16",
    ),
    (
        "cr-owner-tag-reserved",
        CR,
        "CloudResource",
        set_path("spec.tags", {"daytwo-owner": "x"}),
        "the tag daytwo-owner is reserved",
    ),
    (
        "cr-proxmox-credentials",
        CR,
        "CloudResource",
        set_path("spec.credentialsRef.kind", "ProxmoxNode"),
        "credentialsRef.kind must be CloudCredential",
    ),
]


@pytest.mark.parametrize(("case", "file", "kind", "change", "message"), CASES, ids=[case[0] for case in CASES])
def test_apiserver_rejects(
    kubectl: Kubectl,
    examples: dict[str, Any],
    case: str,
    file: str,
    kind: str,
    change: Callable[[Manifest], None],
    message: str,
) -> None:
    manifest = mutate(file, kind, change)
    result = kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"{case}: accepted a bad manifest"
    assert message in result.stderr, f"{case}: {result.stderr}"


def test_the_unbroken_example_is_accepted(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    """Guards the table: a mutate() with no change must pass, so each rejection comes from its change."""
    for file, kind in [
        (SP, "SnapshotPolicy"),
        (RJ, "RestoreJob"),
        (DR, "DriftRule"),
        (DE, "DriftEvent"),
        (AM, "AggregateMigration"),
        (PN, "ProxmoxNode"),
        (CC, "CloudCredential"),
        (CR, "CloudResource"),
    ]:
        manifest = mutate(file, kind, lambda _: None)
        kubectl.run("apply", "--dry-run=server", "-f", "-", input=json.dumps(manifest))


TRANSITIONS: list[tuple[str, str, str, Callable[[Manifest], None], Callable[[Manifest], None], str]] = [
    (
        "rj-immutable-after-execute",
        RJ,
        "RestoreJob",
        set_path("spec.execute", True),
        set_path("spec.ipStrategy", "NEW_IPS"),
        "the spec is immutable once execute is true",
    ),
    (
        "rj-cleanup-policy-immutable-after-execute",
        RJ,
        "RestoreJob",
        set_path("spec.execute", True),
        set_path("spec.cleanupPolicy", "DeletePortsAndVolume"),
        "only cancel, retry, cleanup and cleanupStorage may change",
    ),
    (
        "rj-execute-one-way",
        RJ,
        "RestoreJob",
        set_path("spec.execute", True),
        set_path("spec.execute", False),
        "execute cannot be turned off once the restore started",
    ),
    (
        "rj-cancel-one-way",
        RJ,
        "RestoreJob",
        set_path("spec.cancel", True),
        set_path("spec.cancel", False),
        "cancel is one way",
    ),
    (
        "am-immutable-after-execute",
        AM,
        "AggregateMigration",
        set_path("spec.dryRun", False),
        set_path("spec.targetAggregate", "H100-n3-runpod"),
        "the spec is immutable once the migration was executed",
    ),
    (
        "de-detection-immutable",
        DE,
        "DriftEvent",
        lambda _: None,
        set_path("spec.newValue", '"m1.xlarge"'),
        "only spec.acknowledgement may change",
    ),
    (
        "cc-provider-immutable",
        CC,
        "CloudCredential",
        lambda _: None,
        both(
            set_path("spec.provider", "aws"),
            set_path("spec.openstack", None),
            set_path("spec.aws", {"region": "eu-west-1"}),
        ),
        "provider is immutable",
    ),
    (
        "cr-image-immutable",
        CR,
        "CloudResource",
        lambda _: None,
        set_path("spec.vm.image", "ami-0"),
        "image, subnet, keyName and publicIp cannot change",
    ),
    (
        "cr-type-immutable",
        CR,
        "CloudResource",
        lambda _: None,
        both(set_path("spec.type", "storage"), set_path("spec.vm", None), set_path("spec.storage", {"kind": "bucket"})),
        "type is immutable",
    ),
    (
        "cr-region-immutable",
        CR,
        "CloudResource",
        lambda _: None,
        set_path("spec.region", "us-east-1"),
        "region is immutable",
    ),
    (
        "cr-volume-never-shrinks",
        CR,
        "CloudResource",
        both(
            set_path("spec.type", "storage"),
            set_path("spec.vm", None),
            set_path("spec.storage", {"kind": "volume", "sizeGb": 20}),
        ),
        set_path("spec.storage.sizeGb", 10),
        "sizeGb can only grow",
    ),
]


@pytest.mark.parametrize(
    ("case", "file", "kind", "first", "second", "message"), TRANSITIONS, ids=[case[0] for case in TRANSITIONS]
)
def test_apiserver_rejects_transition(
    kubectl: Kubectl,
    examples: dict[str, Any],
    case: str,
    file: str,
    kind: str,
    first: Callable[[Manifest], None],
    second: Callable[[Manifest], None],
    message: str,
) -> None:
    manifest = mutate(file, kind, first)
    manifest["metadata"]["name"] = f"t-{case}"
    kubectl.apply(json.dumps(manifest))
    second(manifest)
    result = kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    kubectl.run("delete", kind.lower(), f"t-{case}", "-n", NAMESPACE, "--wait=false")
    assert result.returncode != 0, f"{case}: accepted a forbidden change"
    assert message in result.stderr, f"{case}: {result.stderr}"
