"""Sharding end to end (issue 18 item 6): two `daytwo-operator` processes as shards of one control plane.

The module runs its own control plane and its own OpenStack stand-in, so no other operator of the session
reconciles its objects and the stand-in's journal holds only its shards' calls; the shards authenticate as
the chart's operator ServiceAccount with the chart's RBAC for two shards (the Lease rules included).

Ten SnapshotPolicies, one volume each, yearly (only run-now requests start runs): each is taken by exactly
the shard rendezvous hashing names (each shard logs ``shard takes <kind> <namespace>/<name>``), each run-now
request makes exactly one snapshot create, and after ``kill -9`` of one shard the survivor takes its
policies over and serves their next requests, again with one create each.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from daytwo.operator.backends.openstack import OpenStackConnectionParams, connect
from daytwo.operator.sharding import owner

from tests.e2e.test_chart_rbac import RELEASE_NAMESPACE, token_kubeconfig
from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.helm import render
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess, shard_operator
from tests.harness.processes import spawn, stop, wait_until
from tests.harness.standins import example_secret, openstack_credential

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NS = "shard-e2e"
PROJECT = "acme-proj-2"
POLICIES = [f"policy-{i}" for i in range(10)]
KINDS = ("snapshotpolicies", "cloudcredentials")
#: The Lease name prefix the chart gives a release called daytwo.
PREFIX = "daytwo-shard"
RBAC_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
#: Short Leases so a takeover comes within seconds (the defaults are 15 s + 10 s).
SHARD_ENV = {
    "DAYTWO_SHARD_LEASE_SECONDS": "3",
    "DAYTWO_SHARD_GRACE_SECONDS": "2",
    "DAYTWO_RESYNC_SECONDS": "5",
    "DAYTWO_RETRY_DELAY_SECONDS": "2",
    "DAYTWO_LOG_FORMAT": "plain",
}


@dataclass
class World:
    """The module's control plane, stand-in, shards and the volume each policy snapshots."""

    kubectl: Kubectl
    standin: str
    shards: list[DaytwoProcess]
    volumes: dict[str, str]


def taken(process: DaytwoProcess, name: str, since: int = 0) -> int:
    """How often ``process`` logged taking SnapshotPolicy ``name`` (after the first ``since`` characters)."""
    return process.log()[since:].count(f"shard takes SnapshotPolicy {NS}/{name}\n")


def creates(standin: str, volume_id: str) -> int:
    """Snapshot creates of ``volume_id`` the stand-in received."""
    query = f"method=POST&path=/snapshots$&contains={volume_id}"
    with urllib.request.urlopen(f"{standin}/_standin/journal?{query}", timeout=10) as answer:
        return int(json.load(answer)["matching"])


def run_now(kubectl: Kubectl, names: list[str], token: str) -> None:
    """Request a run of each policy and wait until each handled it and has no run in progress."""
    for name in names:
        kubectl.run("annotate", "--overwrite", "d2sp", name, "-n", NS, f"daytwo.io/reconcile-requested-at={token}")

    def handled() -> bool:
        items = json.loads(kubectl.run("get", "d2sp", "-n", NS, "-o", "json").stdout)["items"]
        done = {
            item["metadata"]["name"]
            for item in items
            if (item.get("status") or {}).get("lastHandledReconcileAt") == token
            and not item["status"].get("currentRun")
        }
        return set(names) <= done

    wait_until(handled, 180, f"policies {names} to handle {token}")


def policy(name: str, volume_id: str) -> dict[str, Any]:
    """A yearly SnapshotPolicy on one volume."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
            "targets": {"openstack": {"volumeIds": [volume_id]}},
            "schedule": "0 0 1 1 *",
            "retention": {"keepLast": 5},
            "snapshot": {"namePrefix": "shard", "force": True},
        },
    }


def live(process: DaytwoProcess, shards: str) -> bool:
    """Whether ``process`` logged the live shard set ``shards`` (e.g. "[0, 1]") last."""
    lines = [line for line in process.log().splitlines() if "live shards [" in line]
    return bool(lines) and lines[-1].endswith(f"live shards {shards}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Control plane, CRDs, the stand-in, the credential, both shards live, then the ten policies Ready."""
    tmp = tmp_path_factory.mktemp("sharding")
    port = free_port()
    standin = spawn(
        [sys.executable, "-m", "tests.standins.openstack", "--port", str(port), "--seed", "demo"],
        tmp / "openstack.log",
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    shards: list[DaytwoProcess] = []
    try:
        wait_until(lambda: urllib.request.urlopen(f"{base}/_standin/health", timeout=2).status == 200, 60, "stand-in")
        with LocalControlPlane(state_dir=tmp / "cluster") as plane:
            kubectl = Kubectl(plane.kubeconfig)
            # Like the benchmarks: a CRD the apiserver refuses (a kind still being built) must not stop this
            # module, unless it is one of the kinds it uses.
            kubectl.run("apply", "-f", str(REPO / "crds" / "generated"), check=False)
            kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{p}.daytwo.io" for p in KINDS))
            kubectl.run(
                "wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=daytwo"
            )
            # The shards authenticate as the chart's operator ServiceAccount, with the chart's RBAC for two
            # shards: its Lease rules are all they get.
            kubectl.run("create", "namespace", RELEASE_NAMESPACE)
            rbac = render(namespace=RELEASE_NAMESPACE, values=["operator.sharding.shards=2"], kinds=RBAC_KINDS)
            kubectl.apply(yaml.safe_dump_all(rbac))
            account = token_kubeconfig(plane, kubectl, "daytwo-operator", tmp / "operator-kubeconfig")
            env = {**SHARD_ENV, "DAYTWO_SHARD_NAMESPACE": RELEASE_NAMESPACE, "DAYTWO_SHARD_LEASE_PREFIX": PREFIX}
            shards = [shard_operator(account, tmp / f"shard-{i}.log", i, 2, env) for i in (0, 1)]
            for shard in shards:
                shard.start()
            for shard in shards:
                wait_until(lambda shard=shard: live(shard, "[0, 1]"), 60, f"{shard.log_path} to see both shards")
            kubectl.run("create", "namespace", NS)
            kubectl.apply(
                json.dumps({"apiVersion": "v1", "kind": "List", "items": openstack_credential(NS, base=base)})
            )
            password = example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"]
            cloud = connect(
                OpenStackConnectionParams(
                    auth_url=f"{base}/identity/v3", username="admin", password=password, project_name="admin"
                )
            )
            project = next(p for p in cloud.list_projects() if p.name == PROJECT)
            found = sorted(
                v.id for v in cloud.list_volumes(project_id=project.id) if v.status in ("available", "in-use")
            )
            volumes = dict(zip(POLICIES, found, strict=False))
            assert len(volumes) == len(POLICIES), "the demo seed has ten volumes in the project"
            items = [policy(name, volume) for name, volume in volumes.items()]
            kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

            def ready() -> bool:
                listed = json.loads(kubectl.run("get", "d2sp", "-n", NS, "-o", "json").stdout)["items"]
                return len(listed) == len(POLICIES) and all(
                    any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in item.get("status", {}).get("conditions", [])
                    )
                    for item in listed
                )

            wait_until(ready, 180, "every policy Ready")
            yield World(kubectl, base, shards, volumes)
            for shard in shards:
                shard.stop()
    finally:
        for shard in shards:
            shard.kill()
        stop(standin)


