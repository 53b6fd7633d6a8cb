"""fakepve served over TLS with a CA made at test time, an estate of N nodes x M guests, and faults.

    from tests.standins.proxmox import run_fakepve

    with run_fakepve(nodes=2, guests_per_node=5) as pve:
        pve.host, pve.port, pve.ca_pem, pve.token_id, pve.token_secret
        pve.slow_network(0.2)                       # faults: see PveStandin

fakepve runs on its own event loop in a daemon thread of this process. Change its state from a test
through ``PveStandin.call`` (or the fault helpers), which run on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web
from fakepve import FakePve, settle  # type: ignore[import-untyped]
from fakepve.shapes import PRIVILEGES  # type: ignore[import-untyped]

from ._pki import CertificateAuthority

__all__ = ["CertMode", "GuestSpec", "PveStandin", "build_fakepve", "closed_port", "run_fakepve"]

T = TypeVar("T")
CertMode = Literal["valid", "foreign-ca", "wrong-host"]
HOST = "127.0.0.1"
TOKEN_ID = "daytwo@pve!operator"
# Same privileges as TOKEN_ID minus VM.PowerMgmt: power calls answer 403 as PVE does.
NOPOWER_TOKEN_ID = "daytwo-audit@pve!operator"
_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class GuestSpec:
    """One guest of the estate."""

    node: str
    vmid: int
    type: Literal["vm", "lxc"]
    name: str
    status: str


#: Uptime the stand-in's nodes report when it starts (then it grows with the clock).
_BOOT_UPTIME = 3600


class GrowingUptimePve(FakePve):  # type: ignore[misc]
    """fakepve whose nodes report an uptime that grows with the clock, as a real node's does.

    fakepve itself reports a constant uptime, which hid status churn driven by it (a status holding the
    uptime would be rewritten on every pass against a real node). Only the node figures change.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.booted_at = time.time() - _BOOT_UPTIME
        #: node -> its certificates/info entry (made on first read; ``set_certificate`` replaces it)
        self.certificates: dict[str, dict[str, Any]] = {}

    def _node_stats(self, online: bool) -> dict[str, object]:
        stats = dict(FakePve._node_stats(online))
        if stats:
            stats["uptime"] = int(time.time() - self.booted_at)
        return stats

    def _build_app(self) -> web.Application:
        app = super()._build_app()
        # Test control (authenticated like the API): PUT /_standin/guests/{vmid}/stats {"cpu": 0.97, ...}
        # sets the usage a guest reports (as a real guest under load would); {} clears it.
        app.router.add_put("/_standin/guests/{vmid}/stats", self._set_guest_stats)
        return app

    async def _set_guest_stats(self, request: web.Request) -> web.Response:
        vmid = int(request.match_info["vmid"])
        stats = json.loads(await request.read() or b"{}")
        guests = [guest for guest in (*self.vms, *getattr(self, "cts", ())) if guest.vmid == vmid]
        if not guests or not isinstance(stats, dict):
            return web.json_response({"error": f"no guest {vmid}"}, status=404)
        for guest in guests:
            guest.stats.clear()
            guest.stats.update(stats)
        return web.json_response({"data": stats})

    def set_certificate(self, node: str, days_left: float) -> None:
        """Give ``node`` a new pve-ssl.pem that expires ``days_left`` days from now."""
        self.certificates[node] = _node_certificate(node, days_left)

    def _routes_certificates(self) -> list[tuple[str, str, Callable[..., Any]]]:
        """GET /nodes/{node}/certificates/info as PVE answers it (Sys.Audit; one entry per certificate file)."""

        async def info(values: dict[str, Any], user: object) -> list[dict[str, Any]]:
            node = str(values["node"])
            if node not in self.certificates:
                self.certificates[node] = _node_certificate(node, NODE_CERT_DAYS)
            return [self.certificates[node]]

        return [("GET", "/nodes/{node}/certificates/info", info)]


#: Lifetime of a node's pve-ssl.pem unless a test sets another (PVE issues node certificates for 2 years).
NODE_CERT_DAYS = 730


