"""Route tests of the platform9 API: a bare app with the pf9 router, a store filled from dicts, a fake writer.

``World.get(path, role=...)`` / ``World.send(method, path, role=...)`` act as a logged-in user of that
role (None: anonymous). The fake writer applies writes to the store, so reads see them at once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from daytwo.api.deps import Principal
from daytwo.api.errors import ApiError, install_envelope
from daytwo.api.routers import merge_routes, platform9
from daytwo.api.store import ObjectStore
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.harness.fakes import PASSWORD, unit_services

NAMESPACE = "daytwo"


def merge(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class FakeWriter:
    """Records every call and applies it to the store (what the apiserver + watch would do)."""

    def __init__(self, store: ObjectStore, principal: Principal, calls: list[tuple[Any, ...]]) -> None:
        self.store, self.principal, self.calls = store, principal, calls

    def _apply(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        self.store._watcher(kind).apply({"type": event, "object": obj})

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", kind, body, self.principal.username))
        name = body["metadata"]["name"]
        if self.store.get(kind, name) is not None:
            raise ApiError(409, f"{kind} {name} already exists", "CONFLICT")
        obj = copy.deepcopy(body)
        obj.update(apiVersion="daytwo.io/v1alpha1" if kind != "ConfigMap" else "v1", kind=kind)
        obj["metadata"] = {
            **obj["metadata"],
            "namespace": NAMESPACE,
            "creationTimestamp": "2026-12-01T00:00:00Z",
            "resourceVersion": "2",
        }
        self._apply(kind, "ADDED", obj)
        return copy.deepcopy(obj)

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("patch", kind, name, merge_patch, self.principal.username))
        current = self.store.get(kind, name)
        if current is None:
            raise ApiError(404, f"{kind} {name} not found", "NOT_FOUND")
        obj = merge(copy.deepcopy(current), merge_patch)
        obj["metadata"]["resourceVersion"] = str(int(current["metadata"].get("resourceVersion") or 0) + 1)
        self._apply(kind, "MODIFIED", obj)
        return copy.deepcopy(obj)

    def delete(self, kind: str, name: str) -> None:
        self.calls.append(("delete", kind, name, self.principal.username))
        current = self.store.get(kind, name)
        if current is None:
            raise ApiError(404, f"{kind} {name} not found", "NOT_FOUND")
        self._apply(kind, "DELETED", current)

    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        return self.patch(kind, name, {"metadata": {"annotations": dict(annotations)}})

    def create_secret(self, name: str, string_data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        raise AssertionError("platform9 routes write no Secrets through the caller")

    patch_secret = create_secret  # type: ignore[assignment]
    delete_secret = create_secret  # type: ignore[assignment]


_TOKENS: dict[str, str] = {}


class World:
    """The pf9 router in a bare app over a store filled from dicts, with real auth (tests/harness/fakes.py).

    Users are named after their role (``viewer``, ``operator``, ``admin``, ``superadmin``); the fake
    writer applies writes to the store so reads see them.
    """

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.services = unit_services(objects, NAMESPACE)
        self.store = self.services.store
        self.calls: list[tuple[Any, ...]] = []
        self.services.writer_factory = lambda principal: FakeWriter(self.store, principal, self.calls)
        app = FastAPI()
        install_envelope(app, "platform9")
        merge_routes(app.router, platform9.router)
        app.state.daytwo = self.services
        self.app = app
        self.client = TestClient(app, raise_server_exceptions=False)

    def _headers(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        if role not in _TOKENS:
            assert self.services.auth is not None
            _TOKENS[role] = self.services.auth.login(role, PASSWORD).token
        return {"Authorization": f"Bearer {_TOKENS[role]}"}

    def get(self, path: str, role: str | None = "viewer", **kwargs: Any) -> Any:
        """GET as ``role``."""
        return self.client.get(path, headers=self._headers(role), **kwargs)

    def send(self, method: str, path: str, role: str | None = "admin", **kwargs: Any) -> Any:
        """Any method as ``role``."""
        return self.client.request(method, path, headers=self._headers(role), **kwargs)


@pytest.fixture
def world() -> Callable[[list[dict[str, Any]]], World]:
    """Build a World from objects."""
    return World


@pytest.fixture
def client_for() -> Iterator[Callable[[list[dict[str, Any]]], World]]:
    """Alias of world (readability in route tests)."""
    yield World
