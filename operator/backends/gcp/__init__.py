"""GCP I/O for the CloudCredential kind: validation (service-account token + project) and Compute inventory.

    factory = GcpClientFactory(max_concurrency=4)
    gcp = factory.get(GcpConnectionParams(service_account_json, project_id="my-project-123",
                                          endpoint_override=None, token_uri_override=None))
    gcp.validate()              # CloudIdentity(project, principal=service account email)
    gcp.inventory(["vms"])      # Inventory of InventoryRecord
    provisioner(params)         # CloudResource provisioning (ResourceProvisioner): Compute + Cloud Storage

Only this package imports google-*. Calls are synchronous: run them in worker threads.
"""

# Duplicate scan: the re-export list repeats the private modules' names by design (public API from __init__).
from ._client import SCOPES, WRITE_SCOPES, GcpClientFactory, GcpWriteClientFactory, GoogleRestBackend
from ._errors import API_REASONS, API_STATUSES, OAUTH_ERRORS, api_error, map_token_error, missing_permission
from ._params import GcpConnectionParams
from ._protocol import GcpBackend
from ._provision import GcpProvisioner, provisioner

__all__ = [
    "API_REASONS",
    "API_STATUSES",
    "OAUTH_ERRORS",
    "SCOPES",
    "WRITE_SCOPES",
    "GcpBackend",
    "GcpClientFactory",
    "GcpConnectionParams",
    "GcpProvisioner",
    "GcpWriteClientFactory",
    "GoogleRestBackend",
    "api_error",
    "map_token_error",
    "missing_permission",
    "provisioner",
]
