"""Every write route of every mounted API refuses an anonymous caller (401) and a viewer (403).

The route table is read from the application itself, so routes added later are covered without
touching this test. Exceptions are declared next to the auth routes (api/auth/routes.py):
PUBLIC_ROUTES (login, register, signup), SELF_SERVICE_ROUTES (a user's own logout, password, API
keys, preferences) and READ_ONLY_ROUTES (a query sent as POST); the last two still refuse anonymous callers.
"""

from __future__ import annotations

import re

import pytest
from daytwo.api.app import create_app
from daytwo.api.auth.routes import PUBLIC_ROUTES, READ_ONLY_ROUTES, SELF_SERVICE_ROUTES
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.harness.facade import Facade

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def write_routes() -> list[tuple[str, str, str]]:
    """(prefix, method, path template) of every write route of every sub-app."""
    found = []
    for mount in create_app().routes:
        if not isinstance(mount, Mount):
            continue
        prefix = mount.path.strip("/")
        for route in iter_route_contexts(mount.routes):  # flattens included routers
            methods = set(getattr(route, "methods", None) or ())
            found.extend((prefix, method, str(route.path)) for method in sorted(methods & WRITES))
    return sorted(found)


def concrete(template: str) -> str:
    """A path for the template: every parameter becomes a plausible id."""
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_every_write_route_refuses_anonymous_and_viewer_callers(facade: Facade) -> None:
    routes = [r for r in write_routes() if r not in PUBLIC_ROUTES]
    assert routes, "no write routes found"
    wrong: list[str] = []
    with facade.client(None) as anonymous, facade.client("viewer") as viewer:
        for prefix, method, template in routes:
            url = f"/{prefix}{concrete(template)}"
            answer = anonymous.request(method, url, json={})
            if answer.status_code != 401:
                wrong.append(f"anonymous {method} {url}: {answer.status_code} {answer.text[:120]}")
            if (prefix, method, template) in SELF_SERVICE_ROUTES | READ_ONLY_ROUTES:
                continue
            answer = viewer.request(method, url, json={})
            if answer.status_code != 403:
                wrong.append(f"viewer {method} {url}: {answer.status_code} {answer.text[:120]}")
    assert wrong == [], f"{len(wrong)} of {len(routes)} write routes let a caller through:\n" + "\n".join(wrong)
