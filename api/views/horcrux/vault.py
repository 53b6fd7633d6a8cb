"""horcrux /api/vault behind one small :class:`SecretStore` Protocol (README, Vault).

Two stores:

- :class:`KubernetesSecrets` (default): a secret path ``horcrux/database`` is the Secret
  ``vault-horcrux-database`` in the served namespace (:func:`secret_name`; a ``-`` inside a segment is
  doubled, so the mapping is one-to-one), its keys are the Secret's data keys. Every call goes to the
  apiserver AS THE CALLER (impersonation), so Kubernetes RBAC decides; values never pass through the
  facade's cache (it does not watch these Secrets). The facade answers only Secrets it made for the vault
  (label ``daytwo.io/vault=secret``, ``app.kubernetes.io/managed-by=daytwo-api``, annotation
  ``daytwo.io/vault-path``); lists read metadata only (names, never values).
- :class:`VaultKv`: a HashiCorp Vault KV v2 mount through ``hvac`` (address, token, namespace header,
  mount), when ``POST /api/vault/config`` enabled it.

Secret values are never logged or audited: errors carry the path, never data.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from daytwo.api.errors import ApiError
from daytwo.api.kube import request_json
from daytwo.api.kubewrite import MANAGED_BY, MANAGED_BY_FACADE, kube_error

__all__ = [
    "MAX_KEYS",
    "MAX_PATH",
    "MAX_VALUE_BYTES",
    "PATH_ANNOTATION",
    "SECRET_PREFIX",
    "VAULT_LABEL",
    "KubernetesSecrets",
    "SecretStore",
    "VaultConfig",
    "VaultKv",
    "check_address",
    "check_data",
    "check_path",
    "children",
    "config_data",
    "parse_config",
    "secret_name",
]

#: Secret names of the Kubernetes store start with this.
SECRET_PREFIX = "vault-"
#: Label (value ``secret``) on every Secret the vault made; lists select on it.
VAULT_LABEL = "daytwo.io/vault"
#: Annotation holding the secret's path as the caller wrote it.
PATH_ANNOTATION = "daytwo.io/vault-path"
#: Longest path (characters) and most segments.
MAX_PATH = 200
MAX_SEGMENTS = 8
#: Most keys per secret and most bytes of all values together (a Secret holds at most 1 MiB).
MAX_KEYS = 64
MAX_VALUE_BYTES = 512 * 1024
_SEGMENT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
_MERGE = "application/merge-patch+json"


def _invalid(message: str, field: str = "path") -> ApiError:
    return ApiError(422, message, "VALIDATION_ERROR", {"field": field})


def check_path(path: str, *, allow_root: bool = False) -> str:
    """``path`` normalised (no leading/trailing ``/``), or a 422 saying what a path may be.

    Segments: 1-63 lowercase letters, digits and ``-`` (not first or last), at most 8 segments and
    200 characters; the empty path (the root) only where ``allow_root`` (lists).
    """
    cleaned = path.strip("/")
    if not cleaned:
        if allow_root:
            return ""
        raise _invalid("Give a secret path, e.g. horcrux/database")
    if len(cleaned) > MAX_PATH:
        raise _invalid(f"Secret path too long ({len(cleaned)} characters; at most {MAX_PATH})")
    segments = cleaned.split("/")
    if len(segments) > MAX_SEGMENTS:
        raise _invalid(f"Secret path too deep ({len(segments)} segments; at most {MAX_SEGMENTS})")
    bad = [s for s in segments if not _SEGMENT.match(s)]
    if bad:
        raise _invalid(
            f"Invalid secret path segment {bad[0]!r}: each segment is 1-63 lowercase letters, digits and '-' "
            "(not first or last), separated by '/', e.g. horcrux/database"
        )
    if len(secret_name(cleaned)) > 253:
        raise _invalid("Secret path too long for its Secret name (each '-' counts twice): shorten it")
    return cleaned


def secret_name(path: str) -> str:
    """The Secret of the checked ``path``: ``vault-`` + segments joined by ``-``, a ``-`` inside a segment doubled
    (``horcrux/database`` -> ``vault-horcrux-database``, ``my-app/db`` -> ``vault-my--app-db``)."""
    return SECRET_PREFIX + "-".join(segment.replace("-", "--") for segment in path.split("/"))


def check_data(data: Mapping[str, str]) -> dict[str, str]:
    """The secret's key/value pairs, or a 422 (keys as Secret data keys allow; 1-64 keys; values at most 512 KiB)."""
    if not data:
        raise _invalid('Give at least one key, e.g. {"password": "..."}', "body")
    if len(data) > MAX_KEYS:
        raise _invalid(f"Too many keys ({len(data)}; at most {MAX_KEYS})", "body")
    bad = sorted(key for key in data if not _KEY.match(key))
    if bad:
        raise _invalid(
            f"Invalid key(s) {', '.join(repr(k[:64]) for k in bad[:5])}: letters, digits, '-', '_' and '.' (1-253)",
            "body",
        )
    size = sum(len(value.encode()) for value in data.values())
    if size > MAX_VALUE_BYTES:
        raise _invalid(f"Values too large ({size} bytes; at most {MAX_VALUE_BYTES})", "body")
    return dict(data)


