"""Azure I/O for the CloudCredential kind: validation (Entra token + subscriptions) and ARM inventory.

    factory = AzureClientFactory(max_concurrency=4)
    az = factory.get(AzureConnectionParams(tenant_id, client_id, client_secret=..., subscription_id=...,
                                           authority_host=..., management_endpoint=...))
    az.validate()             # CloudIdentity(tenant, principal=client id, account=subscription)
    az.inventory(["vms"])     # Inventory of InventoryRecord
    provisioner(params)       # CloudResource provisioning (ResourceProvisioner): ARM PUT/GET/DELETE

Only this package imports azure-*. Calls are synchronous: run them in worker threads.
"""

# Duplicate scan: the re-export list repeats the private modules' names by design (public API from __init__).
from ._client import API_VERSIONS, AzureClientFactory, AzureRestBackend
from ._errors import AADSTS_CODES, ARM_CODES, arm_error, map_token_error, missing_action
from ._params import AzureConnectionParams
from ._protocol import AzureBackend
from ._provision import AzureProvisioner, provisioner

__all__ = [
    "AADSTS_CODES",
    "API_VERSIONS",
    "ARM_CODES",
    "AzureBackend",
    "AzureClientFactory",
    "AzureConnectionParams",
    "AzureProvisioner",
    "AzureRestBackend",
    "arm_error",
    "map_token_error",
    "missing_action",
    "provisioner",
]