def test_each_policy_runs_on_exactly_one_shard_and_a_killed_shards_policies_are_taken_over(world: World) -> None:
    expected = {name: int(owner(NS, name, [0, 1]) or 0) for name in POLICIES}
    assert set(expected.values()) == {0, 1}, "both shards own some of the policies"
    for name, shard in expected.items():
        counts = [taken(process, name) for process in world.shards]
        assert counts[shard] == 1 and counts[1 - shard] == 0, f"{name}: taken {counts} times by shards 0, 1"

    run_now(world.kubectl, POLICIES, "first")
    assert {name: creates(world.standin, world.volumes[name]) for name in POLICIES} == dict.fromkeys(POLICIES, 1)

    survivor, victim = world.shards
    since = len(survivor.log())
    victim.kill()
    moved = [name for name, shard in expected.items() if shard == 1]
    kept = [name for name, shard in expected.items() if shard == 0]
    run_now(world.kubectl, moved, "second")
    assert all(taken(survivor, name, since) == 1 for name in moved), "the survivor took each moved policy once"
    assert not any(taken(survivor, name, since) for name in kept), "its own policies never left it"
    assert {name: creates(world.standin, world.volumes[name]) for name in POLICIES} == {
        name: 2 if name in moved else 1 for name in POLICIES
    }, "one create per request: the dead shard made none after it died, the survivor one each"
    leases = json.loads(
        world.kubectl.run(
            "get", "leases", "-n", RELEASE_NAMESPACE, "-l", f"daytwo.io/shard-group={PREFIX}", "-o", "json"
        ).stdout
    )["items"]
    holders = {lease["metadata"]["labels"]["daytwo.io/shard"]: lease["spec"].get("holderIdentity") for lease in leases}
    assert set(holders) == {"0", "1"} and all(holders.values()), "a killed shard cannot release its Lease"


def test_a_shard_that_returns_gets_its_policies_back_deletes_and_releases_its_lease_on_sigterm(world: World) -> None:
    survivor, returning = world.shards
    if returning.process is None or returning.process.poll() is not None:
        returning.start()
    moved = [name for name in POLICIES if owner(NS, name, [0, 1]) == 1]
    wait_until(lambda: live(survivor, "[0, 1]") and live(returning, "[0, 1]"), 60, "both shards live again")

    def handed_back() -> bool:
        log = survivor.log()
        return all(log.count(f"shard hands SnapshotPolicy {NS}/{name} over\n") >= 1 for name in moved)

    wait_until(handed_back, 60, "the survivor to hand the returning shard's policies back")
    before = {name: creates(world.standin, world.volumes[name]) for name in POLICIES}
    run_now(world.kubectl, POLICIES, "third")
    after = {name: creates(world.standin, world.volumes[name]) for name in POLICIES}
    assert {name: after[name] - before[name] for name in POLICIES} == dict.fromkeys(POLICIES, 1)

    # Deleting one of them: the non-owner holds the shared finalizer until the owner let it go; it goes.
    deleted, moved = moved[0], moved[1:]
    world.kubectl.run("delete", "d2sp", deleted, "-n", NS, "--timeout=60s")

    since = len(survivor.log())
    returning.stop()
    lease = json.loads(world.kubectl.run("get", "lease", f"{PREFIX}-1", "-n", RELEASE_NAMESPACE, "-o", "json").stdout)
    assert not lease["spec"].get("holderIdentity"), "a graceful exit releases the Lease"
    wait_until(lambda: all(taken(survivor, name, since) == 1 for name in moved), 60, "the survivor to take them")
