"""In-memory stand-ins for unit tests of the facade (never used in e2e, which runs the real apiserver).

- :class:`SecretsAndConfigMaps`: the ``(method, path, body, content_type)`` writer the facade's
  accounts and audit log use, backed by dicts, answering like the apiserver (409/404 as ApiException).
- :class:`RecordingWriter`: a :class:`~daytwo.api.kubewrite.Writer` that records calls.
- :func:`unit_services` / :func:`route_client`: a facade app over a store filled from dicts,
  acting as a user of a given role, for route tests of every API.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from daytwo.api.app import create_app
from daytwo.api.audit import AuditLog
from daytwo.api.auth.accounts import Accounts
from daytwo.api.auth.crypto import hash_password
from daytwo.api.auth.roles import ROLES
from daytwo.api.auth.service import AuthService
from daytwo.api.deps import Services
from daytwo.api.settings import ApiSettings
from daytwo.api.store import ObjectStore
from fastapi.testclient import TestClient
from kubernetes.client import ApiException

__all__ = ["TEST_SECRET", "RecordingWriter", "SecretsAndConfigMaps", "route_client", "unit_services"]

TEST_SECRET = "unit-test-secret-0123456789abcdef0123456789"
PASSWORD = "password-for-tests"


def _error(status: int, message: str) -> ApiException:
    error = ApiException(status=status, reason=message)
    error.body = json.dumps({"kind": "Status", "message": message, "code": status})
    return error


@dataclass
class SecretsAndConfigMaps:
    """Secrets and ConfigMaps of one namespace in dicts, written like the apiserver would."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    version: int = 0

    def __call__(self, method: str, path: str, body: Any, content_type: str) -> Any:
        """Apply one write; returns the stored object (Secret data base64-encoded, as the API does)."""
        self.calls.append((method, path))
        parts = path.strip("/").split("/")  # api v1 namespaces NS KIND [NAME]
        kind, name = parts[4], (parts[5] if len(parts) > 5 else body["metadata"]["name"])
        key = f"{kind}/{name}"
        if method == "POST":
            if key in self.objects:
                raise _error(409, f'{kind} "{name}" already exists')
            stored = json.loads(json.dumps(body))
            stored["data"] = dict(stored.get("data") or {})
        elif method in ("PATCH", "GET", "DELETE"):
            if key not in self.objects:
                raise _error(404, f'{kind} "{name}" not found')
            if method == "GET":
                return self.objects[key]
            if method == "DELETE":
                return self.objects.pop(key)
            stored = self.objects[key]
            for k, v in (body.get("data") or {}).items():
                if v is None:
                    stored["data"].pop(k, None)
                else:
                    stored["data"][k] = v if kind == "configmaps" else base64.b64encode(v.encode()).decode()
            stored["metadata"]["labels"] = {
                **stored["metadata"].get("labels", {}),
                **body.get("metadata", {}).get("labels", {}),
            }
        else:
            raise AssertionError(method)
        for k, v in (body.get("stringData") or {}).items():
            stored["data"][k] = base64.b64encode(v.encode()).decode()
        stored.pop("stringData", None)
        self.version += 1
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[key] = stored
        return stored


@dataclass
class RecordingWriter:
    """A Writer that records what routes asked for and returns the body it was given."""

    calls: list[tuple[str, ...]] = field(default_factory=list)
    #: Secret name -> labels: what ``secret_metadata`` answers (create_secret adds, delete_secret removes).
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Secret name -> the labels it was last created or patched with (kept after a delete).
    written_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record a create."""
        self.calls.append(("create", kind, body.get("metadata", {}).get("name", "")))
        return body

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Record a patch."""
        self.calls.append(("patch", kind, name))
        return merge_patch

    def delete(self, kind: str, name: str) -> None:
        """Record a delete."""
        self.calls.append(("delete", kind, name))

    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        """Record an annotate."""
        self.calls.append(("annotate", kind, name))
        return {"metadata": {"name": name, "annotations": dict(annotations)}}

    def create_secret(self, name: str, string_data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        """Record a Secret create."""
        self.calls.append(("create_secret", name))
        self.secrets[name] = dict(labels or {})
        self.written_labels[name] = dict(labels or {})

    def patch_secret(
        self,
        name: str,
        string_data: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Record a Secret patch."""
        self.calls.append(("patch_secret", name))
        self.written_labels[name] = dict(labels or {})

    def delete_secret(self, name: str, preconditions: Mapping[str, str] | None = None) -> None:
        """Record a Secret delete."""
        self.calls.append(("delete_secret", name))
        self.secrets.pop(name, None)

    def secret_metadata(self, name: str) -> dict[str, Any] | None:
        """The labels ``secrets`` holds for ``name`` (None when absent)."""
        labels = self.secrets.get(name)
        return None if labels is None else {"name": name, "labels": dict(labels), "uid": f"uid-{name}"}


def unit_services(
    objects: Iterable[dict[str, Any]] = (),
    namespace: str = "daytwo",
    writer: RecordingWriter | None = None,
    **settings: Any,
) -> Services:
    """Services over a store filled from dicts, in-memory Secrets, one user per role (``<role>``/PASSWORD)."""
    config = ApiSettings(namespace=namespace, jwt_secret=TEST_SECRET, **settings)  # type: ignore[arg-type]
    store = ObjectStore.of(objects, namespace)
    backend = SecretsAndConfigMaps()
    accounts = Accounts(namespace, TEST_SECRET, None, backend)
    accounts.watcher.replace([], "1", notify=False)
    auth = AuthService(
        accounts, TEST_SECRET, config.token_lifetime_seconds, config.login_rate_per_minute, config.user_rate_per_minute
    )
    hashed = hash_password(PASSWORD)
    from daytwo.api.auth.accounts import User

    for role in ROLES:
        accounts.put_user(User(role, hashed, role, f"{role}@example.com", True, "2026-01-01T00:00:00Z", 0), create=True)
    recorder = writer or RecordingWriter()
    return Services(config, store, auth, None, AuditLog(store, None, namespace), writer_factory=lambda _p: recorder)


def route_client(
    objects: Iterable[dict[str, Any]] = (), role: str | None = "admin", namespace: str = "daytwo", **settings: Any
) -> tuple[TestClient, Services]:
    """A TestClient on the whole facade (all five sub-apps) logged in as ``role`` (None: anonymous).

    Paths include the prefix: ``client.get("/platform9/drift/events")``. ``services.writer_factory``
    returns one RecordingWriter: ``services.writer_for(p).calls`` shows what routes wrote.
    """
    services = unit_services(objects, namespace, **settings)
    client = TestClient(create_app(services=services), raise_server_exceptions=False)
    if role is not None:
        token = services.auth.login(role, PASSWORD).token if services.auth else ""
        client.headers["Authorization"] = f"Bearer {token}"
    return client, services
