"""Keystone calls: the token's identity, domains, projects, users, roles and role assignments."""

from __future__ import annotations

from typing import Any

from . import _convert
from ._base import ServiceCalls
from ._clients import Connection
from ._records import Domain, Identity, Project, Role, RoleAssignment, User

__all__ = ["IdentityCalls"]


class IdentityCalls(ServiceCalls):
    """Keystone v3 part of the backend."""

    def whoami(self) -> Identity:
        """Authenticate (if needed) and describe the identity and its catalog."""

        def run(conn: Connection) -> Identity:
            auth: Any = conn.session.auth
            access = auth.get_access(conn.session)
            services = tuple(sorted({str(s.get("type")) for s in (access.service_catalog.catalog or ())}))
            return Identity(
                user_id=str(access.user_id),
                project_id=access.project_id,
                domain_id=access.project_domain_id or access.user_domain_id,
                roles=tuple(access.role_names or ()),
                services=services,
                expires_at=access.expires.isoformat() if access.expires is not None else None,
            )

        return self._call("keystone whoami", run)

    def list_domains(self) -> list[Domain]:
        """All domains."""
        return self._list("list domains", "identity", "/domains", "domains", _convert.domain)

    def list_projects(self, *, domain_id: str | None = None) -> list[Project]:
        """All projects, optionally of one domain."""
        query = {"domain_id": domain_id} if domain_id else None
        return self._list("list projects", "identity", "/projects", "projects", _convert.project, query)

    def list_users(self, *, domain_id: str | None = None) -> list[User]:
        """All users, optionally of one domain."""
        query = {"domain_id": domain_id} if domain_id else None
        return self._list("list users", "identity", "/users", "users", _convert.user, query)

    def list_roles(self) -> list[Role]:
        """All roles."""
        return self._list("list roles", "identity", "/roles", "roles", _convert.role)

    def list_role_assignments(
        self, *, project_id: str | None = None, user_id: str | None = None
    ) -> list[RoleAssignment]:
        """Role assignments, optionally filtered by project scope and/or user."""
        query: dict[str, str] = {}
        if project_id:
            query["scope.project.id"] = project_id
        if user_id:
            query["user.id"] = user_id
        key = "role_assignments"
        return self._list("list role assignments", "identity", f"/{key}", key, _convert.role_assignment, query)
