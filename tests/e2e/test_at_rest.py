"""At rest, daytwo writes nothing: once every kind has settled, no resourceVersion of any daytwo object
changes over two full intervals of the slowest of them (issue 18 item 7).

One object of each kind that settles, in a namespace of its own, with short intervals: a CloudCredential
(validation and inventory sync every 60 s, the CRD's minimum for both; billing estimated from its inventory,
refreshed after every sync) and a DriftRule on the OpenStack stand-in, a SnapshotPolicy using that
credential (daily schedule, so no run falls in the window), and a ProxmoxNode on a fakepve of its own.
Each is Ready before the watch starts; every pass in the window either changes nothing a user can
observe or is a bug this test names by field.
The credential's ConfigMaps (inventory head and chunks, billing document) are not rewritten either.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import wait_for_condition
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import Standin, credential_secret, openstack_credential
from tests.standins.proxmox import PveStandin, run_fakepve

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NS = "at-rest-e2e"
#: The intervals of the manifests below (each kind's minimum or close to it).
DRIFT_INTERVAL, PVE_INTERVAL, VALIDATION_INTERVAL, INVENTORY_INTERVAL = 30, 10, 60, 60
#: Two full intervals of the slowest, plus the e2e operator's resync (5 s) as margin: 125 s of the test's cost.
QUIET_SECONDS = 2 * max(DRIFT_INTERVAL, PVE_INTERVAL, VALIDATION_INTERVAL, INVENTORY_INTERVAL) + 5
#: First syncs (inventory ConfigMaps, users, bindings) are over when nothing changed for this long.
SETTLE_SECONDS = 8


@pytest.fixture(scope="module")
def pve() -> Iterator[PveStandin]:
    """A fakepve of this module's own (other tests change the guests of theirs)."""
    with run_fakepve(nodes=1, guests_per_node=2) as standin:
        yield standin