def _node_certificate(node: str, days_left: float) -> dict[str, Any]:
    """One certificates/info entry (PVE's fields) of a freshly made certificate for ``node``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Proxmox Virtual Environment"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PVE Cluster Manager CA"),
        ]
    )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{node}.lab"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PVE Cluster Node"),
        ]
    )
    not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days_left)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(node), x509.DNSName(f"{node}.lab")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return {
        "filename": "pve-ssl.pem",
        "fingerprint": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        "issuer": "/CN=Proxmox Virtual Environment/O=PVE Cluster Manager CA",
        "subject": f"/CN={node}.lab/O=PVE Cluster Node",
        "notbefore": int(not_before.timestamp()),
        "notafter": int(not_after.timestamp()),
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "public-key-bits": 256,
        "public-key-type": "id-ecPublicKey",
        "san": [node, f"{node}.lab"],
    }


def _estate(pve: FakePve, nodes: int, guests_per_node: int) -> list[GuestSpec]:
    """pve1..pveN, each with M guests: every 4th an LXC container, every other one running."""
    specs: list[GuestSpec] = []
    for n in range(1, nodes + 1):
        node = f"pve{n}"
        pve.add_node(node)
        for i in range(guests_per_node):
            vmid = 100 + (n - 1) * guests_per_node + i
            status = "running" if (i + n) % 2 == 0 else "stopped"
            tags = "daytwo;prod" if i % 3 == 0 else ""
            if i % 4 == 3:
                name = f"ct-{node}-{i}"
                config = {"memory": 1024, "cores": 1, "rootfs": f"local-lvm:vm-{vmid}-disk-0,size=8G"}
                if tags:
                    config["tags"] = tags
                pve.add_ct(vmid, name, node=node, status=status, config=config)
                specs.append(GuestSpec(node, vmid, "lxc", name, status))
            else:
                name = f"vm-{node}-{i}"
                config = {"memory": 2048, "cores": 2, "scsi0": f"local-lvm:vm-{vmid}-disk-0,size=32G"}
                if tags:
                    config["tags"] = tags
                pve.add_vm(vmid, name, node=node, status=status, config=config)
                specs.append(GuestSpec(node, vmid, "vm", name, status))
    return specs


def build_fakepve(
    nodes: int = 1,
    guests_per_node: int = 4,
    *,
    host: str = HOST,
    port: int = 0,
    time_scale: float = 1.0,
    token_secret: str | None = None,
) -> tuple[FakePve, list[GuestSpec], dict[str, str]]:
    """A FakePve (not started) with the estate, two API tokens and ACLs; returns (pve, guests, tokens).

    ``token_secret`` fixes the operator token's secret (the demo uses the one in examples/); random otherwise.
    """
    pve = GrowingUptimePve(user="root@pam", password=secrets.token_urlsafe(16), host=host, port=port)
    pve.time_scale = time_scale
    pve.nodes.clear()
    guests = _estate(pve, nodes, guests_per_node)
    if not pve.nodes:
        pve.add_node("pve1")
    tokens = {TOKEN_ID: token_secret or str(uuid.uuid4()), NOPOWER_TOKEN_ID: str(uuid.uuid4())}
    pve.apitokens.update(tokens)
    pve.grant(TOKEN_ID.split("!")[0], "/", *PRIVILEGES)
    pve.grant(NOPOWER_TOKEN_ID.split("!")[0], "/", *(p for p in PRIVILEGES if p != "VM.PowerMgmt"))
    return pve, guests, tokens


def closed_port(host: str = HOST) -> int:
    """A port nothing listens on (bound, then released): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class PveStandin:
    """A running fakepve: where it is, what to trust, which tokens work, and fault switches."""

    pve: FakePve
    loop: asyncio.AbstractEventLoop
    host: str
    port: int
    ca_pem: str
    token_id: str
    token_secret: str
    nopower_token_id: str
    nopower_token_secret: str
    guests: list[GuestSpec] = field(default_factory=list)

    @property
    def url(self) -> str:
        """https://host:port."""
        return f"https://{self.host}:{self.port}"

    @property
    def nodes(self) -> list[str]:
        """Node names, sorted."""
        return sorted(self.pve.nodes)

    def call(self, fn: Callable[[FakePve], T]) -> T:
        """Run fn(pve) on the fake's event loop and return its result (safe while requests are served)."""

        async def run() -> T:
            return fn(self.pve)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(_START_TIMEOUT)

    def guest(self, type_: Literal["vm", "lxc"] = "vm", status: str | None = None) -> GuestSpec:
        """The first guest of this type (and status)."""
        return next(g for g in self.guests if g.type == type_ and (status is None or g.status == status))

    # ------------------------------------------------------------------ faults

    def slow_network(self, seconds: float) -> None:
        """Every answer is delayed by this many real seconds (fakepve latency, scaled by time_scale)."""
        scale = self.pve.time_scale or 1.0
        self.call(lambda p: p.slow_network(seconds / scale))

    def flaky_network(self, drop_rate: float, *, seed: int | None = 7) -> None:
        """Reset the connection (after the TLS handshake, before answering) for this share of requests."""
        self.call(lambda p: p.flaky_network(drop_rate=drop_rate, seed=seed))
        self.call(lambda p: p._random.seed(seed))

    def hang(self, rate: float = 1.0, seconds: float = 3.0) -> None:
        """This share of requests gets no answer for `seconds` (real seconds at time_scale 1)."""
        scale = self.pve.time_scale or 1.0
        self.call(lambda p: p.flaky_network(hang_rate=rate, hang_secs=seconds / scale))

    def calm_network(self) -> None:
        """Undo slow_network, flaky_network and hang."""
        self.call(lambda p: (p.slow_network(0.0), p.flaky_network()))

    def fail_start(self, vmid: int, message: str) -> None:
        """The next start task of this guest ends with 'TASK ERROR: message' (exitstatus = message)."""

        def set_error(p: FakePve) -> None:
            p.guest(vmid).start_error = message

        self.call(set_error)

    def fail(self, method: str, path_suffix: str, status: int, message: str, times: int | None = None) -> None:
        """Answer requests whose path ends with path_suffix with status and message (times: then stop)."""
        self.call(lambda p: p.fail(method, path_suffix, status, message, times=times))

    def clear_failures(self) -> None:
        """Forget every fail()."""
        self.call(lambda p: p.failures.clear())

    def node_uptime(self) -> int:
        """The uptime (seconds) the nodes report now; it grows with the clock."""
        return int(self.call(lambda p: p._node_stats(True))["uptime"])

    def request_count(self) -> int:
        """Requests the fake has seen."""
        return self.call(lambda p: len(p.requests))


