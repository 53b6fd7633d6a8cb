"""The Azure stand-in's state: tenant, service principals, issued tokens and a seeded estate."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .arm import WRITE_ACTIONS, ArmStore

__all__ = ["ACTIONS", "AzureEstate", "ServicePrincipal"]

ACTIONS = {
    "virtualMachines": "Microsoft.Compute/virtualMachines/read",
    "disks": "Microsoft.Compute/disks/read",
    "virtualNetworks": "Microsoft.Network/virtualNetworks/read",
}
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION_ID = "c0ffee00-1234-4321-abcd-0123456789ab"
OTHER_SUBSCRIPTION_ID = "deadbeef-5678-8765-dcba-ba9876543210"
LOCATION = "westeurope"


@dataclass
class ServicePrincipal:
    """An app registration with a client secret, the subscriptions it can see and the actions it may do."""

    client_id: str
    secret: str
    object_id: str
    subscriptions: set[str]
    actions: set[str]


@dataclass
class AzureEstate:
    """Everything the stand-in knows; handlers read it on the event loop, tests change it under ``lock``."""

    tenant_id: str = TENANT_ID
    page_size: int = 50
    token_lifetime: int = 3599
    lock: threading.Lock = field(default_factory=threading.Lock)
    principals: dict[str, ServicePrincipal] = field(default_factory=dict)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)
    resources: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    arm: ArmStore = field(default_factory=ArmStore)  # what ARM writes created (see arm.py)

    def add_principal(self, subscriptions: set[str], actions: set[str] | None = None) -> ServicePrincipal:
        """A new service principal with a random client secret (Contributor: every read and write action unless
        given)."""
        principal = ServicePrincipal(
            client_id=str(uuid.uuid4()),
            secret=secrets.token_urlsafe(30),
            object_id=str(uuid.uuid4()),
            subscriptions=set(subscriptions),
            actions=set(ACTIONS.values()) | WRITE_ACTIONS if actions is None else set(actions),
        )
        with self.lock:
            self.principals[principal.client_id] = principal
        return principal

    def issue_token(self, client_id: str) -> str:
        """An opaque bearer token for this client, valid for ``token_lifetime`` seconds."""
        token = "eyJ0eXAi." + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = (client_id, time.time() + self.token_lifetime)
        return token

    def expire_tokens(self) -> None:
        """Every issued token is expired from now on (ARM answers ExpiredAuthenticationToken)."""
        with self.lock:
            self.tokens = {t: (c, 0.0) for t, (c, _) in self.tokens.items()}

    def seed(self, subscription: str, *, vms: int, disks: int, vnets: int, name: str = "Daytwo Test") -> None:
        """Add a subscription with ``vms`` VMs (each with an OS disk), ``disks`` data disks, ``vnets`` VNets."""
        rg = f"/subscriptions/{subscription}/resourceGroups/rg-daytwo"
        created = "2026-01-15T10:30:00.0000000+00:00"
        machines: list[dict[str, Any]] = []
        volumes: list[dict[str, Any]] = []
        networks: list[dict[str, Any]] = []
        for n in range(vnets):
            vnet_id = f"{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{n}"
            prefix = f"10.{n % 250}.0.0"
            networks.append(
                {
                    "name": f"vnet-{n}",
                    "id": vnet_id,
                    "type": "Microsoft.Network/virtualNetworks",
                    "location": LOCATION,
                    "tags": {"env": "test"},
                    "properties": {
                        "provisioningState": "Succeeded",
                        "resourceGuid": str(uuid.uuid4()),
                        "addressSpace": {"addressPrefixes": [f"{prefix}/16"]},
                        "subnets": [
                            {
                                "name": "default",
                                "id": f"{vnet_id}/subnets/default",
                                "properties": {"addressPrefix": f"{prefix}/24", "provisioningState": "Succeeded"},
                            }
                        ],
                    },
                }
            )
        for n in range(vms):
            vm_id = f"{rg}/providers/Microsoft.Compute/virtualMachines/vm-{n}"
            disk_id = f"{rg}/providers/Microsoft.Compute/disks/vm-{n}_OsDisk_1"
            running = n % 3 != 2
            machines.append(
                {
                    "name": f"vm-{n}",
                    "id": vm_id,
                    "type": "Microsoft.Compute/virtualMachines",
                    "location": LOCATION,
                    "tags": {"team": "daytwo"},
                    "zones": [str(n % 3 + 1)],
                    "properties": {
                        "vmId": str(uuid.uuid4()),
                        "hardwareProfile": {"vmSize": "Standard_B2s" if n % 2 == 0 else "Standard_D4s_v5"},
                        "storageProfile": {
                            "osDisk": {"osType": "Linux", "name": f"vm-{n}_OsDisk_1", "managedDisk": {"id": disk_id}}
                        },
                        "networkProfile": {
                            "networkInterfaces": [
                                {"id": f"{rg}/providers/Microsoft.Network/networkInterfaces/vm-{n}-nic"}
                            ]
                        },
                        "provisioningState": "Succeeded",
                        "timeCreated": created,
                        "_power": "PowerState/running" if running else "PowerState/deallocated",
                    },
                }
            )
            volumes.append(_disk(disk_id, f"vm-{n}_OsDisk_1", 30, "Attached", vm_id, created))
        for n in range(disks):
            disk_id = f"{rg}/providers/Microsoft.Compute/disks/data-{n}"
            volumes.append(_disk(disk_id, f"data-{n}", 64 + n, "Unattached", None, created))
        with self.lock:
            self.subscriptions[subscription] = name
            self.resources[subscription] = {"virtualMachines": machines, "disks": volumes, "virtualNetworks": networks}


def _disk(disk_id: str, name: str, size: int, state: str, managed_by: str | None, created: str) -> dict[str, Any]:
    disk: dict[str, Any] = {
        "name": name,
        "id": disk_id,
        "type": "Microsoft.Compute/disks",
        "location": LOCATION,
        "sku": {"name": "Premium_LRS", "tier": "Premium"},
        "tags": {},
        "properties": {
            "diskSizeGB": size,
            "diskState": state,
            "provisioningState": "Succeeded",
            "timeCreated": created,
            "uniqueId": str(uuid.uuid4()),
        },
    }
    if managed_by:
        disk["managedBy"] = managed_by
    return disk
