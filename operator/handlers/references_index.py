"""What the users of a credential need to know about it, in memory: Kopf indexes over CloudCredentials,
ProxmoxNodes and Secret metadata, filled from the watches Kopf runs, instead of a GET per pass.

- ``credential_specs`` maps ``(kind, namespace, name)`` of every CloudCredential and ProxmoxNode to its spec:
  a user's pass checks that its credential exists and names usable Secrets
  (:func:`reference_check`), and learns the cloud endpoint its backend calls go to (:func:`pass_endpoint`,
  what the pass pool limits per endpoint).
- ``credential_binding`` maps the same keys to the credential's ``status.secretBinding`` (which version of
  which Secret it last sent where): with :func:`credential_view` a user's pass re-checks the endpoint binding
  from memory and reuses the values read before while the Secret's resourceVersion is unchanged.
- ``credential_ready`` maps the same keys to the credential's Ready condition (status, reason, message), for
  users that wait until their credential is Ready (CloudResource).
- ``secret_meta`` maps ``(namespace, name)`` of every Secret to :class:`SecretMeta`: resourceVersion, whether
  it carries the opt-in label ``daytwo.io/credential=true`` and, only then, its key names. No value is ever
  kept; values are read where a backend is built, with the checks of ``reconcile.secretaccess``.

A user whose reference is broken backs off (``polling.BackOff``) and is woken at once when what it waits
for changes: a credential created, its spec changed, its Ready flipping, or a Secret a credential names
created or updated (the users come from the ``credential_users`` index of ``users_index``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import by_kind
from daytwo.crds.secrets import is_credential_secret

from ..reconcile.conditions import ConditionUpdate
from ..reconcile.references import (
    ObjectRef,
    SecretMeta,
    credential_endpoint,
    credential_reference_condition,
    missing_reference_condition,
    object_refs,
    secret_refs,
)
from .users_index import CREDENTIAL_KINDS, INDEX_ID, UsersIndex, users_in
from .wakeups import WAKE, WakeKey

__all__ = [
    "BINDING_INDEX",
    "CREDENTIALS_INDEX",
    "READY_INDEX",
    "SECRETS_INDEX",
    "CredentialView",
    "credential_key_of",
    "credential_ready",
    "credential_view",
    "own_secrets_check",
    "pass_endpoint",
    "reference_check",
    "register",
    "secrets_of",
    "wake_users",
]

#: Index ids (also the keyword arguments Kopf passes them to every handler as).
CREDENTIALS_INDEX = "credential_specs"
READY_INDEX = "credential_ready"
SECRETS_INDEX = "secret_meta"
BINDING_INDEX = "credential_binding"
#: Per-credential memo key: what its users last saw of it (deleted, generation, Ready).
_SEEN_MEMO = "users_saw"
#: Which credentials name which Secret: (namespace, secret) -> credential keys (maintained on the event loop).
_NAMED: dict[tuple[str, str], set[WakeKey]] = {}
_NAMES_OF: dict[WakeKey, set[str]] = {}


def _only(index: Mapping[Any, Iterable[Any]], key: Any) -> Any:
    """The one value an index holds for ``key`` (one object per key), or None."""
    store = index.get(key)
    return next(iter(store), None) if store is not None else None


def credential_key_of(kind: str, namespace: str, spec: Mapping[str, Any]) -> WakeKey | None:
    """(kind, namespace, name) of the credential a user's spec names, or None."""
    ref = next((ref for ref in object_refs(kind, dict(spec)) if ref.kind in CREDENTIAL_KINDS), None)
    return None if ref is None else (ref.kind, namespace, ref.name)


def reference_check(
    kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]
) -> ConditionUpdate | None:
    """Ready=False naming what is missing of the credential a user needs (the credential, its Secret, a
    key, the opt-in label), from the indexes in ``indexes`` (a handler's kwargs); None when usable or when
    the indexes are not there (the pass then finds out itself). Call on the event loop."""
    key = credential_key_of(kind, namespace, spec)
    if key is None or CREDENTIALS_INDEX not in indexes or SECRETS_INDEX not in indexes:
        return None
    credential = _only(indexes[CREDENTIALS_INDEX], key)
    secrets: dict[str, SecretMeta] = {}
    if credential is not None:
        for secret in secret_refs(key[0], dict(credential)):
            found = _only(indexes[SECRETS_INDEX], (namespace, secret.name))
            if found is not None:
                secrets[secret.name] = found
    return credential_reference_condition(ObjectRef(key[0], key[2]), credential, secrets)


