"""The Azure stand-in (Entra token + ARM) over TLS with a seeded estate, for tests and demos.

from tests.standins.azure import run_azure

with run_azure(vms=7, disks=2, vnets=3, page_size=2) as az:
    az.url, az.ca_pem, az.tenant_id, az.subscription_id
    az.client_id, az.client_secret                 # Contributor on the subscription (reads and ARM writes)
    az.novm_client_id, az.novm_client_secret       # lacks Microsoft.Compute/virtualMachines/read
    az.elsewhere_client_id, az.elsewhere_client_secret   # cannot see the subscription
    az.faults.fail("/subscriptions", 503, times=2)  # faults and journal: see httpstandin
    az.created("Microsoft.Compute/virtualMachines"), az.live(...)  # what ARM writes made (see arm.py)
    az.estate.arm.provision_seconds = 2.0          # how long a long-running operation runs
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .app import build_app
from .estate import ACTIONS, LOCATION, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, AzureEstate, ServicePrincipal
from .httpstandin import Faults, Journal, TlsAppServer

__all__ = ["AzureStandin", "build_standin", "run_azure"]


@dataclass
class AzureStandin:
    """A running Azure stand-in: where it is, what to trust, which principals work, faults, journal."""

    server: TlsAppServer
    estate: AzureEstate
    faults: Faults
    journal: Journal
    subscription_id: str
    reader: ServicePrincipal
    novm: ServicePrincipal
    elsewhere: ServicePrincipal

    @property
    def url(self) -> str:
        """https://127.0.0.1:<port>: both the authority host and the management endpoint."""
        return self.server.url

    @property
    def ca_pem(self) -> str:
        """The CA that signed the server certificate."""
        return self.server.ca_pem

    @property
    def tenant_id(self) -> str:
        """The tenant every principal lives in."""
        return self.estate.tenant_id

    @property
    def client_id(self) -> str:
        """Contributor on the subscription: every read, and the ARM writes of arm.py."""
        return self.reader.client_id

    @property
    def client_secret(self) -> str:
        """The reader's client secret."""
        return self.reader.secret

    @property
    def novm_client_id(self) -> str:
        """Sees the subscription, lacks Microsoft.Compute/virtualMachines/read."""
        return self.novm.client_id

    @property
    def novm_client_secret(self) -> str:
        """Its client secret."""
        return self.novm.secret

    @property
    def elsewhere_client_id(self) -> str:
        """Valid in the tenant, but the subscription is not visible to it."""
        return self.elsewhere.client_id

    @property
    def elsewhere_client_secret(self) -> str:
        """Its client secret."""
        return self.elsewhere.secret

    def created(self, type_name: str) -> int:
        """How many resources of an ARM type (e.g. Microsoft.Compute/virtualMachines) ARM writes created."""
        with self.estate.lock:
            return self.estate.arm.created[type_name]

    def live(self, type_name: str) -> list[dict[str, Any]]:
        """The created resources of an ARM type that exist now (operations due are settled first)."""
        with self.estate.lock:
            self.estate.arm.settle()
            return [item for item in self.estate.arm.items.values() if item["type"] == type_name]

    def add_network(self, group: str, name: str, cidr: str, subnets: dict[str, str]) -> str:
        """A resource group (westeurope) with a VNet and its subnets, made directly (not through ARM writes, so
        not counted in ``created``); returns the VNet's id."""
        rg_id = f"/subscriptions/{self.subscription_id}/resourceGroups/{group}"
        vnet_id = f"{rg_id}/providers/Microsoft.Network/virtualNetworks/{name}"
        subnet_items = [
            {
                "name": subnet,
                "id": f"{vnet_id}/subnets/{subnet}",
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "properties": {"addressPrefix": prefix, "provisioningState": "Succeeded"},
            }
            for subnet, prefix in subnets.items()
        ]
        vnet = {
            "id": vnet_id,
            "name": name,
            "type": "Microsoft.Network/virtualNetworks",
            "location": LOCATION,
            "tags": {},
            "properties": {
                "provisioningState": "Succeeded",
                "addressSpace": {"addressPrefixes": [cidr]},
                "subnets": subnet_items,
            },
        }
        with self.estate.lock:
            arm = self.estate.arm
            arm.groups.setdefault(
                rg_id.lower(),
                {"id": rg_id, "name": group, "type": "Microsoft.Resources/resourceGroups", "location": LOCATION,
                 "tags": {}, "properties": {"provisioningState": "Succeeded"}},
            )  # fmt: skip
            arm.items[vnet_id.lower()] = vnet
            for subnet_item in subnet_items:
                arm.items[str(subnet_item["id"]).lower()] = subnet_item
        return vnet_id

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (tests check none of them leaks into logs)."""
        with self.estate.lock:
            return list(self.estate.tokens)


def build_standin(vms: int = 4, disks: int = 2, vnets: int = 2, *, page_size: int = 50, port: int = 0) -> AzureStandin:
    """A stand-in (not started) with the estate and three service principals."""
    estate = AzureEstate(page_size=page_size)
    estate.seed(SUBSCRIPTION_ID, vms=vms, disks=disks, vnets=vnets)
    estate.seed(OTHER_SUBSCRIPTION_ID, vms=1, disks=0, vnets=1, name="Somebody Else")
    reader = estate.add_principal({SUBSCRIPTION_ID})
    novm = estate.add_principal({SUBSCRIPTION_ID}, set(ACTIONS.values()) - {ACTIONS["virtualMachines"]})
    elsewhere = estate.add_principal({OTHER_SUBSCRIPTION_ID})
    faults, journal = Faults(), Journal()
    server = TlsAppServer(build_app(estate, faults, journal), name="azure", port=port)
    return AzureStandin(server, estate, faults, journal, SUBSCRIPTION_ID, reader, novm, elsewhere)


@contextlib.contextmanager
def run_azure(
    vms: int = 4, disks: int = 2, vnets: int = 2, *, page_size: int = 50, port: int = 0
) -> Iterator[AzureStandin]:
    """Start the stand-in on 127.0.0.1 over TLS and yield it; stops it on exit."""
    standin = build_standin(vms, disks, vnets, page_size=page_size, port=port)
    standin.server.start()
    try:
        yield standin
    finally:
        standin.server.stop()
