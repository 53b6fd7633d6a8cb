"""The GCP stand-in's state: service accounts (with the RSA keys it issued), tokens, a seeded estate."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .writes import WRITE_PERMISSIONS, WriteStore

__all__ = ["PERMISSIONS", "GcpEstate", "ServiceAccount"]

PROJECT_ID = "daytwo-test-123"
ZONES = ("us-central1-a", "us-central1-b", "europe-west1-b")
PERMISSIONS = {
    "project": "compute.projects.get",
    "instances": "compute.instances.list",
    "disks": "compute.disks.list",
    "networks": "compute.networks.list",
}


@dataclass
class ServiceAccount:
    """A service account with one key: the stand-in keeps only the public half to verify JWTs."""

    email: str
    key_id: str
    public_key: rsa.RSAPublicKey
    key_json: dict[str, str] = field(repr=False)
    permissions: set[str] = field(default_factory=set)


def _new_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key, pem.decode("ascii")


@dataclass
class GcpEstate:
    """Everything the stand-in knows; handlers read it on the event loop, tests change it under ``lock``."""

    project_id: str = PROJECT_ID
    page_size: int = 500
    token_lifetime: int = 3599
    lock: threading.RLock = field(default_factory=threading.RLock)  # re-entered: writes check the caller under it
    accounts: dict[str, ServiceAccount] = field(default_factory=dict)  # by key id
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    instances: list[dict[str, Any]] = field(default_factory=list)
    disks: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    writes: WriteStore = field(default_factory=WriteStore)  # subnetworks, buckets, operations (writes.py)

    def add_account(self, name: str, token_uri: str, permissions: set[str] | None = None) -> ServiceAccount:
        """A service account with a fresh RSA key (every read and write permission unless given); returns it
        with the key JSON a user would download."""
        key, pem = _new_key()
        key_id = secrets.token_hex(20)
        email = f"{name}@{self.project_id}.iam.gserviceaccount.com"
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email,
            "client_id": str(100000000000000000000 + secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }
        account = ServiceAccount(
            email,
            key_id,
            key.public_key(),
            info,
            set(PERMISSIONS.values()) | WRITE_PERMISSIONS if permissions is None else permissions,
        )
        with self.lock:
            self.accounts[key_id] = account
        return account

    def forged_key_json(self, account: ServiceAccount) -> dict[str, str]:
        """The account's key JSON with a different private key (same key id): its JWTs must fail to verify."""
        _, pem = _new_key()
        return {**account.key_json, "private_key": pem}

    def issue_token(self, email: str) -> str:
        """An opaque access token (ya29.<random>) for this service account."""
        token = "ya29.c." + secrets.token_urlsafe(60)
        with self.lock:
            self.tokens[token] = (email, time.time() + self.token_lifetime)
        return token

    def seed(self, *, instances: int, disks: int, networks: int, base: str) -> None:
        """``instances`` VMs round-robin over ZONES (each with a boot disk), ``disks`` extra disks, the
        default network plus ``networks - 1`` custom ones; ``base`` is the API root for selfLinks."""
        project = f"{base}/compute/v1/projects/{self.project_id}"
        created = "2026-01-15T02:30:00.000-08:00"
        nets = [
            {
                "kind": "compute#network",
                "id": str(7000000000000000000 + n),
                "creationTimestamp": created,
                "name": "default" if n == 0 else f"net-{n}",
                "selfLink": f"{project}/global/networks/{'default' if n == 0 else f'net-{n}'}",
                "autoCreateSubnetworks": n == 0,
                "subnetworks": [f"{project}/regions/us-central1/subnetworks/{'default' if n == 0 else f'net-{n}'}"],
                "routingConfig": {"routingMode": "REGIONAL"},
                "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
            }
            for n in range(max(networks, 0))
        ]
        vms, vols = [], []
        for n in range(instances):
            zone = ZONES[n % len(ZONES)]
            machine = "e2-medium" if n % 2 == 0 else "n2-standard-4"
            disk = {
                "kind": "compute#disk",
                "id": str(5000000000000000000 + n),
                "creationTimestamp": created,
                "name": f"vm-{n}",
                "sizeGb": "10",
                "zone": f"{project}/zones/{zone}",
                "status": "READY",
                "selfLink": f"{project}/zones/{zone}/disks/vm-{n}",
                "type": f"{project}/zones/{zone}/diskTypes/pd-balanced",
                "users": [f"{project}/zones/{zone}/instances/vm-{n}"],
                "labels": {"team": "daytwo"},
            }
            vols.append(disk)
            vms.append(
                {
                    "kind": "compute#instance",
                    "id": str(3000000000000000000 + n),
                    "creationTimestamp": created,
                    "name": f"vm-{n}",
                    "machineType": f"{project}/zones/{zone}/machineTypes/{machine}",
                    "status": "RUNNING" if n % 4 != 3 else "TERMINATED",
                    "zone": f"{project}/zones/{zone}",
                    "networkInterfaces": [
                        {
                            "network": f"{project}/global/networks/default",
                            "networkIP": f"10.128.0.{n % 250 + 2}",
                            "name": "nic0",
                        }
                    ],
                    "disks": [{"boot": True, "source": disk["selfLink"], "deviceName": "persistent-disk-0"}],
                    "labels": {"team": "daytwo"},
                    "selfLink": f"{project}/zones/{zone}/instances/vm-{n}",
                }
            )
        for n in range(disks):
            zone = ZONES[n % len(ZONES)]
            vols.append(
                {
                    "kind": "compute#disk",
                    "id": str(6000000000000000000 + n),
                    "creationTimestamp": created,
                    "name": f"data-{n}",
                    "sizeGb": str(100 + n),
                    "zone": f"{project}/zones/{zone}",
                    "status": "READY",
                    "selfLink": f"{project}/zones/{zone}/disks/data-{n}",
                    "type": f"{project}/zones/{zone}/diskTypes/pd-ssd",
                }
            )
        with self.lock:
            self.instances, self.disks, self.networks = vms, vols, nets