@dataclass(frozen=True)
class CredentialView:
    """A credential as the watches last delivered it: its spec, its ``status.secretBinding`` (None: not
    bound yet) and the metadata of the Secrets it names (None: absent). No Secret value."""

    kind: str
    namespace: str
    name: str
    spec: dict[str, Any]
    binding: dict[str, Any] | None
    secrets: dict[str, SecretMeta | None]


def credential_view(
    kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]
) -> CredentialView | None:
    """The indexed view of the credential a user's spec names; None when the indexes are not there or the
    credential is not known (the pass then reads it). Call on the event loop."""
    key = credential_key_of(kind, namespace, spec)
    if key is None or any(index not in indexes for index in (CREDENTIALS_INDEX, SECRETS_INDEX, BINDING_INDEX)):
        return None
    credential = _only(indexes[CREDENTIALS_INDEX], key)
    if credential is None:
        return None
    binding = _only(indexes[BINDING_INDEX], key)
    secrets = {
        ref.name: _only(indexes[SECRETS_INDEX], (namespace, ref.name)) for ref in secret_refs(key[0], dict(credential))
    }
    return CredentialView(key[0], namespace, key[2], dict(credential), dict(binding) if binding else None, secrets)


def secrets_of(
    kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]
) -> dict[str, SecretMeta | None] | None:
    """Name -> metadata (None: absent; never values) of every Secret a credential's ``spec`` names, from the
    Secret index; None when the index is not there. Call on the event loop."""
    if SECRETS_INDEX not in indexes:
        return None
    return {ref.name: _only(indexes[SECRETS_INDEX], (namespace, ref.name)) for ref in secret_refs(kind, dict(spec))}


def own_secrets_check(
    kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]
) -> ConditionUpdate | None:
    """For a credential itself (CloudCredential, ProxmoxNode): Ready=False naming the first of its Secrets
    that is missing, refused (no opt-in label) or lacks a key (SecretNotFound, SecretNotAllowed,
    KeyMissing), from the Secret index; None when they look usable or the index is not there (the pass
    then reads them where it builds its backend, which checks again). Call on the event loop."""
    if SECRETS_INDEX not in indexes:
        return None
    refs = secret_refs(kind, dict(spec))
    found = {ref.name: _only(indexes[SECRETS_INDEX], (namespace, ref.name)) for ref in refs}
    keys = {ref: (None if found[ref.name] is None else set(found[ref.name].keys)) for ref in refs}
    refused = [name for name, meta in found.items() if meta is not None and not meta.allowed]
    return missing_reference_condition({}, keys, refused)


