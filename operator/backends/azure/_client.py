"""AzureRestBackend: Entra tokens through azure-identity, ARM reads as plain REST over requests.

Why not the azure-mgmt-* SDKs: daytwo reads four ARM lists. azure-mgmt-compute, -network and
-resource(-subscriptions) are large (every API version's models), split differently from release to
release, and add their own retry and paging layers on top of ours. A GET with ``api-version`` and
``nextLink`` following is the documented, stable ARM contract. Tokens are the part worth a library:
azure-identity (MSAL underneath) does the client-credentials grant, caching and refresh, and accepts
a custom authority (``disable_instance_discovery`` for non-public clouds and the stand-in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential

from ...errors import BackendError, InvalidRequest, PermissionDenied
from ..records import CloudIdentity, Inventory, InventoryKind, InventoryRecord
from ..runtime import (
    ClientFactory,
    HttpAnswer,
    JsonApiClient,
    call_with_retries,
)
from ._errors import arm_error, map_token_error
from ._params import AzureConnectionParams
from ._records import disk_record, vm_record, vnet_record

__all__ = ["API_VERSIONS", "AzureClientFactory", "AzureRestBackend"]

log = logging.getLogger(__name__)

API_VERSIONS = {
    "subscriptions": "2022-12-01",
    "virtualMachines": "2024-07-01",
    "disks": "2024-03-02",
    "virtualNetworks": "2024-05-01",
}
_PUBLIC_AUTHORITIES = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")
# kind -> (ARM provider path, api-version key, extra query, converter)
_LISTS: dict[InventoryKind, tuple[str, str, dict[str, str], Callable[..., InventoryRecord]]] = {
    InventoryKind.VMS: ("Microsoft.Compute/virtualMachines", "virtualMachines", {"statusOnly": "true"}, vm_record),
    InventoryKind.STORAGE: ("Microsoft.Compute/disks", "disks", {}, disk_record),
    InventoryKind.NETWORKS: ("Microsoft.Network/virtualNetworks", "virtualNetworks", {}, vnet_record),
}
SUBSCRIPTIONS_READ = "Microsoft.Resources/subscriptions/read"


class AzureRestBackend(JsonApiClient[AzureConnectionParams]):
    """One service principal + subscription. Thread-safe; ARM attempts hold the endpoint's slot.

    Every ARM page and every token request is retried on retryable errors (5xx, 429, connection
    failures, timeouts) by ``call_with_retries``; azure-identity's own retries are off.
    """

    def _connect(self, params: AzureConnectionParams) -> None:
        """The service principal's credential over the pooled session (azure-identity's retries off)."""
        transport = RequestsTransport(
            session=self._http.session,
            session_owner=False,
            connection_verify=self._http.ca_file or True,
            connection_timeout=params.timeout_seconds,
            read_timeout=params.timeout_seconds,
        )
        self._credential = ClientSecretCredential(
            params.tenant_id,
            params.client_id,
            params.client_secret,
            authority=params.authority_host,
            disable_instance_discovery=urlsplit(params.authority_host).hostname not in _PUBLIC_AUTHORITIES,
            transport=transport,
            retry_total=0,
        )
        self._authority = urlsplit(params.authority_host).netloc

    def __repr__(self) -> str:
        return f"AzureRestBackend(endpoint={self.endpoint!r}, client_id={self._params.client_id!r})"

    def close(self) -> None:
        """Close the credential and pooled connections."""
        self._credential.close()
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _token(self) -> str:
        what = f"get an ARM token for client {self._params.client_id} in tenant {self._params.tenant_id}"

        def attempt() -> str:
            error: BackendError
            try:
                return self._credential.get_token(self._params.scope).token
            except AzureError as exc:
                error = map_token_error(exc, what=what, authority=self._authority)
            raise error

        return call_with_retries(what, self._authority, attempt, self._policy)

    def _get(self, url: str, what: str, query: Mapping[str, str] | None) -> Any:
        return self._bearer_get(url, what, self._token(), query, arm_error)

    def _pages(self, path: str, query: Mapping[str, str], what: str) -> Iterator[list[Any]]:
        """Every page of an ARM list: ``value`` items, following ``nextLink`` to the end."""
        url: str | None = f"{self._params.arm_base}{path}"
        params: Mapping[str, str] | None = query
        page_no = 0
        while url:
            page_no += 1
            body = self._get(url, f"{what} (page {page_no})", params)
            yield list(body.get("value") or ())
            url, params = body.get("nextLink"), None
            if url and urlsplit(url).netloc != self.endpoint:
                raise InvalidRequest(f"{what}: nextLink points away from {self.endpoint}; not following it")

    def arm(
        self,
        method: str,
        path: str,
        what: str,
        *,
        api_version: str,
        body: Any = None,
        passes: frozenset[int] = frozenset(),
    ) -> HttpAnswer:
        """One ARM call (``path`` under the management endpoint, or an absolute polling URL on it), retried on
        retryable errors: callers send only idempotent writes (PUT by name, PATCH, DELETE). ``passes``: statuses
        returned instead of raised (404 on a read)."""
        url = path if path.startswith("https://") else f"{self._params.arm_base}{path}"
        if urlsplit(url).netloc != self.endpoint:
            raise InvalidRequest(f"{what}: {url.split('?')[0]} is not on {self.endpoint}; not following it")
        query = None if "api-version=" in url else {"api-version": api_version}
        return self._bearer_send(method, url, what, self._token(), query, body, arm_error, passes=passes)

    # ------------------------------------------------------------------ protocol

    def validate(self) -> CloudIdentity:
        """Client-credentials token, then GET /subscriptions: the configured subscription must be visible."""
        sub = self._params.subscription_id
        query = {"api-version": API_VERSIONS["subscriptions"]}
        visible = [s for page in self._pages("/subscriptions", query, "list subscriptions") for s in page]
        found = next((s for s in visible if str(s.get("subscriptionId", "")).lower() == sub.lower()), None)
        if found is None:
            raise PermissionDenied(
                f"subscription {sub} is not visible to client {self._params.client_id} "
                f"({len(visible)} other subscription(s) are); assign it a role (e.g. Reader) on the subscription",
                missing=SUBSCRIPTIONS_READ,
            )
        details = {"display_name": str(found.get("displayName", "")), "state": str(found.get("state", ""))}
        return CloudIdentity(
            "azure",
            principal=self._params.client_id,
            account=sub,
            tenant=str(found.get("tenantId") or self._params.tenant_id),
            details=details,
        )

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Virtual machines (with power state), managed disks and virtual networks of the subscription."""
        sub = self._params.subscription_id

        def records_of(kind: InventoryKind, synced: datetime) -> Iterator[InventoryRecord]:
            provider, version, extra, convert = _LISTS[kind]
            query = {"api-version": API_VERSIONS[version], **extra}
            for page in self._pages(f"/subscriptions/{sub}/providers/{provider}", query, f"list {provider}"):
                yield from (convert(item, synced) for item in page)

        return self._inventory("azure", kinds, records_of)


class AzureClientFactory(ClientFactory[AzureConnectionParams, AzureRestBackend]):
    """Cached AzureRestBackend clients (see :class:`~daytwo.operator.backends.runtime.ClientFactory`)."""

    client_type = AzureRestBackend