def children(prefix: str, paths: list[str]) -> list[str]:
    """What a list at ``prefix`` shows of ``paths``: the next segment, ``name/`` where there is more below (sorted)."""
    base = f"{prefix}/" if prefix else ""
    found: set[str] = set()
    for path in paths:
        if not path.startswith(base) or path == prefix:
            continue
        head, slash, _ = path[len(base) :].partition("/")
        found.add(head + slash)
    return sorted(found)


class SecretStore(Protocol):
    """Where the vault's secrets live."""

    #: ``kubernetes`` or ``vault`` (answered by GET /api/vault/config)
    backend: str

    def read(self, path: str) -> dict[str, str]:
        """The secret's data (404 when absent)."""
        ...

    def write(self, path: str, data: Mapping[str, str]) -> None:
        """Create the secret or replace its data."""
        ...

    def delete(self, path: str) -> None:
        """Delete the secret (404 when absent)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """The names below ``prefix`` (``child/`` where deeper), never values."""
        ...


def _not_found(path: str) -> ApiError:
    return ApiError(404, f"Secret '{path}' not found", "NOT_FOUND")


class KubernetesSecrets:
    """Secrets in the served namespace, every call as the caller (``Impersonate-User``/``-Group``)."""

    backend = "kubernetes"

    def __init__(self, api: Any, namespace: str, user: str, group: str) -> None:
        self.api = api
        self.namespace = namespace
        self.headers = {"Impersonate-User": user, "Impersonate-Group": group}

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        accept: str | None = None,
        content_type: str = "application/json",
    ) -> Any:
        headers = {**self.headers, "Accept": accept} if accept else self.headers
        try:
            return request_json(
                self.api, method, path, query=query, body=body, headers=headers, content_type=content_type
            )
        except Exception as error:
            raise kube_error(error) from error

    def _url(self, name: str = "") -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets" + (f"/{name}" if name else "")

    def _get(self, path: str) -> dict[str, Any] | None:
        """The vault's Secret of ``path`` (None when absent or not the vault's)."""
        try:
            found: dict[str, Any] = self._call("GET", self._url(secret_name(path)))
        except ApiError as error:
            if error.status_code == 404:
                return None
            raise
        metadata = found.get("metadata") or {}
        labels = metadata.get("labels") or {}
        mine = labels.get(VAULT_LABEL) == "secret" and labels.get(MANAGED_BY) == MANAGED_BY_FACADE
        return found if mine and (metadata.get("annotations") or {}).get(PATH_ANNOTATION) == path else None

    def read(self, path: str) -> dict[str, str]:
        """The Secret's data keys and values (404 when it is absent or not a vault Secret)."""
        found = self._get(path)
        if found is None:
            raise _not_found(path)
        return {key: base64.b64decode(value).decode() for key, value in (found.get("data") or {}).items()}

    def write(self, path: str, data: Mapping[str, str]) -> None:
        """Create the Secret, or replace its data (keys not in ``data`` removed) at the version read."""
        name = secret_name(path)
        metadata = {
            "name": name,
            "labels": {VAULT_LABEL: "secret", MANAGED_BY: MANAGED_BY_FACADE},
            "annotations": {PATH_ANNOTATION: path},
        }
        try:
            existing = self._get(path)
        except ApiError as error:
            if error.status_code != 403:
                raise
            existing = None  # may create without reading: the create below is RBAC's to refuse
        if existing is None:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata,
                "type": "Opaque",
                "stringData": dict(data),
            }
            self._call("POST", self._url(), body)
            return
        removed: dict[str, Any] = {key: None for key in existing.get("data") or {} if key not in data}
        patch = {
            "metadata": {
                "resourceVersion": existing["metadata"]["resourceVersion"],
                "annotations": {PATH_ANNOTATION: path},
            },
            "data": removed,
            "stringData": dict(data),
        }
        self._call("PATCH", self._url(name), patch, content_type=_MERGE)

    def delete(self, path: str) -> None:
        """Delete the Secret, only if it is still the vault's one that was read (uid/resourceVersion)."""
        found = self._get(path)
        if found is None:
            raise _not_found(path)
        metadata = found["metadata"]
        preconditions = {"uid": metadata["uid"], "resourceVersion": metadata["resourceVersion"]}
        self._call("DELETE", self._url(secret_name(path)), {"preconditions": preconditions})

    def list(self, prefix: str) -> list[str]:
        """Names below ``prefix`` from the vault Secrets' metadata (the apiserver sends no values)."""
        found = self._call(
            "GET",
            self._url(),
            query={"labelSelector": f"{VAULT_LABEL}=secret,{MANAGED_BY}={MANAGED_BY_FACADE}"},
            accept=_METADATA_LIST,
        )
        paths = [
            str((item.get("metadata", {}).get("annotations") or {}).get(PATH_ANNOTATION, ""))
            for item in (found or {}).get("items") or []
        ]
        return children(prefix, [p for p in paths if p])


