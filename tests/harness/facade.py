"""The facade as a real process for e2e: its namespace, the chart's caller RBAC, users per role, HTTP clients.

``Facade.start(kubeconfig, kubectl, namespace, log_dir)`` prepares the served namespace (the chart's
daytwo-viewer/-editor/-admin ClusterRoles and the RoleBindings of groups daytwo:<role>, rendered
with helm from charts/daytwo exactly as installed), a bootstrap admin Secret, one user per role
(viewer, operator, admin; the bootstrap user ``root`` is the superadmin), then runs ``daytwo-api``
and waits for ``/ready`` (start-up done: the cache synced, the bootstrap admin set up). Self-registration is off unless
``allow_registration=True`` (the e2e session turns it on to test it; ``make demo`` keeps the default).

``facade.client(role)`` is an ``httpx.Client`` on the facade's root URL with that role's bearer
token (``None``: anonymous); paths include the API prefix, e.g. ``/platform9/drift/events``.
Logins come from distinct loopback addresses (127.0.1.x), so the per-IP login limit (10/min)
is left to the tests that exercise it.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from daytwo.api.auth.accounts import Accounts, User
from daytwo.api.auth.crypto import hash_password

from .helm import render
from .kubectl import Kubectl
from .operator import DaytwoProcess
from .processes import wait_until

__all__ = ["PASSWORDS", "ROLES_WITH_USERS", "Facade", "fresh_address", "seed_user"]

ROLES_WITH_USERS = ("viewer", "operator", "admin", "superadmin")
BOOTSTRAP_SECRET = "daytwo-api-bootstrap-admin"
#: username == role for the seeded users; the superadmin is the bootstrap user "root".
PASSWORDS = {role: f"{role}-e2e-password" for role in ROLES_WITH_USERS}
USERNAMES = {"viewer": "viewer", "operator": "operator", "admin": "admin", "superadmin": "root"}
_addresses = (f"127.0.1.{n}" for n in itertools.cycle(range(1, 255)))


def fresh_address() -> str:
    """A loopback address not used by the previous ~250 logins (each has its own login budget)."""
    return next(_addresses)


def caller_rbac(namespace: str) -> list[dict[str, Any]]:
    """The chart's objects that give impersonated callers their rights in ``namespace``."""
    wanted = {"daytwo-viewer", "daytwo-editor", "daytwo-admin"}
    return [
        obj
        for obj in render(namespace=namespace, kinds={"ClusterRole", "Role", "RoleBinding"})
        if obj["metadata"]["name"] in wanted
        or (obj["metadata"]["name"].startswith("daytwo-facade-") and not obj["metadata"]["name"].endswith("-state"))
    ]


def seed_user(kubectl: Kubectl, namespace: str, jwt_secret: str, username: str, password: str, role: str) -> None:
    """Store a user the way the facade does (signed Secret), as an administrator would with kubectl."""

    def write(method: str, path: str, body: Any, content_type: str) -> Any:
        kubectl.apply(json.dumps(body))
        return None

    accounts = Accounts(namespace, jwt_secret, None, write)
    accounts.put_user(
        User(username, hash_password(password), role, f"{username}@example.com", True, "2026-01-01T00:00:00Z", 0),
        create=True,
    )


