"""Plain, immutable results of Proxmox VE calls: what reconcilers and the facade read, no SDK types."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ...errors import TerminalError

__all__ = [
    "CloneOptions",
    "ClusterStatus",
    "Guest",
    "GuestCounts",
    "GuestRef",
    "GuestType",
    "NodeCertificate",
    "NodeStatus",
    "NodeSummary",
    "Snapshot",
    "TaskFailed",
    "TaskState",
    "TaskStatus",
    "VersionInfo",
    "percent",
]

GuestType = Literal["vm", "lxc"]
TaskState = Literal["running", "stopped"]

# PVE's API path segment for each guest type.
API_KIND: dict[GuestType, str] = {"vm": "qemu", "lxc": "lxc"}


def percent(used: float, total: float) -> float:
    """used/total as 0-100 with one decimal, 0.0 when total is unknown (the PMI dashboard's *_percentage)."""
    return round(100.0 * used / total, 1) if total > 0 else 0.0


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0


def split_tags(value: Any) -> tuple[str, ...]:
    """PVE's tag list ('a;b', 'a,b' or 'a b') as a tuple."""
    text = str(value or "").replace(",", ";").replace(" ", ";")
    return tuple(tag for tag in text.split(";") if tag)


class TaskFailed(TerminalError):
    """A PVE task ended with an exit status other than OK; ``exitstatus`` is PVE's message."""

    reason = "TaskFailed"

    def __init__(self, message: str, *, upid: str, exitstatus: str) -> None:
        super().__init__(message)
        self.upid = upid
        self.exitstatus = exitstatus


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """GET /version: the PVE release, e.g. version '8.2.4', release '8.2'."""

    version: str
    release: str
    repoid: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VersionInfo:
        """Build from the /version answer."""
        return cls(str(data.get("version", "")), str(data.get("release", "")), str(data.get("repoid", "")))


@dataclass(frozen=True, slots=True)
class NodeCertificate:
    """One entry of GET /nodes/{node}/certificates/info (PVE's schema: notbefore/notafter are epoch seconds)."""

    node: str
    filename: str
    subject: str
    issuer: str
    notbefore: int
    notafter: int
    fingerprint: str
    san: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, node: str, data: Mapping[str, Any]) -> NodeCertificate:
        """Build from one item of the certificates/info answer (the PEM itself is not kept)."""
        return cls(
            node,
            str(data.get("filename", "")),
            str(data.get("subject", "")),
            str(data.get("issuer", "")),
            int(data.get("notbefore") or 0),
            int(data.get("notafter") or 0),
            str(data.get("fingerprint", "")),
            tuple(str(name) for name in data.get("san") or ()),
        )


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """GET /cluster/status: the cluster name (None for a standalone node), quorum and node membership."""

    name: str | None
    quorate: bool
    nodes_total: int
    nodes_online: int

    @classmethod
    def from_api(cls, items: Iterable[Mapping[str, Any]]) -> ClusterStatus:
        """Build from the /cluster/status list (one 'cluster' entry plus one per node)."""
        rows = list(items)
        cluster = next((r for r in rows if r.get("type") == "cluster"), None)
        nodes = [r for r in rows if r.get("type") == "node"]
        online = sum(1 for r in nodes if _int(r.get("online")))
        if cluster is None:  # a standalone node is quorate by itself
            return cls(None, True, len(nodes), online)
        return cls(str(cluster.get("name")), bool(_int(cluster.get("quorate"))), len(nodes), online)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Usage:
    """The usage fields PVE reports for nodes and guests alike: cpu a 0-1 fraction of maxcpu cores, bytes, seconds."""

    cpu: float
    maxcpu: int
    mem: int
    maxmem: int
    disk: int
    maxdisk: int
    uptime: int


def _usage(data: Mapping[str, Any], maxcpu: Any = None) -> dict[str, Any]:
    """The :class:`_Usage` fields of one /nodes or /cluster/resources entry (absent or unreadable ones 0)."""
    return {
        "cpu": _float(data.get("cpu")),
        "maxcpu": _int(data.get("maxcpu") if maxcpu is None else maxcpu),
        **{key: _int(data.get(key)) for key in ("mem", "maxmem", "disk", "maxdisk", "uptime")},
    }


@dataclass(frozen=True, slots=True)
class NodeSummary(_Usage):
    """One entry of GET /nodes: online state and usage (usage fields keyword-only)."""

    node: str
    online: bool
    status: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> NodeSummary:
        """Build from one /nodes entry; an offline node has no usage fields."""
        status = str(data.get("status", "unknown"))
        return cls(
            node=str(data["node"]),
            online=status == "online",
            status=status,
            **_usage(data),
        )

    @property
    def cpu_percent(self) -> float:
        """CPU use 0-100 (the PMI dashboard's cpu_usage)."""
        return round(self.cpu * 100.0, 1)

    @property
    def memory_percent(self) -> float:
        """Memory use 0-100 (memory_percentage)."""
        return percent(self.mem, self.maxmem)

    @property
    def disk_percent(self) -> float:
        """Root disk use 0-100 (disk_percentage)."""
        return percent(self.disk, self.maxdisk)


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """GET /nodes/{node}/status: usage, load, uptime and versions of one node."""

    node: str
    cpu: float
    cpus: int
    memory_used: int
    memory_total: int
    rootfs_used: int
    rootfs_total: int
    uptime: int
    loadavg: tuple[float, ...]
    pveversion: str
    kernel: str

    # Duplicate scan: shaped like OpenStack's hypervisor converter (one keyword per capacity field); the two
    # read different APIs' keys.
    @classmethod
    def from_api(cls, node: str, data: Mapping[str, Any]) -> NodeStatus:
        """Build from the node status answer, tolerating missing sections."""
        memory = data.get("memory") or {}
        rootfs = data.get("rootfs") or {}
        cpuinfo = data.get("cpuinfo") or {}
        kernel = data.get("current-kernel") or {}
        loadavg: list[float] = []
        for value in data.get("loadavg") or ():
            try:
                loadavg.append(float(value))
            except (TypeError, ValueError):
                continue
        return cls(
            node=node,
            cpu=_float(data.get("cpu")),
            cpus=_int(cpuinfo.get("cpus")),
            memory_used=_int(memory.get("used")),
            memory_total=_int(memory.get("total")),
            rootfs_used=_int(rootfs.get("used")),
            rootfs_total=_int(rootfs.get("total")),
            uptime=_int(data.get("uptime")),
            loadavg=tuple(loadavg),
            pveversion=str(data.get("pveversion", "")),
            kernel=str(kernel.get("release", data.get("kversion", ""))),
        )