def manifests(pve: PveStandin) -> list[dict[str, Any]]:
    """One settling object of each kind, with its Secrets."""
    secret, credential = openstack_credential(NS, "openstack-rest")
    credential["spec"]["validationIntervalSeconds"] = VALIDATION_INTERVAL
    # revalidated and resynced twice in the window: lastValidatedTime / inventory.lastSyncTime must stay put
    credential["spec"]["inventory"] = {
        "enabled": True,
        "intervalSeconds": INVENTORY_INTERVAL,
        "kinds": ["networks", "storage"],
    }
    # an estimate is refreshed after every inventory sync: the same records must not rewrite its ConfigMap
    credential["spec"]["billing"] = {"enabled": True, "source": "estimate"}
    rule = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftRule",
        "metadata": {"name": "networks-at-rest", "namespace": NS},
        "spec": {
            "target": {
                "credentialsRef": {"kind": "CloudCredential", "name": "openstack-rest"},
                "resourceType": "network",
            },
            "field": "name",
            "severity": "info",
            "intervalSeconds": DRIFT_INTERVAL,
        },
    }
    policy = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": "nightly-at-rest", "namespace": NS},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "openstack-rest"},
            "targets": {"openstack": {"volumeMetadata": {"at_rest_e2e": "true"}}},
            "schedule": "0 3 * * *",
            "timeZone": "UTC",
            "retention": {"keepLast": 3},
        },
    }
    node = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "ProxmoxNode",
        "metadata": {"name": "pve-at-rest", "namespace": NS},
        "spec": {
            "host": "127.0.0.1",
            "port": pve.port,
            "tokenSecretRef": {"name": "pve-rest-token"},
            "tls": {"caSecretRef": {"name": "pve-rest-ca", "key": "ca.crt"}},
            "timeoutSeconds": 5,
            "inventoryIntervalSeconds": PVE_INTERVAL,
        },
    }
    pve_secrets = [
        credential_secret("pve-rest-token", NS, {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
        credential_secret("pve-rest-ca", NS, {"ca.crt": pve.ca_pem}),
    ]
    return [secret, *pve_secrets, credential, rule, policy, node]


def daytwo_objects(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    """Every daytwo object of the namespace by "Kind/name"."""
    items = json.loads(kubectl.run("get", "daytwo", "-n", NS, "-o", "json").stdout)["items"]
    return {f"{item['kind']}/{item['metadata']['name']}": item for item in items}


def credential_configmaps(kubectl: Kubectl) -> dict[str, str]:
    """resourceVersion of each ConfigMap of the at-rest CloudCredential (inventory and billing), by name."""
    found: dict[str, str] = {}
    for selector in ("daytwo.io/credential=openstack-rest", "daytwo.io/billing-of=openstack-rest"):
        items = json.loads(kubectl.run("get", "configmap", "-n", NS, "-l", selector, "-o", "json").stdout)["items"]
        found.update({item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in items})
    return found


def passes(operator: DaytwoProcess, kind: str) -> float:
    """Successful passes of ``kind`` so far, from the operator's /metrics (passes are counted there, not in status)."""
    with urllib.request.urlopen(operator.metrics_url, timeout=10) as response:
        text = response.read().decode()
    pattern = rf'^daytwo_reconcile_passes_total{{[^}}]*kind="{kind}"[^}}]*outcome="success"[^}}]*}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


def credential_work(operator: DaytwoProcess) -> tuple[int, int]:
    """(validations, inventory syncs) of the at-rest CloudCredential due to their intervals, from the operator log."""
    log = operator.log()
    return (
        log.count(f"validating {NS}/openstack-rest: the validation interval elapsed"),
        log.count(f"syncing inventory of {NS}/openstack-rest: the inventory interval elapsed"),
    )


def changed_fields(before: Any, after: Any, path: str = "") -> list[str]:
    """The paths (a.b[2].c) where two JSON values differ, resourceVersion and managedFields aside."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key in ("resourceVersion", "managedFields"):
                continue
            found += changed_fields(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            f for i, (b, a) in enumerate(zip(before, after, strict=True)) for f in changed_fields(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {json.dumps(before)[:200]} -> {json.dumps(after)[:200]}"]


def test_no_daytwo_object_changes_at_rest(
    kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin], pve: PveStandin
) -> None:
    kubectl.run("create", "namespace", NS, check=False)
    for manifest in manifests(pve):
        kubectl.apply(json.dumps(manifest))
    for kind, name in (
        ("d2cc", "openstack-rest"),
        ("d2dr", "networks-at-rest"),
        ("d2sp", "nightly-at-rest"),
        ("d2pn", "pve-at-rest"),
    ):
        wait_for_condition(kubectl, kind, name, "Ready", "True", namespace=NS, timeout=120)

    settled: dict[str, Any] = {}

    wait_for_condition(kubectl, "d2cc", "openstack-rest", "BillingSynced", "True", "Estimated", NS, timeout=120)

    def quiet_for_a_while() -> bool:
        versions = {key: obj["metadata"]["resourceVersion"] for key, obj in daytwo_objects(kubectl).items()}
        versions.update({f"ConfigMap/{name}": rv for name, rv in credential_configmaps(kubectl).items()})
        if versions != settled.get("versions"):
            settled.update(versions=versions, at=time.monotonic())
        return time.monotonic() - settled["at"] >= SETTLE_SECONDS

    wait_until(quiet_for_a_while, 180, "the first syncs to finish", interval=1.0)
    before = daytwo_objects(kubectl)
    assert len(before) == 4, sorted(before)
    maps_before = credential_configmaps(kubectl)
    assert {"openstack-rest-inventory", "openstack-rest-billing"} <= set(maps_before), sorted(maps_before)
    passes_before = {kind: passes(operator, kind) for kind in ("CloudCredential", "DriftRule", "ProxmoxNode")}
    work_before = credential_work(operator)

    time.sleep(QUIET_SECONDS)  # a window to observe, not a timing assertion: nothing may happen in it
    after = daytwo_objects(kubectl)
    maps_after = credential_configmaps(kubectl)
    ran = {kind: passes(operator, kind) - count for kind, count in passes_before.items()}
    assert all(count > 0 for count in ran.values()), f"passes ran meanwhile (the quiet is not idleness): {ran}"
    work = [after - before for before, after in zip(work_before, credential_work(operator), strict=True)]
    assert min(work) >= 1, f"the credential was revalidated and resynced in the window: {work}"
    changes = {
        key: changed_fields(before[key], after.get(key))
        for key in before
        if after.get(key, {}).get("metadata", {}).get("resourceVersion") != before[key]["metadata"]["resourceVersion"]
    }
    assert not changes, f"status written at rest over {QUIET_SECONDS} s: {json.dumps(changes, indent=1)}"
    assert maps_after == maps_before, f"the credential's ConfigMaps rewritten at rest: {maps_before} -> {maps_after}"
