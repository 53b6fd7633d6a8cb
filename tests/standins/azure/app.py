"""Entra ID client-credentials token endpoint + the few ARM reads daytwo makes, with real error bodies.

    POST /{tenant}/oauth2/v2.0/token                         client_credentials grant (client secret)
    GET  /{tenant}/v2.0/.well-known/openid-configuration     what MSAL reads when instance discovery is off
    GET  /subscriptions?api-version=...                      the subscriptions the caller can see
    GET  /subscriptions/{id}/providers/Microsoft.Compute/virtualMachines?api-version=...[&statusOnly=true]
    GET  /subscriptions/{id}/providers/Microsoft.Compute/disks?api-version=...
    GET  /subscriptions/{id}/providers/Microsoft.Network/virtualNetworks?api-version=...

Lists are paged: ``page_size`` items, then ``nextLink`` (absolute, with $skiptoken) as ARM does; they
include what ARM writes created. Writes (resource groups, VMs, disks, VNets, storage accounts, containers,
tag search, long-running operations and their polling) are served by ``arm.py`` under
/subscriptions/{id}/{rest:path}.
"""

from __future__ import annotations

import copy
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .arm import ArmWrites, arm_route
from .estate import ACTIONS, AzureEstate
from .httpstandin import ASGIApp, Faults, Journal, fault_middleware

__all__ = ["build_app", "error_body"]


def _arm_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _entra_error(status: int, error: str, code: int, description: str) -> JSONResponse:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: 0d1e2f3a Correlation ID: 4b5c6d7e",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": "0d1e2f3a-0000-0000-0000-000000000000",
        "correlation_id": "4b5c6d7e-0000-0000-0000-000000000000",
    }
    return JSONResponse(body, status_code=status)


def error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """The error body a fault answers with: Entra's shape on the token endpoint, ARM's elsewhere."""
    if "/oauth2/" in path:
        return {
            "error": "temporarily_unavailable",
            "error_description": f"AADSTS50196: {message}",
            "error_codes": [50196],
        }
    codes = {
        429: "TooManyRequests",
        500: "InternalServerError",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }
    return {"error": {"code": codes.get(status, "Error"), "message": message}}


def build_app(estate: AzureEstate, faults: Faults, journal: Journal) -> ASGIApp:
    """The Starlette app over ``estate``, wrapped in the fault/journal middleware."""

    async def openid_configuration(request: Request) -> JSONResponse:
        tenant = request.path_params["tenant"]
        if tenant != estate.tenant_id:
            return _entra_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        base = f"{request.url.scheme}://{request.url.netloc}/{tenant}"
        return JSONResponse(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "tenant_region_scope": "EU",
            }
        )

    async def token(request: Request) -> JSONResponse:
        tenant = request.path_params["tenant"]
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if tenant != estate.tenant_id:
            return _entra_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
            )
        if form.get("grant_type") != "client_credentials":
            return _entra_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client_id = str(form.get("client_id", ""))
        with estate.lock:
            principal = estate.principals.get(client_id)
        if principal is None:
            return _entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        request.scope["state"]["principal"] = client_id
        if form.get("client_secret") != principal.secret:
            return _entra_error(
                401,
                "invalid_client",
                7000215,
                f"Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        if not str(form.get("scope", "")).endswith("/.default"):
            return _entra_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
        access = estate.issue_token(client_id)
        lifetime = estate.token_lifetime
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access}
        )

    def _caller(request: Request) -> tuple[str | None, JSONResponse | None]:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None, _arm_error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        with estate.lock:
            entry = estate.tokens.get(header[7:])
        if entry is None:
            return None, _arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        client_id, expires = entry
        request.scope["state"]["principal"] = client_id
        if expires < time.time():
            return None, _arm_error(
                401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time."
            )
        if not request.query_params.get("api-version"):
            return None, _arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        return client_id, None

    def _page(request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        start = int(request.query_params.get("$skiptoken", "0") or 0)
        chunk = items[start : start + estate.page_size]
        body: dict[str, Any] = {"value": chunk}
        if start + estate.page_size < len(items):
            query = {k: v for k, v in request.query_params.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + estate.page_size)
            body["nextLink"] = str(request.url.replace_query_params(**query))
        return JSONResponse(body)

    async def subscriptions(request: Request) -> JSONResponse:
        client_id, failure = _caller(request)
        if failure is not None:
            return failure
        with estate.lock:
            visible = sorted(estate.principals[str(client_id)].subscriptions & set(estate.subscriptions))
            items = [
                {
                    "id": f"/subscriptions/{sub}",
                    "subscriptionId": sub,
                    "tenantId": estate.tenant_id,
                    "displayName": estate.subscriptions[sub],
                    "state": "Enabled",
                    "subscriptionPolicies": {
                        "locationPlacementId": "Public_2014-09-01",
                        "quotaId": "PayAsYouGo_2014-09-01",
                        "spendingLimit": "Off",
                    },
                    "authorizationSource": "RoleBased",
                }
                for sub in visible
            ]
        return _page(request, items)

    async def resources(request: Request) -> JSONResponse:
        client_id, failure = _caller(request)
        if failure is not None:
            return failure
        sub, kind = request.path_params["subscription"], request.path_params["kind"]
        action = ACTIONS.get(kind)
        with estate.lock:
            principal = estate.principals[str(client_id)]
            known = sub in estate.subscriptions
            estate.arm.settle()
            items = list(estate.resources.get(sub, {}).get(kind, ()))
            items += estate.arm.listed(sub, f"{request.url.path.split('/')[4]}/{kind}")
        if action is None:
            return _arm_error(
                400, "InvalidResourceType", f"The resource type '{kind}' could not be found in the namespace."
            )
        if not known:
            return _arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        if sub not in principal.subscriptions or action not in principal.actions:
            return _arm_error(
                403,
                "AuthorizationFailed",
                f"The client '{client_id}' with object id '{principal.object_id}' does not have authorization to "
                f"perform action '{action}' over scope '/subscriptions/{sub}' or the scope is invalid. If access "
                "was recently granted, please refresh your credentials.",
            )
        status_only = request.query_params.get("statusOnly", "").lower() == "true"
        shaped = [_shape(item, status_only) for item in items]
        return _page(request, shaped)

    def actions_of(request: Request) -> tuple[str, set[str]] | JSONResponse:
        client_id, failure = _caller(request)
        if failure is not None:
            return failure
        with estate.lock:
            return str(client_id), set(estate.principals[str(client_id)].actions)

    writes = arm_route(ArmWrites(estate), actions_of)
    routes = [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/subscriptions", subscriptions),
        Route("/subscriptions/{subscription}/providers/Microsoft.Compute/{kind}", resources),
        Route("/subscriptions/{subscription}/providers/Microsoft.Network/{kind}", resources),
        Route("/subscriptions/{subscription}/{rest:path}", writes, methods=["GET", "PUT", "PATCH", "DELETE"]),
    ]
    return fault_middleware(Starlette(routes=routes), faults, journal, error_body)


def _shape(item: dict[str, Any], status_only: bool) -> dict[str, Any]:
    """A copy without the stand-in's private fields; VMs get instanceView.statuses with statusOnly=true."""
    shaped = copy.deepcopy(item)
    props = shaped.get("properties", {})
    power = props.pop("_power", None)
    if power and status_only:
        display = "VM running" if power.endswith("running") else "VM deallocated"
        props["instanceView"] = {
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"},
                {"code": power, "level": "Info", "displayStatus": display},
            ]
        }
    return shaped
