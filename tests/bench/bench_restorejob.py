"""Benchmark: 50 RestoreJobs submitted at once, run by the operator against the OpenStack stand-in.

    python -m tests.bench.bench_restorejob --out restorejob.json [--restores 50] [--latency 0.0]

Real control plane, the operator as a process, the stand-in (seed ``demo``, real clock: volumes take
1 s to create, servers 2 s to boot, deletes 0.5 s) in this process, so the benchmark can add the VMs
to restore directly to its estate: ``--restores`` boot-from-volume VMs, each with a pre-created port
and a snapshot of its boot volume, spread over the nine customer projects. Half the jobs restore NEW
(TRY_SAME_IPS: the address is taken, so each falls back), half REPLACE (SAME_IPS_OR_FAIL), all applied
in one ``kubectl apply``. Reports the wall time until every job is COMPLETED, the OpenStack API calls
per restore (from the stand-in's journal, Keystone included) by service, and the operator's peak RSS.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.bench.common import check, peak_rss_mb_of, write_result
from tests.bench.kube import install_crds
from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import openstack_credential
from tests.standins.openstack.cinder import new_snapshot, new_volume
from tests.standins.openstack.faults import Fault
from tests.standins.openstack.model import Delays, Model, Record
from tests.standins.openstack.neutron import port_dict
from tests.standins.openstack.nova_boot import new_server
from tests.standins.openstack.server import StandIn

NS = "bench"
PROJECTS = [f"{domain}-proj-{n}" for domain in ("Default", "acme", "globex") for n in (1, 2, 3)]


def add_vm(model: Model, project: Record, number: int) -> dict[str, str]:
    """A boot-from-volume VM with a pre-created port and a snapshot of its boot volume, written into the estate."""
    network = next(n for n in model.networks.values() if n["name"] == f"{project['name']}-net")
    subnet = model.subnets[network["subnets"][0]]
    used = {f["ip_address"] for p in model.ports.values() for f in p["fixed_ips"] if f["subnet_id"] == subnet["id"]}
    address = next(
        str(ip) for ip in ipaddress.ip_network(subnet["cidr"]).hosts() if int(str(ip).split(".")[-1]) > 200
        and str(ip) not in used
    )  # fmt: skip
    host = next(h for h in model.hypervisors.values() if h["service"]["host"].startswith("cpu-"))
    flavor = next(f for f in model.flavors.values() if f["name"] == "m1.small")
    image = next(i for i in model.images.values() if i["name"] == "Ubuntu 22.04")
    admin = next(u for u in model.users.values() if u["name"] == "admin")
    name = f"bench-vm-{number:03d}"
    server = new_server(model, name=name, project_id=project["id"], user_id=admin["id"], flavor_id=flavor["id"],
                        image_id="", host=host, az=None)  # fmt: skip
    port = port_dict(model, network_id=network["id"], project_id=project["id"], name=f"{name}-eth0",
                     fixed_ips=[{"subnet_id": subnet["id"], "ip_address": address}])  # fmt: skip
    port.update(device_id=server["id"], device_owner="compute:nova", status="ACTIVE")
    server["addresses"][network["name"]] = [{"version": 4, "addr": address, "OS-EXT-IPS:type": "fixed",
                                             "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}]  # fmt: skip
    volume = new_volume(model, name=f"{name}-root", size=10, project_id=project["id"], user_id=admin["id"],
                        image_id=image["id"], status="in-use")  # fmt: skip
    volume["attachments"] = [{"server_id": server["id"], "attachment_id": model.new_id(), "volume_id": volume["id"],
                              "host_name": server["host"], "device": "/dev/vda", "id": volume["id"]}]  # fmt: skip
    server["volume_ids"].append(volume["id"])
    snapshot = new_snapshot(model, volume, name=f"{name}-nightly")
    return {"vm": server["id"], "name": name, "snapshot": snapshot["id"], "project": project["name"]}


def job(number: int, vm: dict[str, str]) -> dict[str, Any]:
    """Even numbers restore side by side, odd ones replace."""
    spec: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
        "source": {"openstack": {"project": vm["project"], "vmId": vm["vm"], "restorePointId": vm["snapshot"]}},
        "execute": True,
    }
    if number % 2:
        spec.update(mode="REPLACE", confirm=f"DELETE AND RESTORE {vm['name']}", ipStrategy="SAME_IPS_OR_FAIL")
    else:
        spec.update(mode="NEW", ipStrategy="TRY_SAME_IPS")
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "RestoreJob",
        "metadata": {"name": f"restore-{number:03d}", "namespace": NS},
        "spec": spec,
    }


def phases(kubectl: Kubectl) -> Counter[str]:
    """How many jobs are in each phase."""
    listed = json.loads(kubectl.run("get", "d2rj", "-n", NS, "-o", "json").stdout)["items"]
    return Counter(item.get("status", {}).get("phase", "none") for item in listed)


def service(path: str) -> str:
    """Which OpenStack service a stand-in path belongs to."""
    return path.strip("/").split("/")[0]


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--restores", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every OpenStack call")
    args = parser.parse_args()
    total = args.restores
    delays = Delays(volume_create=1.0, snapshot_create=1.0, server_build=2.0, delete=0.5)
    with (
        tempfile.TemporaryDirectory(prefix="bench-rj-") as tmp,
        LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        StandIn("demo", clock_mode="real", delays=delays) as cloud,
    ):
        kubectl = Kubectl(plane.kubeconfig)
        install_crds(kubectl, ["restorejobs", "cloudcredentials"])
        kubectl.run("create", "namespace", NS)
        with cloud.model.lock:
            projects = [next(p for p in cloud.model.projects.values() if p["name"] == name) for name in PROJECTS]
            vms = [add_vm(cloud.model, projects[n % len(projects)], n) for n in range(total)]
        if args.latency:
            cloud.faults.add(Fault(path=r"^/(compute|volume|network|identity|image)", latency=args.latency, times=None))
        operator = DaytwoProcess("daytwo-operator", plane.kubeconfig, Path(tmp) / "operator.log",
                                 env={"DAYTWO_LOG_LEVEL": "WARNING"}).start()  # fmt: skip
        try:
            kubectl.apply(
                json.dumps({"apiVersion": "v1", "kind": "List", "items": openstack_credential(NS, base=cloud.base_url)})
            )
            time.sleep(2)
            cloud.journal.clear()
            started = time.monotonic()
            kubectl.apply(
                json.dumps({"apiVersion": "v1", "kind": "List", "items": [job(n, vm) for n, vm in enumerate(vms)]})
            )
            wait_until(lambda: phases(kubectl)["COMPLETED"] == total, 900, f"{total} restores", interval=0.5)
            wall = time.monotonic() - started
            entries = cloud.journal.entries()
            rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
            final = phases(kubectl)
        except Exception:
            print((Path(tmp) / "operator.log").read_text()[-5000:])
            raise
        finally:
            operator.stop()
    by_service = Counter(service(e.path) for e in entries)
    writes = Counter(f"{e.method} {service(e.path)}" for e in entries if e.method != "GET")
    checks = [
        check("restores COMPLETED", final["COMPLETED"], total),
        check("restores in another phase", sum(final.values()) - final["COMPLETED"], 0),
        check("volume creates (one per restore)", writes["POST volume"], total),
        check("server boots (one per restore)", writes["POST compute"], total),
    ]
    write_result(
        args.out,
        "restorejob-50-at-once",
        checks,
        restores=total,
        modes={"NEW (TRY_SAME_IPS)": (total + 1) // 2, "REPLACE (SAME_IPS_OR_FAIL)": total // 2},
        latency_per_call_s=args.latency,
        stand_in_delays_s={"volume_create": 1.0, "server_build": 2.0, "delete": 0.5},
        wall_seconds=round(wall, 2),
        throughput_restores_per_minute=round(total / wall * 60, 1),
        phases=dict(final),
        backend_calls_per_restore=round(len(entries) / total, 1),
        backend_calls_per_restore_by_service={k: round(v / total, 1) for k, v in sorted(by_service.items())},
        writes_per_restore={k: round(v / total, 2) for k, v in sorted(writes.items())},
        operator_peak_rss_mb=rss,
    )


if __name__ == "__main__":
    main()
