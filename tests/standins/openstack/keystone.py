"""Keystone v3: version discovery, tokens (password and application credential), identity lists."""

from __future__ import annotations

from typing import Any

from keystoneauth1 import fixture
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import body_of, json_response, model_of, require_token
from .errors import keystone_error
from .model import Model, Record, Token

__all__ = ["SERVICES", "routes"]

# catalog type -> (name, path under the base URL)
SERVICES: dict[str, tuple[str, str]] = {
    "identity": ("keystone", "/identity"),
    "compute": ("nova", "/compute/v2.1"),
    "volumev3": ("cinderv3", "/volume/v3"),
    "network": ("neutron", "/network"),
    "image": ("glance", "/image"),
}
_UNAUTHORIZED = "The request you have made requires authentication."


def _version(base: str) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


async def versions(request: Request) -> Response:
    """GET /identity: the version list (300 Multiple Choices, as Keystone answers)."""
    return json_response({"versions": {"values": [_version(request.app.state.base_url)]}}, status=300)


async def version(request: Request) -> Response:
    """GET /identity/v3."""
    return json_response({"version": _version(request.app.state.base_url)})


def _authenticate(model: Model, identity: dict[str, Any]) -> tuple[Record, str | None, list[str], str | None]:
    methods = list(identity.get("methods") or [])
    if "password" in methods:
        user_ref = (identity.get("password") or {}).get("user") or {}
        if "id" in user_ref:
            user = model.users.get(user_ref["id"])
        else:
            domain = user_ref.get("domain") or {}
            user = model.user_by_name(str(user_ref.get("name")), domain.get("name") or domain.get("id"))
        if user is None or user.get("_password") != user_ref.get("password") or not user["enabled"]:
            raise keystone_error(401, _UNAUTHORIZED)
        return user, None, methods, None
    if "application_credential" in methods:
        ref = identity.get("application_credential") or {}
        cred = model.app_credentials.get(str(ref.get("id")))
        if cred is None or cred["secret"] != ref.get("secret"):
            raise keystone_error(401, _UNAUTHORIZED)
        return model.users[cred["user_id"]], cred["project_id"], methods, cred["id"]
    raise keystone_error(401, _UNAUTHORIZED)


def _scope_project(model: Model, scope: dict[str, Any]) -> str | None:
    ref = scope.get("project")
    if not ref:
        return None
    if "id" in ref:
        project = model.projects.get(ref["id"])
    else:
        domain = ref.get("domain") or {}
        project = model.project_by_name(str(ref.get("name")), domain.get("name") or domain.get("id"))
    if project is None:
        raise keystone_error(401, _UNAUTHORIZED)
    return str(project["id"])


def token_body(model: Model, base: str, token: Token, app_cred_id: str | None) -> dict[str, Any]:
    """A token response built with keystoneauth's own V3Token fixture."""
    user = model.users[token.user_id]
    user_domain = model.domains[user["domain_id"]]
    body = fixture.V3Token(
        expires=model.clock.datetime(token.expires_at),
        issued=model.clock.datetime(),
        user_id=user["id"],
        user_name=user["name"],
        user_domain_id=user_domain["id"],
        user_domain_name=user_domain["name"],
        methods=token.methods,
        application_credential_id=app_cred_id,
    )
    if token.project_id:
        project = model.projects[token.project_id]
        project_domain = model.domains[project["domain_id"]]
        body.set_project_scope(
            id=project["id"],
            name=project["name"],
            domain_id=project_domain["id"],
            domain_name=project_domain["name"],
        )
        for role in model.roles.values():
            if role["name"] in token.roles:
                body.add_role(name=role["name"], id=role["id"])
        for service_type in sorted(model.catalog):
            name, path = SERVICES[service_type]
            service = body.add_service(service_type, name=name, id=f"svc-{service_type}")
            url = f"{base}{path}"
            service.add_standard_endpoints(public=url, internal=url, admin=url, region=model.region)
    return dict(body)


async def issue_token(request: Request) -> Response:
    """POST /identity/v3/auth/tokens."""
    model = model_of(request)
    data = await body_of(request)
    auth = data.get("auth") or {}
    with model.lock:
        user, project_id, methods, app_cred = _authenticate(model, auth.get("identity") or {})
        if project_id is None:
            project_id = _scope_project(model, auth.get("scope") or {})
            if project_id and not model.role_names(user["id"], project_id):
                raise keystone_error(401, _UNAUTHORIZED)
        token_id, token = model.issue_token(user["id"], project_id, methods)
        body = token_body(model, request.app.state.base_url, token, app_cred)
    return json_response(body, status=201, headers={"X-Subject-Token": token_id})


async def validate_token(request: Request) -> Response:
    """GET /identity/v3/auth/tokens (X-Subject-Token)."""
    model = model_of(request)
    require_token(request)
    subject = model.tokens.get(request.headers.get("x-subject-token", ""))
    if subject is None or subject.expires_at <= model.clock.now():
        raise keystone_error(404, "Could not find token.")
    body = token_body(model, request.app.state.base_url, subject, None)
    return json_response(body, headers={"X-Subject-Token": request.headers["x-subject-token"]})


def _listing(collection: str, key: str, filters: tuple[str, ...] = ()) -> Any:
    async def handler(request: Request) -> Response:
        token = require_token(request)
        if not token.is_admin:
            raise keystone_error(403, f"You are not authorized to perform the requested action: identity:list_{key}.")
        model = model_of(request)
        with model.lock:
            items = list(getattr(model, collection).values())
        for name in filters:
            wanted = request.query_params.get(name)
            if wanted is not None:
                items = [i for i in items if i.get(name) == wanted]
        base = request.app.state.base_url
        out = []
        for item in items:
            public = {k: v for k, v in item.items() if not k.startswith("_")}
            public["links"] = {"self": f"{base}/identity/v3/{key}/{item['id']}"}
            out.append(public)
        return json_response({key: out, "links": {"self": str(request.url), "next": None, "previous": None}})

    return handler


async def role_assignments(request: Request) -> Response:
    """GET /identity/v3/role_assignments with scope.project.id / user.id filters."""
    token = require_token(request)
    if not token.is_admin:
        raise keystone_error(403, "You are not authorized to perform the requested action.")
    model = model_of(request)
    project = request.query_params.get("scope.project.id")
    user = request.query_params.get("user.id")
    out = []
    with model.lock:
        for a in model.assignments:
            if (project and a["project_id"] != project) or (user and a["user_id"] != user):
                continue
            out.append(
                {
                    "role": {"id": a["role_id"]},
                    "user": {"id": a["user_id"]},
                    "scope": {"project": {"id": a["project_id"]}},
                    "links": {"assignment": f"{request.app.state.base_url}/identity/v3/projects/{a['project_id']}"},
                }
            )
    return json_response({"role_assignments": out, "links": {"self": str(request.url), "next": None}})


routes = [
    Route("/identity", versions),
    Route("/identity/", versions),
    Route("/identity/v3", version),
    Route("/identity/v3/", version),
    Route("/identity/v3/auth/tokens", issue_token, methods=["POST"]),
    Route("/identity/v3/auth/tokens", validate_token, methods=["GET"]),
    Route("/identity/v3/domains", _listing("domains", "domains", ("name", "enabled"))),
    Route("/identity/v3/projects", _listing("projects", "projects", ("domain_id", "name"))),
    Route("/identity/v3/users", _listing("users", "users", ("domain_id", "name"))),
    Route("/identity/v3/roles", _listing("roles", "roles", ("name",))),
    Route("/identity/v3/role_assignments", role_assignments),
]
