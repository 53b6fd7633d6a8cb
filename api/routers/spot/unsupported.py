"""Spot manager endpoints with nothing behind them in daytwo: 501 in the spot envelope, after auth.

They are routed (a dashboard gets a clear message) but left out of the OpenAPI document.

RunPod launches and Hyperstack firewall/images need a Hyperstack API key Secret, a backend for VM
create and firewall attachments and their own bounded kind (preview -> execute); the OpenStack
network/server helpers exist only to wire those launches. NetBox (the hosts' tenant/owner columns)
has no route of its own: those columns are null. See README "AggregateMigration" for the design.
"""

from __future__ import annotations

from daytwo.api.deps import require
from daytwo.api.errors import ApiError
from fastapi import APIRouter

from .models import errors

__all__ = ["UNSUPPORTED", "router"]

router = APIRouter(tags=["spot: not in daytwo"])
_HYPERSTACK = (
    "daytwo has no Hyperstack/RunPod integration (it would need a Hyperstack API key Secret, a backend for "
    "VM launch and firewall attachments, and its own kind)"
)
_NETWORK = "daytwo does not run ad-hoc OpenStack network/server commands; they only served RunPod launches"
#: (method, path, why) of every 501 route.
UNSUPPORTED: tuple[tuple[str, str, str], ...] = (
    ("POST", "/api/preview-runpod-launch", _HYPERSTACK),
    ("POST", "/api/execute-runpod-launch", _HYPERSTACK),
    ("POST", "/api/hyperstack/firewall/get-attachments", _HYPERSTACK),
    ("POST", "/api/hyperstack/firewall/update-attachments", _HYPERSTACK),
    ("GET", "/api/hyperstack/images", _HYPERSTACK),
    ("POST", "/api/openstack/network/show", _NETWORK),
    ("POST", "/api/openstack/port/create", _NETWORK),
    ("POST", "/api/openstack/server/add-network", _NETWORK),
    ("POST", "/api/openstack/server/get-uuid", _NETWORK),
    ("POST", "/api/openstack/server/status", _NETWORK),
)
RESPONSES = errors(e401="Not authenticated", e403="The role lacks the permission", e501="Not implemented in daytwo")


def _add(method: str, path: str, why: str) -> None:
    permission = "inventory:read" if method == "GET" else "migrations:write"

    def not_implemented() -> None:
        raise ApiError(501, f"{method} {path} is not available: {why}", "NOT_IMPLEMENTED")

    not_implemented.__name__ = "not_implemented_" + path.strip("/").replace("/", "_").replace("-", "_")
    not_implemented.__doc__ = f"Not implemented in daytwo: {why}."
    router.add_api_route(
        path,
        not_implemented,
        methods=[method],
        responses=RESPONSES,
        status_code=501,
        response_model=None,
        dependencies=[require(permission)],
    )


for _method, _path, _why in UNSUPPORTED:
    _add(_method, _path, _why)