def credential_ready(
    kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The Ready condition (``status``, ``reason``, ``message``) of the credential a user's spec names, from
    the index; None when it has none yet, the credential is unknown or the index is not there. Call on the
    event loop."""
    key = credential_key_of(kind, namespace, spec)
    if key is None or READY_INDEX not in indexes:
        return None
    found = _only(indexes[READY_INDEX], key)
    return dict(found) if found is not None else None


def pass_endpoint(kind: str, namespace: str, spec: Mapping[str, Any], indexes: Mapping[str, Any]) -> str | None:
    """The cloud endpoint a pass of this object talks to: its own for a credential, its credential's for a
    user (from the index), the credential's name while that is unknown; None for an object with no cloud."""
    if kind in CREDENTIAL_KINDS:
        return credential_endpoint(kind, spec)
    key = credential_key_of(kind, namespace, spec)
    if key is None:
        return None
    credential = _only(indexes[CREDENTIALS_INDEX], key) if CREDENTIALS_INDEX in indexes else None
    return credential_endpoint(key[0], credential) if credential is not None else "/".join(key)


def wake_users(users_index: UsersIndex, credential: WakeKey) -> int:
    """Wake every user of ``credential`` (their daemons re-run at once); how many were woken."""
    woken = 0
    for user in users_in(users_index, *credential):
        user_kind, _, user_name = user.partition("/")
        woken += WAKE.wake((user_kind, credential[1], user_name))
    return woken


def _seen(type: str | None, body: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """What a credential's users depend on: gone or not, its generation, its Ready status."""
    ready = next(
        (c.get("status") for c in (body.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None
    )
    return type == "DELETED", (body.get("metadata") or {}).get("generation"), ready


def register() -> None:
    """Register the two indexes and the wake-ups of users when their credential or its Secrets change."""
    for kind in CREDENTIAL_KINDS:
        plural = by_kind(kind).info.plural

        def index_credential(
            spec: kopf.Spec, name: str, namespace: str | None, _kind: str = kind, **_: Any
        ) -> dict[WakeKey, dict[str, Any]]:
            return {(_kind, str(namespace), name): dict(spec)}

        def credential_changed(type: str | None, body: kopf.Body, memo: Any, **_: Any) -> bool:
            return bool(_seen(type, body) != memo.get(_SEEN_MEMO))

        async def wake_on_credential(
            type: str | None,
            body: kopf.Body,
            spec: kopf.Spec,
            name: str,
            namespace: str | None,
            memo: Any,
            _kind: str = kind,
            **kwargs: Any,
        ) -> None:
            key: WakeKey = (_kind, str(namespace), name)
            first = _SEEN_MEMO not in memo
            memo[_SEEN_MEMO] = _seen(type, body)
            names = set() if type == "DELETED" else {ref.name for ref in secret_refs(_kind, dict(spec))}
            _track_secrets(key, names)
            if not (first and type is None):  # the initial listing wakes nobody: nobody has waited yet
                wake_users(kwargs[INDEX_ID], key)

        def index_ready(
            body: kopf.Body, name: str, namespace: str | None, _kind: str = kind, **_: Any
        ) -> dict[WakeKey, dict[str, str]]:
            conditions = (body.get("status") or {}).get("conditions") or []
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready is None:
                return {}
            fields = {field: str(ready.get(field) or "") for field in ("status", "reason", "message")}
            return {(_kind, str(namespace), name): fields}

        def index_binding(
            status: kopf.Status, name: str, namespace: str | None, _kind: str = kind, **_: Any
        ) -> dict[WakeKey, dict[str, Any]]:
            binding = dict(status.get("secretBinding") or {})
            return {(_kind, str(namespace), name): binding} if binding else {}

        kopf.index(GROUP, VERSION, plural, id=CREDENTIALS_INDEX)(index_credential)
        kopf.index(GROUP, VERSION, plural, id=BINDING_INDEX)(index_binding)
        kopf.index(GROUP, VERSION, plural, id=READY_INDEX)(index_ready)
        kopf.on.event(GROUP, VERSION, plural, id="wake-users", when=credential_changed)(wake_on_credential)

    def index_secret(body: kopf.Body, name: str, namespace: str | None, **_: Any) -> dict[tuple[str, str], SecretMeta]:
        labels = dict(body.get("metadata", {}).get("labels") or {})
        allowed = is_credential_secret(labels)
        keys = frozenset(body.get("data") or {}) if allowed else frozenset()
        version = str(body.get("metadata", {}).get("resourceVersion", ""))
        return {(str(namespace), name): SecretMeta(version, allowed, keys)}

    def secret_named(type: str | None, name: str, namespace: str | None, **_: Any) -> bool:
        return type is not None and (str(namespace), name) in _NAMED

    async def wake_on_secret(name: str, namespace: str | None, **kwargs: Any) -> None:
        for credential in list(_NAMED.get((str(namespace), name), ())):
            wake_users(kwargs[INDEX_ID], credential)

    kopf.index("", "v1", "secrets", id=SECRETS_INDEX)(index_secret)
    kopf.on.event("", "v1", "secrets", id="wake-credential-users", when=secret_named)(wake_on_secret)


def _track_secrets(credential: WakeKey, names: set[str]) -> None:
    """Record which Secrets ``credential`` names now (none once deleted)."""
    namespace = credential[1]
    before = _NAMES_OF.pop(credential, set())
    for secret in before - names:
        owners = _NAMED.get((namespace, secret), set())
        owners.discard(credential)
        if not owners:
            _NAMED.pop((namespace, secret), None)
    for secret in names:
        _NAMED.setdefault((namespace, secret), set()).add(credential)
    if names:
        _NAMES_OF[credential] = set(names)
