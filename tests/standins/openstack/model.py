"""The in-memory estate: plain dicts shaped like the APIs return them, plus tokens and transitions."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock

__all__ = ["Delays", "Model", "Token"]

Record = dict[str, Any]


@dataclass
class Token:
    """An issued token; requests with it fail with 401 once the clock passes ``expires_at``."""

    user_id: str
    project_id: str | None
    roles: list[str]
    expires_at: float
    methods: list[str]

    @property
    def is_admin(self) -> bool:
        """Admin tokens may list all tenants and manage aggregates."""
        return "admin" in self.roles


@dataclass
class Delays:
    """How many clock seconds each asynchronous transition takes."""

    volume_create: float = 2.0
    snapshot_create: float = 2.0
    server_build: float = 5.0
    delete: float = 1.0


@dataclass
class Model:
    """All state of one stand-in cloud. Guard mutations with ``lock``."""

    clock: Clock
    region: str = "RegionOne"
    token_lifetime: float = 3600.0
    delays: Delays = field(default_factory=Delays)
    catalog: set[str] = field(default_factory=lambda: {"identity", "compute", "volumev3", "network", "image"})
    lock: threading.RLock = field(default_factory=threading.RLock)
    domains: dict[str, Record] = field(default_factory=dict)
    projects: dict[str, Record] = field(default_factory=dict)
    users: dict[str, Record] = field(default_factory=dict)
    roles: dict[str, Record] = field(default_factory=dict)
    assignments: list[Record] = field(default_factory=list)
    app_credentials: dict[str, Record] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    flavors: dict[str, Record] = field(default_factory=dict)
    images: dict[str, Record] = field(default_factory=dict)
    hypervisors: dict[str, Record] = field(default_factory=dict)
    aggregates: dict[int, Record] = field(default_factory=dict)
    servers: dict[str, Record] = field(default_factory=dict)
    volumes: dict[str, Record] = field(default_factory=dict)
    snapshots: dict[str, Record] = field(default_factory=dict)
    networks: dict[str, Record] = field(default_factory=dict)
    subnets: dict[str, Record] = field(default_factory=dict)
    ports: dict[str, Record] = field(default_factory=dict)
    floating_ips: dict[str, Record] = field(default_factory=dict)
    security_groups: dict[str, Record] = field(default_factory=dict)
    quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    _pending: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _next_aggregate_id: int = 1

    def __post_init__(self) -> None:
        self.clock.on_advance(self.settle)

    # ids and time
    def new_id(self) -> str:
        """A deterministic UUID from the seeded RNG."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_aggregate_id(self) -> int:
        """Nova aggregate ids are integers."""
        value = self._next_aggregate_id
        self._next_aggregate_id += 1
        return value

    def now_iso(self, *, micro: bool = False) -> str:
        """The clock's now as an API timestamp."""
        return self.clock.iso(micro=micro)

    # transitions
    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the clock is ``delay`` seconds further (immediately if delay <= 0)."""
        with self.lock:
            if delay <= 0:
                action()
                return
            heapq.heappush(self._pending, (self.clock.now() + delay, next(self._seq), action))

    def settle(self) -> None:
        """Apply every transition that is due."""
        with self.lock:
            now = self.clock.now()
            while self._pending and self._pending[0][0] <= now:
                _, _, action = heapq.heappop(self._pending)
                action()

    def pending_count(self) -> int:
        """Transitions not yet due."""
        with self.lock:
            return len(self._pending)

    # identity helpers
    def user_by_name(self, name: str, domain: str | None) -> Record | None:
        """Find a user by name in a domain given by name or id (None: any domain)."""
        for user in self.users.values():
            if user["name"] != name:
                continue
            dom = self.domains.get(user["domain_id"], {})
            if domain is None or domain in (dom.get("name"), dom.get("id")):
                return user
        return None

    def project_by_name(self, name: str, domain: str | None) -> Record | None:
        """Find a project by name in a domain given by name or id."""
        for project in self.projects.values():
            if project["name"] != name:
                continue
            dom = self.domains.get(project["domain_id"], {})
            if domain is None or domain in (dom.get("name"), dom.get("id")):
                return project
        return None

    def role_names(self, user_id: str, project_id: str | None) -> list[str]:
        """Names of the roles a user holds on a project."""
        ids = {a["role_id"] for a in self.assignments if a["user_id"] == user_id and a["project_id"] == project_id}
        return sorted(self.roles[r]["name"] for r in ids if r in self.roles)

    def issue_token(self, user_id: str, project_id: str | None, methods: list[str]) -> tuple[str, Token]:
        """Create a token valid for ``token_lifetime`` clock seconds."""
        token = Token(
            user_id=user_id,
            project_id=project_id,
            roles=self.role_names(user_id, project_id),
            expires_at=self.clock.now() + self.token_lifetime,
            methods=methods,
        )
        token_id = "gAAAA" + uuid.uuid4().hex + uuid.uuid4().hex
        with self.lock:
            self.tokens[token_id] = token
        return token_id, token

    def expire_all_tokens(self) -> None:
        """Make every issued token invalid (as if Keystone's keys rotated)."""
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, self.clock.now())

    # compute helpers
    def host_names(self) -> set[str]:
        """Compute service hosts (each hypervisor's ``service.host``)."""
        return {h["service"]["host"] for h in self.hypervisors.values()}

    def host_azs(self, host: str, *, skip_aggregate: int | None = None) -> set[str]:
        """Availability zones the host already has through its aggregates."""
        return {
            a["availability_zone"]
            for a in self.aggregates.values()
            if a["id"] != skip_aggregate and host in a["hosts"] and a["availability_zone"]
        }
