"""The GCP stand-in (OAuth token + Compute Engine) over TLS with a seeded estate, for tests and demos.

from tests.standins.gcp import run_gcp

with run_gcp(instances=7, disks=2, networks=3, page_size=2) as gcp:
    gcp.url, gcp.ca_pem, gcp.project_id, gcp.token_uri
    gcp.service_account_json                   # key JSON (token_uri = the stand-in) of a full reader
    gcp.nolist_service_account_json            # lacks compute.instances.list
    gcp.forged_service_account_json            # reader's key id, another private key: signature fails
    gcp.faults.fail("/aggregated/", 503, times=2)
    gcp.created("instances"), gcp.labelled("instances", "daytwo-owner", uid)   # what writes made (writes.py)
    gcp.estate.writes.provision_seconds = 2.0    # how long an operation runs
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.standins.azure.httpstandin import Faults, Journal, TlsAppServer

from .app import build_app
from .estate import PERMISSIONS, GcpEstate, ServiceAccount

__all__ = ["GcpStandin", "build_standin", "run_gcp"]


@dataclass
class GcpStandin:
    """A running GCP stand-in: where it is, what to trust, which keys work, faults, journal."""

    server: TlsAppServer
    estate: GcpEstate
    faults: Faults
    journal: Journal
    reader: ServiceAccount
    nolist: ServiceAccount
    forged_service_account_json: str

    @property
    def url(self) -> str:
        """https://127.0.0.1:<port>: the Compute endpoint override."""
        return self.server.url

    @property
    def token_uri(self) -> str:
        """The OAuth token endpoint (the token URI override)."""
        return f"{self.server.url}/token"

    @property
    def ca_pem(self) -> str:
        """The CA that signed the server certificate."""
        return self.server.ca_pem

    @property
    def project_id(self) -> str:
        """The project of the estate."""
        return self.estate.project_id

    @property
    def service_account_json(self) -> str:
        """Key JSON of the reader (every compute read permission)."""
        return json.dumps(self.reader.key_json)

    @property
    def nolist_service_account_json(self) -> str:
        """Key JSON of an account without compute.instances.list."""
        return json.dumps(self.nolist.key_json)

    def created(self, kind: str) -> int:
        """How many instances | disks | networks | subnetworks | buckets the writes created."""
        with self.estate.lock:
            return self.estate.writes.created[kind]

    def labelled(self, kind: str, key: str, value: str) -> list[dict[str, Any]]:
        """The live instances | disks | buckets carrying label key=value."""
        with self.estate.lock:
            items = {
                "instances": self.estate.instances,
                "disks": self.estate.disks,
                "buckets": list(self.estate.writes.buckets.values()),
            }[kind]
            return [i for i in items if (i.get("labels") or {}).get(key) == value]

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far."""
        with self.estate.lock:
            return list(self.estate.tokens)


def build_standin(
    instances: int = 4, disks: int = 2, networks: int = 2, *, page_size: int = 500, port: int = 0
) -> GcpStandin:
    """A stand-in (not started) with the estate and its service accounts."""
    estate = GcpEstate(page_size=page_size)
    faults, journal = Faults(), Journal()
    server = TlsAppServer(build_app(estate, faults, journal), name="gcp", port=port)
    token_uri = f"{server.url}/token"
    estate.seed(instances=instances, disks=disks, networks=networks, base=server.url)
    reader = estate.add_account("daytwo-reader", token_uri)
    nolist = estate.add_account("daytwo-noinstances", token_uri, set(PERMISSIONS.values()) - {PERMISSIONS["instances"]})
    forged = json.dumps(estate.forged_key_json(reader))
    return GcpStandin(server, estate, faults, journal, reader, nolist, forged)


@contextlib.contextmanager
def run_gcp(
    instances: int = 4, disks: int = 2, networks: int = 2, *, page_size: int = 500, port: int = 0
) -> Iterator[GcpStandin]:
    """Start the stand-in on 127.0.0.1 over TLS and yield it; stops it on exit."""
    standin = build_standin(instances, disks, networks, page_size=page_size, port=port)
    standin.server.start()
    try:
        yield standin
    finally:
        standin.server.stop()
