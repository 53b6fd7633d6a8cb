"""Google OAuth (service-account JWT bearer grant) + the Compute Engine reads daytwo makes.

    POST /token                                           grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
    GET  /compute/v1/projects/{project}
    GET  /compute/v1/projects/{project}/aggregated/instances?maxResults=&pageToken=
    GET  /compute/v1/projects/{project}/aggregated/disks?maxResults=&pageToken=
    GET  /compute/v1/projects/{project}/global/networks?maxResults=&pageToken=

Writes (instances, disks, networks, subnetworks, operations and their polling, Cloud Storage buckets) are
served by ``writes.py``; what they create shows in the lists above.

The token endpoint verifies the assertion's RS256 signature against the public key of the key it
issued (looked up by the JWT's ``kid``), its issuer, audience and lifetime, as Google does.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.standins.azure.httpstandin import ASGIApp, Faults, Journal, fault_middleware

from .estate import PERMISSIONS, GcpEstate
from .writes import ComputeWrites

__all__ = ["GOOGLE_TOKEN_URI", "build_app", "error_body"]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_REASONS = {401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 503: "backendError"}


def _api_error(status: int, message: str, reason: str | None = None) -> JSONResponse:
    return JSONResponse(error_body("/compute", status, message, reason), status_code=status)


def error_body(path: str, status: int, message: str, reason: str | None = None) -> dict[str, Any]:
    """Google's error shapes: OAuth's flat one on /token, the API's {"error": {code, message, errors, status}}."""
    if path == "/token":
        return {"error": "internal_failure", "error_description": message}
    detail = {"message": message, "domain": "global", "reason": reason or _REASONS.get(status, "backendError")}
    return {"error": {"code": status, "message": message, "errors": [detail], "status": _STATUS.get(status, "UNKNOWN")}}


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def build_app(estate: GcpEstate, faults: Faults, journal: Journal) -> ASGIApp:
    """The Starlette app over ``estate``, wrapped in the fault/journal middleware."""

    async def token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _oauth_error("unsupported_grant_type", "Invalid grant_type: " + str(form.get("grant_type", "")))
        try:
            head64, claims64, sig64 = str(form.get("assertion", "")).split(".")
            header, claims = json.loads(_b64(head64)), json.loads(_b64(claims64))
        except ValueError:
            return _oauth_error("invalid_grant", "Invalid JWT: could not be parsed.")
        with estate.lock:
            account = estate.accounts.get(str(header.get("kid", "")))
        if header.get("alg") != "RS256" or account is None:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        request.scope["state"]["principal"] = account.email
        try:
            account.public_key.verify(_b64(sig64), f"{head64}.{claims64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != account.email:
            return _oauth_error("invalid_grant", "Invalid JWT: issuer does not match the key's service account.")
        # google-auth always signs for Google's token endpoint, which Google (and so we) accept
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, f"{request.url.scheme}://{request.url.netloc}/token"):
            return _oauth_error("invalid_grant", "Invalid JWT: audience is not this token endpoint.")
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)) or claims["exp"] - claims["iat"] > 3600:
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
            )
        if not claims.get("scope"):
            return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        access = estate.issue_token(account.email)
        with estate.lock:
            estate.writes.token_scopes[access] = str(claims["scope"])
        return JSONResponse({"access_token": access, "expires_in": estate.token_lifetime, "token_type": "Bearer"})

    def _caller(request: Request, permission: str) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        with estate.lock:
            entry = estate.tokens.get(header[7:]) if header.startswith("Bearer ") else None
            allowed = {p for a in estate.accounts.values() if entry and a.email == entry[0] for p in a.permissions}
        if entry is None or entry[1] < time.time():
            return _api_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
            )
        request.scope["state"]["principal"] = entry[0]
        project = request.path_params["project"]
        if project != estate.project_id:
            return _api_error(404, f"The resource 'projects/{project}' was not found")
        if permission not in allowed:
            return _api_error(403, f"Required '{permission}' permission for 'projects/{project}'")
        return None

    def _bounds(request: Request) -> tuple[int, int]:
        try:
            size = min(int(request.query_params.get("maxResults", "500")), 500, estate.page_size)
            start = int(request.query_params.get("pageToken", "0") or 0)
        except ValueError:
            return -1, -1
        return start, max(size, 1)

    async def project(request: Request) -> JSONResponse:
        failure = _caller(request, PERMISSIONS["project"])
        if failure is not None:
            return failure
        return JSONResponse(
            {
                "kind": "compute#project",
                "id": "1234567890123456789",
                "name": estate.project_id,
                "creationTimestamp": "2025-06-01T09:00:00.000-07:00",
                "defaultServiceAccount": "123456789012-compute@developer.gserviceaccount.com",
                "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
                "defaultNetworkTier": "PREMIUM",
            }
        )

    def _listing(request: Request, what: str) -> JSONResponse:
        failure = _caller(request, PERMISSIONS[what])
        if failure is not None:
            return failure
        start, size = _bounds(request)
        if start < 0:
            return _api_error(400, "Invalid value for field 'pageToken'.", "invalid")
        with estate.lock:
            items = list({"instances": estate.instances, "disks": estate.disks, "networks": estate.networks}[what])
        chunk = items[start : start + size]
        body: dict[str, Any] = {"id": f"projects/{estate.project_id}/{what}", "selfLink": str(request.url)}
        if what == "networks":
            body.update(kind="compute#networkList", items=chunk)
        else:
            grouped: dict[str, dict[str, Any]] = {}
            for item in chunk:
                grouped.setdefault("zones/" + item["zone"].rsplit("/", 1)[-1], {what: []})[what].append(item)
            empty = {
                "warning": {"code": "NO_RESULTS_ON_PAGE", "message": "There are no results for scope on this page."}
            }
            for zone in ("us-east1-b", "asia-east1-a"):
                grouped.setdefault(f"zones/{zone}", empty)
            body.update(kind=f"compute#{what[:-1]}AggregatedList", items=grouped)
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return JSONResponse(body)

    async def instances(request: Request) -> JSONResponse:
        return _listing(request, "instances")

    async def disks(request: Request) -> JSONResponse:
        return _listing(request, "disks")

    async def networks(request: Request) -> JSONResponse:
        return _listing(request, "networks")

    routes = [
        *ComputeWrites(estate, _caller).routes(),
        Route("/token", token, methods=["POST"]),
        Route("/compute/v1/projects/{project}", project),
        Route("/compute/v1/projects/{project}/aggregated/instances", instances),
        Route("/compute/v1/projects/{project}/aggregated/disks", disks),
        Route("/compute/v1/projects/{project}/global/networks", networks),
    ]
    return fault_middleware(Starlette(routes=routes), faults, journal, error_body)
