"""Kubernetes API access for the operator beyond Kopf's own: reading referenced objects and Secrets."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import by_kind
from daytwo.crds.secrets import is_credential_secret
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

__all__ = ["KubeClient", "SecretRead", "kube_client"]

_lock = threading.Lock()
_reader: KubeClient | None = None


@dataclass(frozen=True)
class SecretRead:
    """One Secret as the operator may see it: identity, labels, key names, and values only when it opted in."""

    uid: str
    resource_version: str
    labels: dict[str, str]
    keys: frozenset[str]
    values: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def allowed(self) -> bool:
        """Whether the Secret carries the opt-in label ``daytwo.io/credential=true``."""
        return is_credential_secret(self.labels)


class KubeClient:
    """Reads daytwo objects and Secrets, and patches daytwo status, with the operator's own identity."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api_client)
        self._core = client.CoreV1Api(api_client)
        self._versions: dict[tuple[str, str, str], str] = {}  # see written_version
        self._versions_lock = threading.Lock()

    def get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The daytwo object, or None when it does not exist."""
        plural = by_kind(kind).info.plural
        try:
            result = cast(
                dict[str, Any], self._custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return result

    def list_objects(self, kind: str, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]:
        """All objects of a daytwo kind in a namespace (optionally only those matching a label selector)."""
        plural = by_kind(kind).info.plural
        extra = {"label_selector": label_selector} if label_selector else {}
        result = cast(
            dict[str, Any], self._custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural, **extra)
        )
        return cast(list[dict[str, Any]], result.get("items", []))

    def create_object(self, kind: str, namespace: str, body: dict[str, Any]) -> bool:
        """Create a daytwo object; False when one of that name already exists (idempotent creates)."""
        plural = by_kind(kind).info.plural
        try:
            self._custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
        except ApiException as error:
            if error.status == 409:
                return False
            raise
        return True

    @property
    def core(self) -> client.CoreV1Api:
        """The core/v1 API (ConfigMaps, Secrets) with the operator's identity."""
        return self._core

    def read_secret(self, namespace: str, name: str, *, values: bool = False) -> SecretRead | None:
        """The Secret's uid, resourceVersion, labels and key names, or None when it does not exist.

        With ``values`` its values are decoded too, but only when it carries the opt-in label
        (``daytwo.crds.secrets.CREDENTIAL_SECRET_LABEL``): the values of any other Secret never leave
        this method. Callers must never log the values.
        """
        try:
            secret = self._core.read_namespaced_secret(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        metadata = secret.metadata
        labels = dict((metadata.labels if metadata else None) or {})
        data = secret.data or {}
        decoded = (
            {key: base64.b64decode(value).decode() for key, value in data.items()}
            if values and is_credential_secret(labels)
            else {}
        )
        return SecretRead(
            uid=str(metadata.uid if metadata else ""),
            resource_version=str(metadata.resource_version if metadata else ""),
            labels=labels,
            keys=frozenset(data),
            values=decoded,
        )

    def patch_status(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        """JSON-merge-patch the status subresource (only the fields given; lists are replaced); the
        resourceVersion it made is kept (:meth:`written_version`)."""
        plural = by_kind(kind).info.plural
        result = self._custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, plural, name, {"status": status}
        )
        version = ((result or {}).get("metadata") or {}).get("resourceVersion") if isinstance(result, dict) else None
        self.note_version(kind, namespace, name, None if version is None else str(version))

    def note_version(self, kind: str, namespace: str, name: str, version: str | None) -> None:
        """Remember ``version`` as the newest known resourceVersion of the object (None: forget it)."""
        with self._versions_lock:
            if version is None:
                self._versions.pop((kind, namespace, name), None)
            else:
                self._versions[(kind, namespace, name)] = version

    def written_version(self, kind: str, namespace: str, name: str) -> str | None:
        """The resourceVersion this process's last status write (or fresh read) of the object produced,
        until :meth:`note_version` forgets it; None when there is none to wait for."""
        with self._versions_lock:
            return self._versions.get((kind, namespace, name))


def kube_client() -> KubeClient:
    """The process-wide reader, configured from in-cluster config or $KUBECONFIG on first use."""
    global _reader
    with _lock:
        if _reader is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            _reader = KubeClient(client.ApiClient())
        return _reader
