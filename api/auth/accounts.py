"""Users, API keys and token revocations, kept in labelled Secrets of the served namespace.

Every Secret the facade keeps for itself is labelled ``daytwo.io/facade-auth=<user|apikey|revocations>``
and named ``daytwo-api-...``; one :class:`~daytwo.api.store.Watcher` keeps them in memory (so
checking a key or a revocation never waits on the apiserver, and every replica sees the others'
writes), and the facade writes them with its own ServiceAccount. Records are HMAC-signed
(:func:`~daytwo.api.auth.crypto.sign_record`); an unsigned or edited record is ignored.

Secret layout (``data``, base64 as usual):

- ``daytwo-api-user-<sha256(username)[:20]>``: username, password_hash (argon2id), role, email,
  active, created_at, id, token_generation (bumped by a password change: older JWTs stop working;
  signed when present, so records written before it existed still verify), horcrux_role and grants
  (the horcrux role it was created with and its ``[[path, privilege], ...]`` JSON; signed when
  present, like token_generation), signature
- ``daytwo-api-key-<sha256(key)[:20]>``: key_hash (sha256), key_prefix, name, username, created_at,
  id, signature
- ``daytwo-api-revocations``: ``<jti>: <expiry epoch>``; expired entries are pruned on each logout,
  so revocations survive restarts and the Secret stays small.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from daytwo.operator.shared.times import format_time

from ..store import KindSpec, Watcher, WatchSource
from .crypto import hash_api_key, sign_record

__all__ = [
    "AUTH_LABEL",
    "PREFERENCES_KEY",
    "SECRETS",
    "Accounts",
    "ApiKey",
    "SecretWriter",
    "User",
    "key_secret_name",
    "user_secret_name",
]

log = logging.getLogger("daytwo.api.auth")

AUTH_LABEL = "daytwo.io/facade-auth"
SECRETS = KindSpec("Secret", "/api/v1", "secrets", AUTH_LABEL)
REVOCATIONS = "daytwo-api-revocations"
#: Key of a user's Secret holding their UI preferences (JSON; not part of the signed record).
PREFERENCES_KEY = "preferences.json"
USER_FIELDS = ("username", "password_hash", "role", "email", "full_name", "active", "created_at", "id")
#: Signed when present (added later: records without them still verify; removing one breaks the signature).
USER_OPTIONAL_FIELDS = ("token_generation", "horcrux_role", "grants")
KEY_FIELDS = ("key_hash", "key_prefix", "name", "username", "created_at", "expires_at", "id")

#: (method, path, body, content_type) -> decoded JSON; raises on HTTP errors. The facade's own identity.
SecretWriter = Callable[[str, str, Any, str], Any]


def user_secret_name(username: str) -> str:
    """Secret name of a user (hash: usernames need not be DNS labels)."""
    return "daytwo-api-user-" + hashlib.sha256(username.encode()).hexdigest()[:20]


def key_secret_name(key_hash: str) -> str:
    """Secret name of an API key."""
    return "daytwo-api-key-" + key_hash[:20]


def _decode(secret: dict[str, Any]) -> dict[str, str]:
    data = secret.get("data") or {}
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def _stable_id(text: str) -> int:
    """A small, stable integer id (horcrux documents numeric user ids)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 1_000_000_000


