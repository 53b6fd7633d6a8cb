"""KubeWriter: writes to Kubernetes as the caller (impersonation), so Kubernetes RBAC has the last word.

Every request carries ``Impersonate-User: daytwo:user:<username>`` and ``Impersonate-Group:
daytwo:<role>``; the chart binds those groups to daytwo-viewer / -editor / -admin. Kubernetes'
answers become :class:`~daytwo.api.errors.ApiError`: 403 (RBAC said no), 404, 409, 422 with the
apiserver's own message (schema and CEL messages, verbatim), 503 when it cannot be reached.
Calls block (routes that write are plain ``def``: FastAPI runs them in its thread pool).

Secrets: the facade patches and deletes only Secrets it made itself (label
``app.kubernetes.io/managed-by: daytwo-api`` plus the label naming the object they belong to, see
:func:`owned_secret`); it learns a Secret's labels as itself, metadata only
(``PartialObjectMetadata``: values never leave the apiserver), and then writes as the caller with the
uid/resourceVersion it saw as a precondition. Credential Secrets carry the operator's opt-in label
(:data:`daytwo.crds.secrets.CREDENTIAL_SECRET_LABEL`). Every patch stamps ``daytwo.io/written-at``, so
a rewrite changes the Secret's resourceVersion even when the values are the same (the operator sends
a credential to a changed endpoint only after its Secret was written again).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL, CREDENTIAL_SECRET_LABEL_VALUE
from kubernetes import client

from .errors import ApiError
from .kube import request_json
from .store import CACHED, KindSpec

__all__ = [
    "MANAGED_BY",
    "MANAGED_BY_FACADE",
    "RESERVED_SECRET_PREFIX",
    "WRITTEN_AT",
    "KubeWriter",
    "Writer",
    "credential_secret_labels",
    "kube_error",
    "owned_secret",
    "preconditions_of",
]

#: The facade's own Secrets (users, keys, revocations): callers may not create or touch these names.
RESERVED_SECRET_PREFIX = "daytwo-api-"
MERGE = "application/merge-patch+json"
#: The label (and value) marking what the facade made; it patches and deletes no other Secret.
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_FACADE = "daytwo-api"
#: Annotation stamped on each Secret patch: the resourceVersion changes even when the values do not.
WRITTEN_AT = "daytwo.io/written-at"
#: Read a Secret's metadata only: the apiserver leaves ``data`` out.
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
_SPECS = {spec.kind: spec for spec in CACHED}


class Writer(Protocol):
    """What routes may do to Kubernetes (KubeWriter; a recording fake in route unit tests)."""

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]: ...
    def delete(self, kind: str, name: str) -> None: ...
    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]: ...
    def create_secret(
        self, name: str, string_data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> None: ...
    # Duplicate scan: KubeWriter.patch_secret's signature, stated by this Protocol; deliberate because callers
    # and route-test fakes pass labels/resource_version positionally.
    def patch_secret(
        self,
        name: str,
        string_data: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> None: ...
    def delete_secret(self, name: str, preconditions: Mapping[str, str] | None = None) -> None: ...
    def secret_metadata(self, name: str) -> dict[str, Any] | None: ...


def credential_secret_labels(owner: Mapping[str, str]) -> dict[str, str]:
    """Labels of a credential Secret the facade makes: ``owner`` (whose it is), the facade's mark, the opt-in."""
    return {**owner, MANAGED_BY: MANAGED_BY_FACADE, CREDENTIAL_SECRET_LABEL: CREDENTIAL_SECRET_LABEL_VALUE}


def owned_secret(writer: Writer, name: str, owner: Mapping[str, str]) -> dict[str, Any] | None:
    """Secret ``name``'s metadata if the facade made it for ``owner`` (all its labels and the facade's mark).

    None when it does not exist or someone else made it (kubectl, a chart): the facade leaves those alone.
    """
    metadata = writer.secret_metadata(name)
    labels = (metadata or {}).get("labels") or {}
    wanted = {**owner, MANAGED_BY: MANAGED_BY_FACADE}
    return metadata if metadata is not None and all(labels.get(k) == v for k, v in wanted.items()) else None