@dataclass
class Facade:
    """The running facade and what a test needs to talk to it."""

    process: DaytwoProcess
    kubectl: Kubectl
    namespace: str
    jwt_secret: str
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        kubeconfig: Path,
        kubectl: Kubectl,
        namespace: str,
        log_dir: Path,
        env: dict[str, str] | None = None,
        port: int = 0,
        allow_registration: bool = False,
    ) -> Facade:
        """Prepare ``namespace`` and start ``daytwo-api`` serving it (registration off unless asked for)."""
        kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}))
        for obj in caller_rbac(namespace):
            kubectl.apply(json.dumps(obj))
        bootstrap = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": BOOTSTRAP_SECRET, "namespace": namespace},
            "stringData": {"username": USERNAMES["superadmin"], "password": PASSWORDS["superadmin"]},
        }
        kubectl.apply(json.dumps(bootstrap))
        jwt_secret = secrets.token_hex(32)
        for role in ("viewer", "operator", "admin"):
            seed_user(kubectl, namespace, jwt_secret, USERNAMES[role], PASSWORDS[role], role)
        settings = {
            "DAYTWO_API_NAMESPACE": namespace,
            "DAYTWO_API_JWT_SECRET": jwt_secret,
            "DAYTWO_API_BOOTSTRAP_SECRET": BOOTSTRAP_SECRET,
            # schemathesis and route walks call a lot; unit tests cover the per-user 429
            "DAYTWO_API_USER_RATE_PER_MINUTE": "100000",
            # the webhook receivers of the tests listen on loopback over http
            "DAYTWO_API_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "DAYTWO_API_ALLOW_REGISTRATION": "true" if allow_registration else "false",
            **(env or {}),
        }
        scheme = "https" if settings.get("DAYTWO_API_TLS_SECRET") else "http"
        process = DaytwoProcess("daytwo-api", kubeconfig, log_dir / "api.log", env=settings, port=port, scheme=scheme)
        facade = cls(process, kubectl, namespace, jwt_secret)
        facade._run()
        return facade

    def _run(self) -> None:
        self.process.start()
        wait_until(self._ready, 60, f"facade start-up ({self.process.log_path})")

    def _ready(self) -> bool:
        """``/ready`` answers 200; else raise what it still waits for (the timeout message names it)."""
        answer = httpx.get(f"{self.url}/ready", timeout=2, verify=self.verify)
        if answer.status_code != 200:
            raise RuntimeError(f"/ready {answer.status_code}: waiting for {answer.json().get('waiting')}")
        return True

    @property
    def verify(self) -> bool:
        """Whether clients verify the facade's certificate (not over HTTPS: its tests inspect the certificate)."""
        return self.process.scheme == "http"

    @property
    def url(self) -> str:
        """Root URL (sub-apps under /platform9, /horcrux, /pmi, /spot, /multicloud)."""
        return self.process.url

    def restart(self) -> None:
        """Stop and start the process (same settings, same Kubernetes state)."""
        self.process.stop()
        self._run()

    def stop(self) -> None:
        """Stop the process."""
        self.process.stop()

    def log(self) -> str:
        """What the facade logged so far."""
        return self.process.log()

    def http(self, local_address: str | None = None, **kwargs: Any) -> httpx.Client:
        """A plain client on the root URL (optionally from a given loopback address)."""
        transport = httpx.HTTPTransport(local_address=local_address, verify=self.verify) if local_address else None
        return httpx.Client(base_url=self.url, timeout=30, transport=transport, verify=self.verify, **kwargs)

    def login(self, role: str) -> str:
        """A bearer token for ``role`` (through platform9's /auth/login; cached for the session)."""
        if role not in self.tokens:
            with self.http(fresh_address()) as http:
                answer = http.post(
                    "/platform9/auth/login", json={"username": USERNAMES[role], "password": PASSWORDS[role]}
                )
            answer.raise_for_status()
            self.tokens[role] = answer.json()["access_token"]
        return self.tokens[role]

    def client(self, role: str | None) -> httpx.Client:
        """An HTTP client acting as ``role`` (None: anonymous)."""
        headers = {"Authorization": f"Bearer {self.login(role)}"} if role else {}
        return self.http(headers=headers)

    def auth_secrets(self, kind: str) -> list[dict[str, str]]:
        """The decoded data of the facade's Secrets of ``kind`` (user, apikey, revocations), read with kubectl."""
        listed = json.loads(
            self.kubectl.run(
                "get", "secrets", "-n", self.namespace, "-l", f"daytwo.io/facade-auth={kind}", "-o", "json"
            ).stdout
        )
        return [
            {k: base64.b64decode(v).decode() for k, v in (item.get("data") or {}).items()} for item in listed["items"]
        ]
