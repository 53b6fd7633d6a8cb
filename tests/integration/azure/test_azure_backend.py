"""The Azure backend (azure-identity + ARM REST) against the TLS stand-in."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.azure import AzureBackend, AzureClientFactory
from daytwo.operator.backends.records import InventoryKind
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import AuthFailed, PermissionDenied, Timeout, TLSVerificationFailed, Unavailable

from tests.standins.azure import AzureStandin
from tests.standins.proxmox._pki import CertificateAuthority

from .conftest import DISKS, VMS, VNETS, params


def test_validate(az: AzureStandin, factory: AzureClientFactory) -> None:
    client = factory.get(params(az))
    assert isinstance(client, AzureBackend)
    identity = client.validate()
    assert (identity.provider, identity.principal) == ("azure", az.client_id)
    assert (identity.tenant, identity.account) == (az.tenant_id, az.subscription_id)
    assert identity.details["display_name"] == "Daytwo Test"
    assert az.journal.count("/oauth2/v2.0/token") == 1


def test_wrong_secret_is_auth_failed(az: AzureStandin, factory: AzureClientFactory) -> None:
    with pytest.raises(AuthFailed, match="AADSTS7000215"):
        factory.get(params(az, client_secret="not-the-secret")).validate()
    assert az.journal.count("/oauth2/v2.0/token") == 1, "a 401 is never retried"


def test_unknown_client_is_auth_failed(az: AzureStandin, factory: AzureClientFactory) -> None:
    with pytest.raises(AuthFailed, match="AADSTS700016"):
        factory.get(params(az, client_id="00000000-0000-0000-0000-000000000000")).validate()


def test_subscription_not_visible_is_permission_denied(az: AzureStandin, factory: AzureClientFactory) -> None:
    other = params(az, client_id=az.elsewhere_client_id, client_secret=az.elsewhere_client_secret)
    with pytest.raises(PermissionDenied, match="not visible") as caught:
        factory.get(other).validate()
    assert caught.value.missing == "Microsoft.Resources/subscriptions/read"


def test_missing_vm_read_names_the_action(az: AzureStandin, factory: AzureClientFactory) -> None:
    client = factory.get(params(az, client_id=az.novm_client_id, client_secret=az.novm_client_secret))
    client.validate()
    assert client.inventory(["storage"]).counts() == {"storage": VMS + DISKS}
    with pytest.raises(PermissionDenied) as caught:
        client.inventory(["vms"])
    assert caught.value.missing == "Microsoft.Compute/virtualMachines/read"
    assert caught.value.status_code == 403
    assert az.journal.count("virtualMachines") == 1, "a 403 is never retried"


def test_inventory_every_kind_every_page(az: AzureStandin, factory: AzureClientFactory) -> None:
    inventory = factory.get(params(az)).inventory()
    assert inventory.counts() == {"vms": VMS, "storage": VMS + DISKS, "networks": VNETS}
    assert az.journal.count("virtualMachines") == 3, "5 VMs at 2 per page"
    assert az.journal.count("disks") == 4 and az.journal.count("virtualNetworks") == 2
    assert inventory.api_calls == 9
    vms = inventory.of_kind(InventoryKind.VMS)
    assert [v.name for v in vms] == [f"vm-{n}" for n in range(VMS)]
    assert {v.status for v in vms} == {"running", "deallocated"}
    assert vms[0].region == "westeurope" and vms[0].metadata["vm_size"] == "Standard_B2s"
    assert vms[0].metadata["resource_group"] == "rg-daytwo" and vms[0].created_at is not None
    disk = next(d for d in inventory.of_kind(InventoryKind.STORAGE) if d.name == "data-0")
    assert disk.status == "unattached" and disk.metadata["size_gb"] == "64"
    vnet = inventory.of_kind(InventoryKind.NETWORKS)[0]
    assert vnet.metadata["address_prefixes"] == "10.0.0.0/16" and vnet.status == "succeeded"


def test_short_arm_outage_is_retried(az: AzureStandin, factory: AzureClientFactory) -> None:
    az.faults.fail("/subscriptions", 503, times=2)
    assert factory.get(params(az)).validate().account == az.subscription_id
    assert [e.status for e in az.journal.entries("^/subscriptions$")] == [503, 503, 200]


def test_throttling_is_retried(az: AzureStandin, factory: AzureClientFactory) -> None:
    az.faults.fail("virtualNetworks", 429, times=1)
    assert factory.get(params(az)).inventory(["networks"]).counts() == {"networks": VNETS}


def test_long_arm_outage_is_unavailable(az: AzureStandin, factory: AzureClientFactory) -> None:
    az.faults.fail("/subscriptions", 503, times=None)
    with pytest.raises(Unavailable, match="ServiceUnavailable"):
        factory.get(params(az)).validate()
    assert az.journal.count("^/subscriptions$") == 3


def test_token_endpoint_outage_is_unavailable(az: AzureStandin, factory: AzureClientFactory) -> None:
    az.faults.fail("/oauth2/", 503, times=None)
    with pytest.raises(Unavailable, match="HTTP 503"):
        factory.get(params(az)).validate()
    # MSAL remembers a 5xx answer of the token endpoint for a while and answers the retries itself
    assert az.journal.count("/oauth2/v2.0/token") >= 1


def test_expired_token_is_auth_failed(az: AzureStandin, factory: AzureClientFactory) -> None:
    client = factory.get(params(az))
    client.validate()
    az.estate.expire_tokens()
    with pytest.raises(AuthFailed, match="ExpiredAuthenticationToken"):
        client.inventory(["networks"])


def test_untrusted_certificate(az: AzureStandin, factory: AzureClientFactory) -> None:
    with pytest.raises(TLSVerificationFailed):
        factory.get(params(az, ca_bundle_pem=CertificateAuthority("another CA").pem)).validate()


def test_slow_arm_is_timeout(az: AzureStandin) -> None:
    factory = AzureClientFactory(policy=RetryPolicy(retries=0))
    az.faults.slow(1.5, "virtualNetworks")
    try:
        with pytest.raises(Timeout):
            factory.get(params(az, timeout_seconds=0.3)).inventory(["networks"])
    finally:
        az.faults.clear()
        factory.close()


def test_factory_caches_and_replaces_on_rotation(az: AzureStandin, factory: AzureClientFactory) -> None:
    first = factory.get(params(az))
    assert factory.get(params(az)) is first
    assert factory.get(params(az, client_secret="rotated")) is not first and len(factory) == 1
    assert az.client_secret not in repr(params(az)) and az.client_secret not in repr(first)