class _Serving:
    """A FakePve served on a private event loop in a daemon thread."""

    def __init__(self, pve: FakePve, certfile: str, keyfile: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pve = pve
        self.thread = threading.Thread(target=self._run, name=f"fakepve-{pve.port}", daemon=True)
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(pve.start(certfile, keyfile), self.loop).result(_START_TIMEOUT)
        except BaseException:
            self._halt()
            raise

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _halt(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(_START_TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()

    def stop(self) -> None:
        try:
            for coro in (settle(), self.pve.stop()):
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(coro, self.loop).result(_START_TIMEOUT)
        finally:
            self._halt()


@contextlib.contextmanager
def run_fakepve(
    nodes: int = 1,
    guests_per_node: int = 4,
    *,
    cert: CertMode = "valid",
    time_scale: float = 1.0,
) -> Iterator[PveStandin]:
    """Start fakepve on 127.0.0.1 (free port) over TLS and yield a PveStandin; stops it on exit.

    cert: 'valid' (signed by the CA in ca_pem), 'foreign-ca' (signed by another CA: verification fails),
    'wrong-host' (signed by the CA but for another name: hostname check fails).
    time_scale: real seconds per PVE second; at the default 1 tasks run in the background as on PVE.
    """
    workdir = tempfile.mkdtemp(prefix="daytwo-fakepve-")
    try:
        trusted = CertificateAuthority("daytwo test CA")
        signer = CertificateAuthority("some other CA") if cert == "foreign-ca" else trusted
        hosts = ("pve.elsewhere.example",) if cert == "wrong-host" else (HOST, "localhost")
        server = signer.issue(workdir, hosts)
        pve, guests, tokens = build_fakepve(nodes, guests_per_node, time_scale=time_scale)
        serving = _Serving(pve, server.certfile, server.keyfile)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the key is loaded; nothing needs the files
    try:
        yield PveStandin(
            pve=pve,
            loop=serving.loop,
            host=HOST,
            port=pve.port,
            ca_pem=trusted.pem,
            token_id=TOKEN_ID,
            token_secret=tokens[TOKEN_ID],
            nopower_token_id=NOPOWER_TOKEN_ID,
            nopower_token_secret=tokens[NOPOWER_TOKEN_ID],
            guests=guests,
        )
    finally:
        serving.stop()