@dataclass(frozen=True)
class User:
    """A stored user (the hash never leaves this module's callers)."""

    username: str
    password_hash: str
    role: str
    email: str
    active: bool
    created_at: str
    id: int
    full_name: str = ""
    #: JWTs carry the generation they were issued under; only the current one authenticates.
    token_generation: int = 0
    #: the horcrux role the account was created with ("" when created otherwise)
    horcrux_role: str = ""
    #: explicit (path, privilege) grants (``POST /api/permissions/{user}``), in the order given
    grants: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (only its hash)."""

    key_hash: str
    key_prefix: str
    name: str
    username: str
    created_at: str
    expires_at: str  # "" = never
    id: int

    @property
    def key_id(self) -> str:
        """The public id of the key (horcrux's ``key_abc123``)."""
        return "key_" + self.key_hash[:12]

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the key is past its expiry."""
        if not self.expires_at:
            return False
        return datetime.fromisoformat(self.expires_at.replace("Z", "+00:00")) <= (now or datetime.now(UTC))


def _grants(text: str) -> tuple[tuple[str, str], ...]:
    """The stored grants JSON as (path, privilege) pairs (malformed entries are dropped)."""
    try:
        loaded = json.loads(text) if text else []
    except ValueError:
        return ()
    if not isinstance(loaded, list):
        return ()
    return tuple(
        (str(g[0]), str(g[1]))
        for g in loaded
        if isinstance(g, list) and len(g) == 2 and all(isinstance(x, str) for x in g)
    )


def _key(r: dict[str, str]) -> ApiKey:
    return ApiKey(
        r["key_hash"], r["key_prefix"], r["name"], r["username"], r["created_at"], r["expires_at"], int(r["id"] or 0)
    )


class Accounts:
    """Read users/keys/revocations from the watched Secrets; write them through ``write``."""

    def __init__(self, namespace: str, secret: str, source: WatchSource | None, write: SecretWriter) -> None:
        self.namespace = namespace
        self._secret = secret
        self._write = write
        self.watcher = Watcher(SECRETS, namespace, source)

    # -- reading (memory only) ---------------------------------------------------------------
    def _verified(self, name: str, fields: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str] | None:
        obj = self.watcher.objects.get(name)
        if obj is None:
            return None
        data = _decode(obj)
        record = {k: data.get(k, "") for k in fields}
        record.update({k: data[k] for k in optional if k in data})
        if data.get("signature") != sign_record(self._secret, record):
            log.warning("ignoring Secret %s: its signature does not match (edited outside the facade?)", name)
            return None
        return record

    def user(self, username: str) -> User | None:
        """The user called ``username``, if stored and correctly signed."""
        r = self._verified(user_secret_name(username), USER_FIELDS, USER_OPTIONAL_FIELDS)
        if r is None or r["username"] != username:
            return None
        generation = r.get("token_generation", "0")
        return User(
            r["username"],
            r["password_hash"],
            r["role"],
            r["email"],
            r["active"] == "true",
            r["created_at"],
            int(r["id"] or 0),
            r["full_name"],
            int(generation) if generation.isdigit() else 0,
            r.get("horcrux_role", ""),
            _grants(r.get("grants", "")),
        )

    def users(self) -> list[User]:
        """All stored users, by username."""
        found = []
        for obj in self.watcher.sorted_objects():
            if obj.get("metadata", {}).get("labels", {}).get(AUTH_LABEL) == "user":
                username = _decode(obj).get("username", "")
                user = self.user(username)
                if user:
                    found.append(user)
        return sorted(found, key=lambda u: u.username)

    def api_key(self, key: str) -> ApiKey | None:
        """The stored key matching the presented ``key`` (compared by hash)."""
        digest = hash_api_key(key)
        r = self._verified(key_secret_name(digest), KEY_FIELDS)
        if r is None or r["key_hash"] != digest:
            return None
        return _key(r)

    def api_keys(self, username: str) -> list[ApiKey]:
        """The keys of ``username``."""
        keys = []
        for obj in self.watcher.sorted_objects():
            if obj.get("metadata", {}).get("labels", {}).get(AUTH_LABEL) != "apikey":
                continue
            r = self._verified(obj["metadata"]["name"], KEY_FIELDS)
            if r and r["username"] == username:
                keys.append(_key(r))
        return keys

    def revoked(self, jti: str) -> bool:
        """Whether the token ``jti`` was logged out."""
        obj = self.watcher.objects.get(REVOCATIONS)
        return bool(obj and jti in (obj.get("data") or {}))

    # -- writing (the facade's own ServiceAccount) ------------------------------------------------
    def _secret_body(self, name: str, kind: str, fields: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {AUTH_LABEL: kind, "app.kubernetes.io/managed-by": "daytwo-api"},
            },
            "type": "Opaque",
            "stringData": {**fields, "signature": sign_record(self._secret, fields)},
        }

    def _remember(self, obj: dict[str, Any] | None) -> None:
        """Apply our own write to the cache now (read-your-writes; the watch brings the same later)."""
        if obj and obj.get("metadata"):
            self.watcher.apply({"type": "MODIFIED", "object": obj})

    def _path(self, name: str = "") -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets" + (f"/{name}" if name else "")

    def put_user(self, user: User, create: bool) -> None:
        """Create (409 if taken) or replace a user record."""
        fields = {
            "username": user.username,
            "password_hash": user.password_hash,
            "role": user.role,
            "email": user.email,
            "full_name": user.full_name,
            "active": "true" if user.active else "false",
            "created_at": user.created_at,
            "id": str(user.id or _stable_id(user.username)),
            "token_generation": str(user.token_generation),
            "horcrux_role": user.horcrux_role,
            "grants": json.dumps([list(g) for g in user.grants], separators=(",", ":")),
        }
        name = user_secret_name(user.username)
        body = self._secret_body(name, "user", fields)
        if create:
            self._remember(self._write("POST", self._path(), body, "application/json"))
        else:
            patch = {"stringData": body["stringData"], "metadata": {"labels": body["metadata"]["labels"]}}
            self._remember(self._write("PATCH", self._path(name), patch, "application/merge-patch+json"))

    @staticmethod
    def user_id_for(username: str) -> int:
        """The numeric id ``username`` gets (a hash of the name: stable across replicas and restarts)."""
        return _stable_id(username)

    def user_by_id(self, user_id: int) -> User | None:
        """The user whose numeric id is ``user_id`` (ids derive from the username: stable, no counter)."""
        return next((u for u in self.users() if u.id == user_id), None)

    def delete_user(self, user: User) -> None:
        """Delete a user's Secret and its API keys (its tokens stop authenticating at once)."""
        for key in self.api_keys(user.username):
            self.delete_api_key(key)
        name = user_secret_name(user.username)
        self._write("DELETE", self._path(name), None, "application/json")
        self.watcher.apply({"type": "DELETED", "object": {"metadata": {"name": name}}})

    def preferences(self, username: str) -> dict[str, Any] | None:
        """The user's saved preferences ({} when none), or None when the user has no record.

        Preferences ride in the user's Secret (key ``preferences.json``), outside the signed fields:
        they grant nothing, so editing them by hand changes only what the user sees.
        """
        obj = self.watcher.objects.get(user_secret_name(username))
        if obj is None:
            return None
        raw = _decode(obj).get(PREFERENCES_KEY)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def put_preferences(self, username: str, preferences: dict[str, Any]) -> None:
        """Replace the user's preferences (the caller checks size and that the record exists)."""
        text = json.dumps(preferences, sort_keys=True)
        patch = {"stringData": {PREFERENCES_KEY: text}}
        self._remember(
            self._write("PATCH", self._path(user_secret_name(username)), patch, "application/merge-patch+json")
        )

    def put_api_key(self, key_hash: str, key_prefix: str, name: str, username: str, expires_at: str = "") -> ApiKey:
        """Store a new key's hash for ``username``."""
        now = format_time(datetime.now(UTC))
        fields = {
            "expires_at": expires_at,
            "key_hash": key_hash,
            "key_prefix": key_prefix,
            "name": name,
            "username": username,
            "created_at": now,
            "id": str(_stable_id(key_hash)),
        }
        self._remember(
            self._write(
                "POST", self._path(), self._secret_body(key_secret_name(key_hash), "apikey", fields), "application/json"
            )
        )
        return _key(fields)

    def delete_api_key(self, key: ApiKey) -> None:
        """Delete a stored key."""
        name = key_secret_name(key.key_hash)
        self._write("DELETE", self._path(name), None, "application/json")
        self.watcher.apply({"type": "DELETED", "object": {"metadata": {"name": name}}})

    def revoke(self, jti: str, expires_at: datetime) -> None:
        """Record a logout until the token would have expired anyway; prune entries past their expiry."""
        now = int(time.time())
        current = (self.watcher.objects.get(REVOCATIONS) or {}).get("data") or {}
        expired = {k: None for k, v in current.items() if int(base64.b64decode(v) or b"0") < now}
        patch = {"data": expired, "stringData": {jti: str(int(expires_at.timestamp()))}}
        try:
            obj = self._write("PATCH", self._path(REVOCATIONS), patch, "application/merge-patch+json")
        except Exception as error:
            if getattr(error, "status", None) != 404:
                raise
            body = self._secret_body(REVOCATIONS, "revocations", {})
            body["stringData"] = {jti: str(int(expires_at.timestamp()))}
            obj = self._write("POST", self._path(), body, "application/json")
        self._remember(obj)
