"""KubeWriter: writes to Kubernetes as the caller (impersonation), so Kubernetes RBAC has the last word.

Every request carries ``Impersonate-User: daytwo:user:<username>`` and ``Impersonate-Group:
daytwo:<role>``; the chart binds those groups to daytwo-viewer / -editor / -admin. Kubernetes'
answers become :class:`~daytwo.api.errors.ApiError`: 403 (RBAC said no), 404, 409, 422 with the
apiserver's own message (schema and CEL messages, verbatim), 503 when it cannot be reached.
Calls block (routes that write are plain ``def``: FastAPI runs them in its thread pool).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from kubernetes import client

from .errors import ApiError
from .kube import request_json
from .store import CACHED, KindSpec

__all__ = ["RESERVED_SECRET_PREFIX", "KubeWriter", "Writer", "kube_error"]

#: The facade's own Secrets (users, keys, revocations): callers may not create or touch these names.
RESERVED_SECRET_PREFIX = "daytwo-api-"
MERGE = "application/merge-patch+json"
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
    def patch_secret(self, name: str, string_data: Mapping[str, str]) -> None: ...
    def delete_secret(self, name: str) -> None: ...


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

    def patch_secret(self, name: str, string_data: Mapping[str, str]) -> None:
        """Merge new keys/values into a Secret."""
        self._call("PATCH", self._secret_path(name), {"stringData": dict(string_data)}, MERGE)

    def delete_secret(self, name: str) -> None:
        """Delete a Secret."""
        self._call("DELETE", self._secret_path(name))
