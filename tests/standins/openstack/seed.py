"""A deterministic, realistic estate: GPU host aggregates, flavors, servers (some boot-from-volume),
volumes with snapshot-policy metadata, snapshots, networks, ports, floating IPs, security groups."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .model import Model, Record
from .nova_hosts import new_aggregate

__all__ = ["SIZES", "SeedInfo", "seed"]

ADMIN_PASSWORD = "standin-admin-secret"
MEMBER_PASSWORD = "standin-member-secret"
APP_CRED_SECRET = "standin-appcred-secret"


@dataclass(frozen=True)
class Size:
    """How big an estate to build."""

    domains: int
    projects_per_domain: int
    hosts_per_gpu: int
    cpu_hosts: int
    servers: int
    volumes: int
    snapshots: int
    gpu_types: tuple[str, ...]


SIZES: dict[str, Size] = {
    "small": Size(2, 2, 6, 2, 16, 40, 10, ("H100", "A100")),
    "demo": Size(3, 3, 10, 4, 120, 300, 120, ("H100", "A100", "L40", "RTX-A6000")),
    "large": Size(10, 20, 120, 100, 10_000, 20_000, 5_000, ("H100", "H200", "A100", "L40", "RTX-A6000", "A40")),
}
_CUSTOMERS = ("acme", "globex", "initech", "umbrella")


@dataclass(frozen=True)
class SeedInfo:
    """Credentials and names a test needs to talk to the seeded cloud."""

    admin_username: str
    admin_password: str
    admin_project: str
    admin_project_id: str
    app_cred_id: str
    app_cred_secret: str
    member_username: str
    member_password: str
    member_project: str
    member_project_id: str
    domain: str = "Default"


def _identity(model: Model, size: Size) -> tuple[SeedInfo, list[Record]]:
    roles = {name: {"id": model.new_id().replace("-", ""), "name": name} for name in ("admin", "member", "reader")}
    model.roles.update({r["id"]: r for r in roles.values()})
    model.domains["default"] = {"id": "default", "name": "Default", "enabled": True, "description": "Default"}
    for i in range(1, size.domains):
        did = model.new_id().replace("-", "")
        name = _CUSTOMERS[(i - 1) % len(_CUSTOMERS)] + ("" if i <= len(_CUSTOMERS) else str(i))
        model.domains[did] = {"id": did, "name": name, "enabled": True, "description": f"{name} domain"}
    projects: list[Record] = []
    for domain in list(model.domains.values()):
        names = ["admin"] if domain["id"] == "default" else []
        names += [f"{domain['name']}-proj-{n}" for n in range(1, size.projects_per_domain + 1)]
        for name in names:
            pid = model.new_id().replace("-", "")
            project = {
                "id": pid,
                "name": name,
                "domain_id": domain["id"],
                "enabled": True,
                "description": "",
                "parent_id": domain["id"],
                "is_domain": False,
            }
            model.projects[pid] = project
            projects.append(project)
    admin_project, member_project = projects[0], projects[1]

    def user(name: str, password: str, grants: list[tuple[str, Record]]) -> Record:
        uid = model.new_id().replace("-", "")
        record = {
            "id": uid,
            "name": name,
            "domain_id": "default",
            "enabled": True,
            "email": f"{name}@example.com",
            "_password": password,
        }
        model.users[uid] = record
        for role, project in grants:
            model.assignments.append({"role_id": roles[role]["id"], "user_id": uid, "project_id": project["id"]})
        return record

    admin = user("admin", ADMIN_PASSWORD, [("admin", p) for p in projects])
    user("alice", MEMBER_PASSWORD, [("member", member_project)])
    cred_id = model.new_id().replace("-", "")
    model.app_credentials[cred_id] = {
        "id": cred_id,
        "name": "daytwo",
        "secret": APP_CRED_SECRET,
        "user_id": admin["id"],
        "project_id": admin_project["id"],
    }
    info = SeedInfo(
        admin_username="admin",
        admin_password=ADMIN_PASSWORD,
        admin_project="admin",
        admin_project_id=admin_project["id"],
        app_cred_id=cred_id,
        app_cred_secret=APP_CRED_SECRET,
        member_username="alice",
        member_password=MEMBER_PASSWORD,
        member_project=member_project["name"],
        member_project_id=member_project["id"],
    )
    return info, projects


def _catalog_things(model: Model, size: Size) -> None:
    for name, vcpus, ram, disk in (("m1.small", 2, 4096, 40), ("m1.medium", 4, 8192, 80), ("m1.large", 8, 16384, 160)):
        model.flavors[model.new_id()] = {
            "name": name,
            "vcpus": vcpus,
            "ram": ram,
            "disk": disk,
            "extra_specs": {},
            "is_public": True,
        }
    for gpu in size.gpu_types:
        for count in (1, 2, 4, 8):
            model.flavors[model.new_id()] = {
                "name": f"n3-{gpu}x{count}",
                "vcpus": 16 * count,
                "ram": 98_304 * count,
                "disk": 100,
                "extra_specs": {
                    "pci_passthrough:alias": f"{gpu}:{count}",
                    "gpu_type": gpu,
                    "gpu_count": str(count),
                    "aggregate_instance_extra_specs:gpu": gpu,
                },
                "is_public": True,
            }
    for fid, flavor in model.flavors.items():
        flavor["id"] = fid
    owner = next(iter(model.projects))
    for name, visibility in (
        ("Ubuntu 22.04", "public"),
        ("Ubuntu 24.04", "public"),
        ("RunPod Ubuntu 22.04", "public"),
        ("CentOS Stream 9", "public"),
        ("golden-db-image", "private"),
    ):
        iid = model.new_id()
        model.images[iid] = {
            "id": iid,
            "name": name,
            "status": "active",
            "visibility": visibility,
            "size": 2_361_393_152,
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": 20,
            "min_ram": 0,
            "owner": owner,
            "created_at": model.now_iso(),
            "updated_at": model.now_iso(),
            "protected": False,
            "tags": [],
            "checksum": "0" * 32,
            "os_hash_algo": "sha512",
            "os_hash_value": "0" * 128,
            "virtual_size": None,
            "file": f"/v2/images/{iid}/file",
            "schema": "/v2/schemas/image",
            "self": f"/v2/images/{iid}",
            "os_distro": name.split()[0].lower(),
            "hw_firmware_type": "uefi",
        }


def _hosts(model: Model, size: Size) -> dict[str, list[Record]]:
    by_type: dict[str, list[Record]] = {}
    number = 0
    kinds = [(gpu, size.hosts_per_gpu) for gpu in size.gpu_types] + [("CPU", size.cpu_hosts)]
    for kind, count in kinds:
        for n in range(1, count + 1):
            number += 1
            name = f"{kind.lower()}-host-{n:03d}"
            hid = model.new_id()
            gpu = kind != "CPU"
            model.hypervisors[hid] = {
                "id": hid,
                "hypervisor_hostname": f"{name}.cloud.local",
                "state": "up",
                "status": "enabled",
                "host_ip": str(ipaddress.ip_address("172.16.0.0") + number),
                "vcpus": 256 if gpu else 128,
                "memory_mb": 2_097_152 if gpu else 524_288,
                "local_gb": 7000 if gpu else 3500,
                "service": {"host": name, "id": model.new_id()},
            }
            by_type.setdefault(kind, []).append(model.hypervisors[hid])
    all_hosts = [h["service"]["host"] for h in model.hypervisors.values()]
    for index, zone in enumerate(("az-east", "az-west")):
        agg = new_aggregate(model, zone, zone)
        agg["hosts"] = all_hosts[index::2]
    for gpu in size.gpu_types:
        hosts = [h["service"]["host"] for h in by_type[gpu]]
        cut = [0, len(hosts) // 2, len(hosts) * 7 // 10, len(hosts) * 17 // 20, len(hosts)]
        pools = [
            (f"{gpu}-n3", "ondemand"),
            (f"{gpu}-n3-spot", "spot"),
            (f"{gpu}-n3-runpod", "runpod"),
            (f"{gpu}-n3-contract-{_CUSTOMERS[size.gpu_types.index(gpu) % len(_CUSTOMERS)]}", "contract"),
        ]
        for (name, pool), lo, hi in zip(pools, cut, cut[1:], strict=False):
            agg = new_aggregate(model, name, None)
            agg["hosts"] = hosts[lo:hi]
            agg["metadata"].update({"gpu_type": gpu, "pool": pool, "gpu_per_host": "8"})
        if gpu in ("H100", "A100"):
            agg = new_aggregate(model, f"{gpu}-n3-NVLink", None)
            agg["metadata"].update({"gpu_type": gpu, "pool": "ondemand", "nvlink": "true"})
    return by_type


def _networks(model: Model, projects: list[Record]) -> dict[str, tuple[Record, Record, list[int]]]:
    public = _network(model, "public", next(iter(model.projects)), external=True)
    _subnet(model, public, "public-subnet", "100.64.0.0/16")
    nets: dict[str, tuple[Record, Record, list[int]]] = {}
    for index, project in enumerate(projects):
        net = _network(model, f"{project['name']}-net", project["id"])
        cidr = f"10.{index // 64}.{(index % 64) * 4}.0/22"
        nets[project["id"]] = (net, _subnet(model, net, f"{project['name']}-subnet", cidr), [10])
        for name, rules in (
            ("default", [("egress", None, None), ("ingress", None, "self")]),
            ("web", [("ingress", 22, None), ("ingress", 80, None), ("ingress", 443, None)]),
        ):
            gid = model.new_id()
            model.security_groups[gid] = {
                "id": gid,
                "name": name,
                "project_id": project["id"],
                "tenant_id": project["id"],
                "description": f"{name} security group",
                "stateful": True,
                "tags": [],
                "revision_number": 1,
                "security_group_rules": [
                    {
                        "id": model.new_id(),
                        "direction": d,
                        "ethertype": "IPv4",
                        "protocol": "tcp" if port else None,
                        "port_range_min": port,
                        "port_range_max": port,
                        "remote_ip_prefix": "0.0.0.0/0" if port else None,
                        "remote_group_id": gid if remote == "self" else None,
                        "security_group_id": gid,
                    }
                    for d, port, remote in rules
                ],
            }
    return nets


def _network(model: Model, name: str, project_id: str, *, external: bool = False) -> Record:
    nid = model.new_id()
    model.networks[nid] = {
        "id": nid,
        "name": name,
        "project_id": project_id,
        "tenant_id": project_id,
        "status": "ACTIVE",
        "shared": external,
        "router:external": external,
        "subnets": [],
        "mtu": 1500,
        "admin_state_up": True,
        "availability_zones": ["nova"],
        "provider:network_type": "vxlan",
        "port_security_enabled": True,
        "description": "",
        "tags": [],
        "revision_number": 1,
    }
    return model.networks[nid]


def _subnet(model: Model, net: Record, name: str, cidr: str) -> Record:
    sid = model.new_id()
    network = ipaddress.ip_network(cidr)
    subnet = {
        "id": sid,
        "name": name,
        "network_id": net["id"],
        "project_id": net["project_id"],
        "tenant_id": net["project_id"],
        "cidr": cidr,
        "ip_version": 4,
        "gateway_ip": str(network[1]),
        "allocation_pools": [{"start": str(network[10]), "end": str(network[-6])}],
        "enable_dhcp": True,
        "dns_nameservers": ["1.1.1.1"],
        "host_routes": [],
        "description": "",
        "tags": [],
        "revision_number": 1,
    }
    model.subnets[sid] = subnet
    net["subnets"].append(sid)
    return subnet


def seed(model: Model, name: str = "small", seed_value: int = 42) -> SeedInfo:
    """Fill ``model`` with the named estate; the same name and seed give the same estate."""
    if name not in SIZES:
        raise ValueError(f"unknown seed {name!r}; choose from {sorted(SIZES)}")
    from .seed_restore import restore_fixtures  # web-01, the VM examples/restorejob.yaml restores
    from .seed_workloads import workloads  # servers, volumes, snapshots

    model.rng.seed(seed_value)
    size = SIZES[name]
    with model.lock:
        info, projects = _identity(model, size)
        _catalog_things(model, size)
        hosts = _hosts(model, size)
        nets = _networks(model, projects)
        workloads(model, size, projects[1:], hosts, nets, info)
        restore_fixtures(model, nets)
        _fit_quotas(model)
    return info


#: Nova's default limits; a project whose seeded usage passes one gets it raised, as an admin would
#: for a GPU tenant (a cloud does not run with usage above its quota).
_NOVA_DEFAULTS = {"instances": 50, "cores": 400, "ram": 2_048_000}


def _fit_quotas(model: Model) -> None:
    used: dict[str, dict[str, int]] = {}
    for server in model.servers.values():
        flavor = model.flavors[server["flavor_id"]]
        line = used.setdefault(server["tenant_id"], {"instances": 0, "cores": 0, "ram": 0})
        line["instances"] += 1
        line["cores"] += flavor["vcpus"]
        line["ram"] += flavor["ram"]
    for project_id, line in used.items():
        for name, default in _NOVA_DEFAULTS.items():
            if line[name] * 5 > default * 4:  # more than 80 % used: room for growth, in round numbers
                step = 100 if name != "ram" else 1_024_000
                model.quotas.setdefault(project_id, {})[name] = (line[name] * 3 // 2 // step + 1) * step
