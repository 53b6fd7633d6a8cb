"""Every write route of every mounted API refuses an anonymous caller (401) and a viewer (403).

The route table is read from the application itself, so routes added later are covered without
touching this test. Exceptions are declared next to the auth routes (api/auth/routes.py):
PUBLIC_ROUTES (login, register, signup), SELF_SERVICE_ROUTES (a user's own logout, password, API
keys, preferences) and READ_ONLY_ROUTES (a query sent as POST); the last two still refuse anonymous callers.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import httpx
import pytest
from daytwo.api.app import create_app
from daytwo.api.auth.routes import PENDING_ROUTES, PUBLIC_ROUTES, READ_ONLY_ROUTES, SELF_SERVICE_ROUTES
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.harness.controlplane import LocalControlPlane
from tests.harness.facade import Facade, fresh_address
from tests.harness.operator import VENV_BIN
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def write_routes(methods_wanted: set[str] = WRITES) -> list[tuple[str, str, str]]:
    """(prefix, method, path template) of every write route (or of ``methods_wanted``) of every sub-app."""
    found = []
    for mount in create_app().routes:
        if not isinstance(mount, Mount):
            continue
        prefix = mount.path.strip("/")
        for route in iter_route_contexts(mount.routes):  # flattens included routers
            methods = set(getattr(route, "methods", None) or ())
            found.extend((prefix, method, str(route.path)) for method in sorted(methods & methods_wanted))
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


def test_a_registered_account_reads_nothing_until_an_admin_grants_a_role(
    facade: Facade, cluster: LocalControlPlane
) -> None:
    """Issue 16 item 2: self-registration (on in this session) gives role pending: 403 on every data route."""
    username = f"newcomer-{uuid.uuid4().hex[:8]}"
    with facade.http(fresh_address()) as http:
        created = http.post("/horcrux/api/auth/register", json={"username": username, "password": "long-enough-pw"})
        assert created.status_code == 201, created.text
    with facade.http(fresh_address()) as http:
        login = http.post("/horcrux/api/auth/login", json={"username": username, "password": "long-enough-pw"})
    assert login.status_code == 200 and login.json()["user"]["role"] == "pending"
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    wrong: list[str] = []
    with facade.http(headers=headers) as newcomer, facade.client(None) as anonymous:
        servers = newcomer.get("/platform9/servers")
        assert servers.status_code == 403 and "requires" in servers.json()["detail"]
        vms = newcomer.get("/horcrux/api/vms")
        assert vms.status_code == 403 and vms.json()["error"] == "FORBIDDEN"
        assert newcomer.get("/horcrux/api/auth/verify").json()["valid"] is True
        skip = PUBLIC_ROUTES | PENDING_ROUTES | SELF_SERVICE_ROUTES
        for prefix, method, template in write_routes(WRITES | {"GET"}):
            url = f"/{prefix}{concrete(template)}"
            if (prefix, method, template) in skip or anonymous.request(method, url, json={}).status_code != 401:
                continue  # own account, or open to anyone (health, docs, branding)
            answer = newcomer.request(method, url, json={})
            if answer.status_code != 403:
                wrong.append(f"{method} {url}: {answer.status_code} {answer.text[:120]}")
    assert wrong == [], "a pending account got through:\n" + "\n".join(wrong)
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "DAYTWO_API_NAMESPACE": facade.namespace,
        "DAYTWO_API_JWT_SECRET": facade.jwt_secret,
    }
    granted = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "daytwo.api.auth.admin", "set-role", username, "viewer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip() == f"{username}: role viewer"

    def reads() -> bool:
        return httpx.get(f"{facade.url}/platform9/servers", headers=headers, timeout=10).status_code == 200

    wait_until(reads, 15, "the granted role to reach the facade through its watch")
