"""The GCP backend (google-auth + Compute REST) against the TLS stand-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from daytwo.operator.backends.gcp import GcpBackend, GcpClientFactory
from daytwo.operator.backends.records import InventoryKind
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import AuthFailed, InvalidRequest, NotFound, PermissionDenied, Timeout, Unavailable

from tests.standins.gcp import GcpStandin

from .conftest import DISKS, INSTANCES, NETWORKS, params


def test_validate(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    client = factory.get(params(gcp))
    assert isinstance(client, GcpBackend)
    identity = client.validate()
    assert (identity.provider, identity.project, identity.account) == ("gcp", gcp.project_id, gcp.project_id)
    assert identity.principal == gcp.reader.email
    assert datetime.fromisoformat(identity.details["token_expiry"]) > datetime.now(UTC)
    token_calls = gcp.journal.entries("^/token$")
    assert [(e.status, e.principal) for e in token_calls] == [(200, gcp.reader.email)]


def test_key_signed_by_another_private_key_is_auth_failed(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    forged = params(gcp, service_account_json=gcp.forged_service_account_json)
    with pytest.raises(AuthFailed, match="Invalid JWT Signature"):
        factory.get(forged).validate()
    assert [e.status for e in gcp.journal.entries("^/token$")] == [400], "a 400 is never retried"


def test_unknown_key_is_auth_failed(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    info = json.loads(gcp.service_account_json)
    info["private_key_id"] = "0" * 40
    with pytest.raises(AuthFailed, match="account not found"):
        factory.get(params(gcp, service_account_json=json.dumps(info))).validate()


def test_missing_list_permission_is_named(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    client = factory.get(params(gcp, service_account_json=gcp.nolist_service_account_json))
    client.validate()
    with pytest.raises(PermissionDenied) as caught:
        client.inventory(["vms"])
    assert caught.value.missing == "compute.instances.list"
    assert gcp.journal.count("aggregated/instances") == 1, "a 403 is never retried"


def test_unknown_project_is_not_found(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    with pytest.raises(NotFound, match="projects/other-project"):
        factory.get(params(gcp, project_id="other-project")).validate()


def test_inventory_every_kind_every_page(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    inventory = factory.get(params(gcp, page_size=3)).inventory()
    assert inventory.counts() == {"vms": INSTANCES, "storage": INSTANCES + DISKS, "networks": NETWORKS}
    assert gcp.journal.count("aggregated/instances") == 3, "7 instances at 3 per page"
    assert gcp.journal.count("aggregated/disks") == 3 and gcp.journal.count("global/networks") == 1
    vms = inventory.of_kind(InventoryKind.VMS)
    assert [v.name for v in vms] == [f"vm-{n}" for n in range(INSTANCES)]
    assert {v.status for v in vms} == {"running", "terminated"}
    assert {v.region for v in vms} == {"us-central1", "europe-west1"}
    assert vms[0].metadata["machine_type"] == "e2-medium" and vms[0].metadata["label:team"] == "daytwo"
    disk = next(d for d in inventory.of_kind(InventoryKind.STORAGE) if d.name == "data-0")
    assert disk.metadata["disk_type"] == "pd-ssd" and disk.status == "ready"
    net = inventory.of_kind(InventoryKind.NETWORKS)[0]
    assert (net.name, net.region) == ("default", "global")


def test_short_outage_is_retried(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    gcp.faults.fail("aggregated/disks", 503, times=2)
    assert factory.get(params(gcp, page_size=500)).inventory(["storage"]).counts() == {"storage": INSTANCES + DISKS}
    assert [e.status for e in gcp.journal.entries("aggregated/disks")] == [503, 503, 200]


def test_rate_limit_403_is_retried(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    gcp.faults.fail("global/networks", 429, times=1)
    assert factory.get(params(gcp)).inventory(["networks"]).counts() == {"networks": NETWORKS}


def test_long_outage_is_unavailable(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    gcp.faults.fail("/compute/", 503, times=None)
    with pytest.raises(Unavailable, match="UNAVAILABLE"):
        factory.get(params(gcp)).validate()
    assert gcp.journal.count("/compute/") == 3


def test_token_endpoint_outage_is_unavailable(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    gcp.faults.fail("^/token$", 503, times=None)
    with pytest.raises(Unavailable, match="internal_failure"):
        factory.get(params(gcp)).validate()
    assert gcp.journal.count("^/token$") == 3, "google-auth tries the token endpoint 3 times"


def test_bad_key_json_never_echoes_it(gcp: GcpStandin) -> None:
    with pytest.raises(InvalidRequest, match="not a JSON object") as caught:
        params(gcp, service_account_json='{"private_key": "-----BEGIN')
    assert "BEGIN" not in str(caught.value)


def test_slow_compute_is_timeout(gcp: GcpStandin) -> None:
    factory = GcpClientFactory(policy=RetryPolicy(retries=0))
    gcp.faults.slow(1.5, "global/networks")
    try:
        with pytest.raises(Timeout):
            factory.get(params(gcp, timeout_seconds=0.3)).inventory(["networks"])
    finally:
        gcp.faults.clear()
        factory.close()


def test_factory_caches_and_replaces_on_rotation(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    first = factory.get(params(gcp))
    assert factory.get(params(gcp)) is first
    assert factory.get(params(gcp, service_account_json=gcp.forged_service_account_json)) is not first
    assert len(factory) == 1
    assert "PRIVATE KEY" not in repr(params(gcp)) and "PRIVATE KEY" not in repr(first)