@dataclass(frozen=True, slots=True)
class GuestRef:
    """Which guest: node, vmid and type (vm = qemu, lxc = container)."""

    node: str
    vmid: int
    type: GuestType = "vm"

    @property
    def api_kind(self) -> str:
        """The API path segment: qemu or lxc."""
        return API_KIND[self.type]


@dataclass(frozen=True, slots=True)
class Guest(_Usage):
    """One VM or container of the inventory (usage fields, keyword-only, as /cluster/resources gives them)."""

    vmid: int
    name: str
    node: str
    type: GuestType
    status: str
    tags: tuple[str, ...]
    template: bool
    lock: str | None
    netin: int = 0  # bytes received since the guest started (PVE's counter)
    netout: int = 0  # bytes sent since the guest started

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, node: str | None = None, type_: GuestType | None = None) -> Guest:
        """Build from a /cluster/resources or /nodes/{node}/{qemu,lxc} entry."""
        kind: GuestType = type_ or ("lxc" if data.get("type") == "lxc" else "vm")
        return cls(
            vmid=_int(data.get("vmid")),
            name=str(data.get("name") or ""),
            node=str(node or data.get("node") or ""),
            type=kind,
            status=str(data.get("status") or "unknown"),
            **_usage(data, data.get("maxcpu", data.get("cpus"))),
            tags=split_tags(data.get("tags")),
            template=bool(_int(data.get("template"))),
            lock=str(data["lock"]) if data.get("lock") else None,
            netin=_int(data.get("netin")),
            netout=_int(data.get("netout")),
        )

    @property
    def ref(self) -> GuestRef:
        """The reference power and snapshot calls take."""
        return GuestRef(self.node, self.vmid, self.type)


@dataclass(frozen=True, slots=True)
class GuestCounts:
    """Inventory summary for ProxmoxNode status: totals by type and by power state."""

    total: int
    vms: int
    containers: int
    running: int
    stopped: int
    templates: int
    by_node: Mapping[str, int]

    @classmethod
    def of(cls, guests: Iterable[Guest]) -> GuestCounts:
        """Count a list of guests."""
        items = list(guests)
        return cls(
            total=len(items),
            vms=sum(1 for g in items if g.type == "vm"),
            containers=sum(1 for g in items if g.type == "lxc"),
            running=sum(1 for g in items if g.status == "running"),
            stopped=sum(1 for g in items if g.status == "stopped"),
            templates=sum(1 for g in items if g.template),
            by_node=dict(sorted(Counter(g.node for g in items).items())),
        )


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """GET /nodes/{node}/tasks/{upid}/status: running, or stopped with PVE's exit status."""

    upid: str
    node: str
    state: TaskState
    exitstatus: str | None
    type: str

    @classmethod
    def from_api(cls, node: str, upid: str, data: Mapping[str, Any]) -> TaskStatus:
        """Build from the task status answer."""
        state: TaskState = "running" if data.get("status") == "running" else "stopped"
        exitstatus = data.get("exitstatus")
        exit_text = None if exitstatus is None else str(exitstatus)
        return cls(upid, node, state, exit_text, str(data.get("type", "")))

    @property
    def done(self) -> bool:
        """True once the task stopped, whatever its outcome."""
        return self.state == "stopped"

    @property
    def succeeded(self) -> bool:
        """True for a stopped task whose exit status is OK (or PVE's 'WARNINGS: n', which also succeeded)."""
        return self.done and (self.exitstatus == "OK" or (self.exitstatus or "").startswith("WARNINGS"))

    def raise_for_exitstatus(self) -> None:
        """Raise TaskFailed if the task stopped with an error; a running or succeeded task passes."""
        if self.done and not self.succeeded:
            raise TaskFailed(
                f"Proxmox task {self.type or 'task'} on node {self.node} failed: {self.exitstatus}",
                upid=self.upid,
                exitstatus=self.exitstatus or "",
            )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One snapshot of a guest (the 'current' pseudo-entry is left out)."""

    name: str
    description: str
    snaptime: int
    vmstate: bool
    parent: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Snapshot:
        """Build from one GET .../snapshot entry."""
        return cls(
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            snaptime=_int(data.get("snaptime")),
            vmstate=bool(_int(data.get("vmstate"))),
            parent=str(data["parent"]) if data.get("parent") else None,
        )


class CloneOptions(TypedDict, total=False):
    """The keyword options of ``clone``, declared once for :class:`ProxmoxBackend` and the implementation."""

    name: str | None  # the new guest's name (hostname for a container)
    snapshot: str | None  # clone this snapshot instead of the current state
    full: bool  # default True: a full copy, not a linked clone
    target_node: str | None
    description: str | None