# -- configuration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VaultConfig:
    """What the vault ConfigMap says (the token lives in its own Secret)."""

    enabled: bool = False
    address: str = ""
    namespace: str = ""
    mount: str = "secret"


def parse_config(data: Mapping[str, str] | None, default_mount: str = "secret") -> VaultConfig:
    """The configuration in a ConfigMap's ``data`` (defaults for what is missing)."""
    data = data or {}
    return VaultConfig(
        enabled=str(data.get("enabled", "false")).lower() == "true",
        address=str(data.get("address", "")),
        namespace=str(data.get("namespace", "")),
        mount=str(data.get("mount") or default_mount),
    )


def config_data(config: VaultConfig) -> dict[str, str]:
    """A ConfigMap's ``data`` for ``config``."""
    return {
        "enabled": "true" if config.enabled else "false",
        "address": config.address,
        "namespace": config.namespace,
        "mount": config.mount,
    }


def check_address(address: str) -> str:
    """A Vault address (http(s)://host[:port], no path), or a 422 saying what one looks like."""
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise _invalid("Invalid Vault address: give its base URL, e.g. https://vault.example.com:8200", "address")
    return address.strip().rstrip("/")


class VaultKv:
    """A HashiCorp Vault KV v2 mount through ``hvac`` (the facade's token; the caller was checked before)."""

    backend = "vault"

    def __init__(self, config: VaultConfig, token: str, timeout: float = 10) -> None:
        import hvac

        self.config = config
        self.client = hvac.Client(url=config.address, token=token, namespace=config.namespace or None, timeout=timeout)
        self.kv = self.client.secrets.kv.v2

    def _call(self, path: str, call: Any) -> Any:
        import hvac.exceptions
        import requests

        try:
            return call()
        except hvac.exceptions.InvalidPath:
            raise _not_found(path) from None
        except hvac.exceptions.Forbidden:
            raise ApiError(
                502,
                "Vault refused the configured token (403): set a token with access to the mount "
                f"'{self.config.mount}' with POST /api/vault/config",
                "VAULT_ERROR",
            ) from None
        except hvac.exceptions.VaultError as error:
            status = getattr(error, "status_code", None) or "error"
            raise ApiError(502, f"Vault answered {status} for '{path}'", "VAULT_ERROR") from None
        except requests.RequestException:
            raise ApiError(
                503, f"Vault at {self.config.address} is unreachable; try again shortly", "SERVICE_UNAVAILABLE"
            ) from None
        except Exception as error:  # a malformed answer or address: never the request (it may hold values)
            raise ApiError(502, f"Vault call for '{path}' failed ({type(error).__name__})", "VAULT_ERROR") from None

    def check_mount(self) -> None:
        """422 unless the token may list mounts and ``mount`` is a KV version 2 engine."""
        mounts = self._call("sys/mounts", self.client.sys.list_mounted_secrets_engines)
        found = (mounts.get("data") or mounts).get(f"{self.config.mount}/")
        if (
            not isinstance(found, dict)
            or found.get("type") != "kv"
            or str((found.get("options") or {}).get("version")) != "2"
        ):
            raise _invalid(f"Vault has no KV version 2 engine mounted at '{self.config.mount}/'", "mount")

    def read(self, path: str) -> dict[str, str]:
        """The latest version's data (404 when absent or deleted)."""
        answer = self._call(
            path,
            lambda: self.kv.read_secret_version(
                path=path, mount_point=self.config.mount, raise_on_deleted_version=True
            ),
        )
        data = ((answer or {}).get("data") or {}).get("data") or {}
        return {str(key): value if isinstance(value, str) else str(value) for key, value in data.items()}

    def write(self, path: str, data: Mapping[str, str]) -> None:
        """A new version with ``data``."""
        self._call(
            path, lambda: self.kv.create_or_update_secret(path=path, secret=dict(data), mount_point=self.config.mount)
        )

    def delete(self, path: str) -> None:
        """Delete every version and the metadata (404 when absent)."""
        self._call(path, lambda: self.kv.read_secret_metadata(path=path, mount_point=self.config.mount))
        self._call(path, lambda: self.kv.delete_metadata_and_all_versions(path=path, mount_point=self.config.mount))

    def list(self, prefix: str) -> list[str]:
        """Keys below ``prefix`` (Vault's LIST; empty when nothing is there)."""
        try:
            answer = self._call(prefix, lambda: self.kv.list_secrets(path=prefix, mount_point=self.config.mount))
        except ApiError as error:
            if error.status_code == 404:
                return []
            raise
        return sorted(str(key) for key in ((answer or {}).get("data") or {}).get("keys") or [])
