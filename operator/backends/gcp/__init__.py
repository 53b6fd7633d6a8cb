"""GCP I/O for the CloudCredential kind: validation (service-account token + project) and Compute inventory.

    factory = GcpClientFactory(max_concurrency=4)
    gcp = factory.get(GcpConnectionParams(service_account_json, project_id="my-project-123",
                                          endpoint_override=None, token_uri_override=None))
    gcp.validate()              # CloudIdentity(project, principal=service account email)
    gcp.inventory(["vms"])      # Inventory of InventoryRecord

Only this package imports google-*. Calls are synchronous: run them in worker threads.
"""

# Duplicate scan: the re-export list repeats the private modules' names by design (public API from __init__).
from ._client import SCOPES, GcpClientFactory, GoogleRestBackend
from ._errors import API_REASONS, API_STATUSES, OAUTH_ERRORS, api_error, map_token_error, missing_permission
from ._params import GcpConnectionParams
from ._protocol import GcpBackend

__all__ = [
    "API_REASONS",
    "API_STATUSES",
    "OAUTH_ERRORS",
    "SCOPES",
    "GcpBackend",
    "GcpClientFactory",
    "GcpConnectionParams",
    "GoogleRestBackend",
    "api_error",
    "map_token_error",
    "missing_permission",
]