def preconditions_of(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The uid/resourceVersion preconditions of a delete of what ``metadata`` describes."""
    return {k: str(metadata[k]) for k in ("uid", "resourceVersion") if metadata.get(k)}


def kube_error(error: Exception) -> ApiError:
    """Translate a Kubernetes client failure into an ApiError with the apiserver's message."""
    status = getattr(error, "status", None)
    if not isinstance(error, client.ApiException) or not status:
        return ApiError(503, "Kubernetes API unreachable; try again shortly", "SERVICE_UNAVAILABLE")
    message = str(error.reason or "")
    details: Any = None
    try:
        body = json.loads(error.body or "{}")
        message = body.get("message") or message
        details = (body.get("details") or {}).get("causes")
    except (ValueError, AttributeError):
        pass
    if status == 403:
        return ApiError(403, f"Forbidden by Kubernetes RBAC: {message}", "FORBIDDEN")
    if status == 404:
        return ApiError(404, message or "Not found", "NOT_FOUND")
    if status == 409:
        return ApiError(409, message or "Conflict", "CONFLICT")
    if status in (400, 422):
        return ApiError(422, message, "VALIDATION_ERROR", details)
    if status == 429:
        return ApiError(503, "Kubernetes API is throttling; try again shortly", "SERVICE_UNAVAILABLE")
    return ApiError(502, f"Kubernetes API error ({status})", "KUBERNETES_ERROR")


class KubeWriter:
    """Create/patch/delete in the served namespace as ``user`` in ``group``."""

    def __init__(self, api: client.ApiClient, namespace: str, user: str, group: str) -> None:
        self.api = api
        self.namespace = namespace
        self.headers = {"Impersonate-User": user, "Impersonate-Group": group}

    def _call(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        try:
            return request_json(self.api, method, path, body=body, headers=self.headers, content_type=content_type)
        except Exception as error:
            raise kube_error(error) from error

    def _spec(self, kind: str) -> KindSpec:
        try:
            return _SPECS[kind]
        except KeyError:
            raise ValueError(f"{kind} is not a kind the facade writes") from None

    def _path(self, kind: str, name: str = "") -> str:
        return self._spec(kind).path(self.namespace) + (f"/{name}" if name else "")

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create ``body`` (apiVersion/kind/namespace filled in); returns the stored object."""
        spec = self._spec(kind)
        full = {**body, "apiVersion": spec.api_version, "kind": kind}
        full["metadata"] = {**body.get("metadata", {}), "namespace": self.namespace}
        return dict(self._call("POST", self._path(kind), full))

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of an object; returns the stored object."""
        return dict(self._call("PATCH", self._path(kind, name), merge_patch, MERGE))

    def delete(self, kind: str, name: str) -> None:
        """Delete an object (background propagation)."""
        self._call("DELETE", self._path(kind, name), {"propagationPolicy": "Background"})

    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        """Set (or, with None, remove) annotations."""
        return self.patch(kind, name, {"metadata": {"annotations": dict(annotations)}})

    def _secret_path(self, name: str = "") -> str:
        if name.startswith(RESERVED_SECRET_PREFIX):
            raise ApiError(422, f"Secret names starting with {RESERVED_SECRET_PREFIX!r} are reserved for the facade")
        return f"/api/v1/namespaces/{self.namespace}/secrets" + (f"/{name}" if name else "")

    def create_secret(self, name: str, string_data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        """Create an Opaque Secret; nothing of it is returned (write-only)."""
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace, "labels": dict(labels or {})},
            "type": "Opaque",
            "stringData": dict(string_data),
        }
        self._call("POST", self._secret_path(name) and self._secret_path(), body)

    def patch_secret(
        self,
        name: str,
        string_data: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Merge new keys/values (and ``labels``) into a Secret, stamped ``daytwo.io/written-at``.

        With ``resource_version``, only if the Secret is still at it (409 otherwise).
        """
        stamp = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}-{uuid.uuid4().hex[:6]}"
        metadata: dict[str, Any] = {"annotations": {WRITTEN_AT: stamp}}
        if labels:
            metadata["labels"] = dict(labels)
        if resource_version:
            metadata["resourceVersion"] = resource_version
        self._call("PATCH", self._secret_path(name), {"metadata": metadata, "stringData": dict(string_data)}, MERGE)

    def delete_secret(self, name: str, preconditions: Mapping[str, str] | None = None) -> None:
        """Delete a Secret; with ``preconditions`` (uid, resourceVersion) only if it is still that one (409)."""
        body = {"preconditions": dict(preconditions)} if preconditions else None
        self._call("DELETE", self._secret_path(name), body)

    def secret_metadata(self, name: str) -> dict[str, Any] | None:
        """A Secret's metadata (labels, uid, resourceVersion; never its values) read as the facade; None if absent.

        The caller may not be allowed to read Secrets; the facade may, and reads nothing but metadata.
        """
        path = self._secret_path(name)
        try:
            found = request_json(self.api, "GET", path, headers={"Accept": METADATA_ONLY})
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise kube_error(error) from error
        except Exception as error:
            raise kube_error(error) from error
        return dict((found or {}).get("metadata") or {})
