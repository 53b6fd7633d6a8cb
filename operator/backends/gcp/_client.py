"""GoogleRestBackend: service-account tokens through google-auth, Compute Engine reads as plain REST.

Why not google-api-python-client / google-cloud-compute: daytwo reads one project and three lists.
The discovery client is large and builds its surface at run time (untyped); google-cloud-compute
brings gRPC-era dependencies (proto-plus, protobuf, google-api-core). google-auth is the part worth a
library: it signs the RS256 JWT assertion with the key and exchanges it at ``token_uri`` (which the
key JSON names and ``token_uri_override`` replaces), and tracks expiry. google-auth retries the token
endpoint itself (3 attempts, 1 s / 2 s backoff, on 429 and 5xx); Compute calls are retried here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import google.auth.transport.requests
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account

from ...errors import BackendError, InvalidRequest
from ..records import CloudIdentity, Inventory, InventoryKind, InventoryRecord
from ..runtime import (
    ClientFactory,
    HttpAnswer,
    JsonApiClient,
)
from ._errors import api_error, map_token_error
from ._params import GcpConnectionParams
from ._records import disk_record, instance_record, network_record

__all__ = [
    "SCOPES",
    "WRITE_SCOPES",
    "GcpClientFactory",
    "GcpWriteClientFactory",
    "GoogleRestBackend",
    "GoogleWriteBackend",
]

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/compute.readonly",)
WRITE_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# kind -> (path under the project, aggregated by zone?, items key, converter)
_LISTS: dict[InventoryKind, tuple[str, bool, str, Callable[..., InventoryRecord]]] = {
    InventoryKind.VMS: ("aggregated/instances", True, "instances", instance_record),
    InventoryKind.STORAGE: ("aggregated/disks", True, "disks", disk_record),
    InventoryKind.NETWORKS: ("global/networks", False, "items", network_record),
}


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's requests transport with our timeout on every token call (its default is 120 s)."""

    def __init__(self, session: Any, timeout: float) -> None:
        super().__init__(session)
        self._timeout = timeout

    def __call__(
        self, url: Any, method: Any = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kwargs: Any
    ) -> Any:
        """Send one token-endpoint request with the backend's timeout."""
        return super().__call__(  # type: ignore[no-untyped-call]
            url, method=method, body=body, headers=headers, timeout=self._timeout, **kwargs
        )


class GoogleRestBackend(JsonApiClient[GcpConnectionParams]):
    """One service account + project. Thread-safe; Compute attempts hold the endpoint's slot.

    ``scopes`` are the OAuth scopes its tokens carry (read-only Compute for inventory; the provisioner's
    :class:`GoogleWriteBackend` asks for cloud-platform)."""

    scopes: ClassVar[tuple[str, ...]] = SCOPES

    def _connect(self, params: GcpConnectionParams) -> None:
        """The service account's credentials (InvalidRequest when its key does not load) and token transport."""
        info = params.key_info()
        self._token_uri = str(info.get("token_uri", ""))
        self._email = str(info["client_email"])
        try:
            self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(self.scopes)
            )
        except (ValueError, GoogleAuthError):
            self._credentials = None
        if self._credentials is None:
            raise InvalidRequest(f"the private key of service account {self._email} could not be loaded")
        self._auth_request = _TimedRequest(self._http.session, params.timeout_seconds)
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GoogleRestBackend(endpoint={self.endpoint!r}, service_account={self._email!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _token(self) -> tuple[str, datetime | None]:
        """A valid access token (refreshed under a lock when missing or about to expire) and its expiry."""
        what = f"get an access token for {self._email}"
        error: BackendError
        with self._token_lock:
            credentials = self._credentials
            if credentials.valid:
                return str(credentials.token), _utc(credentials.expiry)
            try:
                credentials.refresh(self._auth_request)
                return str(credentials.token), _utc(credentials.expiry)
            except GoogleAuthError as exc:
                error = map_token_error(exc, what=what, token_uri=self._token_uri)
        log.debug("gcp %s failed: %s", what, error.reason)
        raise error

    def _get(self, url: str, what: str, query: Mapping[str, str] | None = None) -> Any:
        token, _ = self._token()
        return self._bearer_get(url, what, token, query, api_error)

    def call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        passes: frozenset[int] = frozenset(),
    ) -> HttpAnswer:
        """One Google API call (Compute or Cloud Storage), retried on retryable errors: callers send only
        idempotent writes (inserts with a requestId, DELETE, label/size changes). ``passes``: statuses returned
        instead of raised (404 on a read, 409 on a repeated insert)."""
        token, _ = self._token()
        return self._bearer_send(method, url, what, token, query, body, api_error, passes=passes)

    def _pages(self, path: str, what: str) -> Iterator[Mapping[str, Any]]:
        """Every page of a Compute list, following nextPageToken to the end."""
        url = f"{self._params.api_base}/projects/{self._params.project_id}/{path}"
        token: str | None = None
        page_no = 0
        while True:
            page_no += 1
            query = {"maxResults": str(self._params.page_size)}
            if path.startswith("aggregated/"):
                query["returnPartialSuccess"] = "true"
            if token:
                query["pageToken"] = token
            body = self._get(url, f"{what} (page {page_no})", query)
            yield body
            token = body.get("nextPageToken")
            if not token:
                return

    # ------------------------------------------------------------------ protocol

    def validate(self) -> CloudIdentity:
        """Token refresh (JWT bearer grant), then GET the project: project id and service account email."""
        _, expiry = self._token()
        project = self._get(
            f"{self._params.api_base}/projects/{self._params.project_id}", f"get project {self._params.project_id}"
        )
        details = {"project_number": str(project.get("id", "")), "token_expiry": expiry.isoformat() if expiry else ""}
        return CloudIdentity(
            "gcp",
            principal=self._email,
            account=str(project.get("name") or self._params.project_id),
            project=self._params.project_id,
            details=details,
        )

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Instances and disks of every zone (aggregated lists) and the project's networks, every page."""

        def records_of(kind: InventoryKind, synced: datetime) -> Iterator[InventoryRecord]:
            path, aggregated, key, convert = _LISTS[kind]
            for page in self._pages(path, f"list {path}"):
                if aggregated:
                    scopes = (page.get("items") or {}).values()
                    items = [item for scope in scopes for item in scope.get(key) or ()]
                else:
                    items = list(page.get(key) or ())
                yield from (convert(item, synced) for item in items)

        return self._inventory("gcp", kinds, records_of)


def _utc(value: datetime | None) -> datetime | None:
    """google-auth keeps expiry as naive UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class GcpClientFactory(ClientFactory[GcpConnectionParams, GoogleRestBackend]):
    """Cached GoogleRestBackend clients (see :class:`~daytwo.operator.backends.runtime.ClientFactory`)."""

    client_type = GoogleRestBackend


class GoogleWriteBackend(GoogleRestBackend):
    """The provisioner's client: tokens with the cloud-platform scope (Compute and Cloud Storage writes)."""

    scopes = WRITE_SCOPES


class GcpWriteClientFactory(ClientFactory[GcpConnectionParams, GoogleWriteBackend]):
    """Cached GoogleWriteBackend clients, for provisioning."""

    client_type = GoogleWriteBackend
