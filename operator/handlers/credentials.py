"""The one place that turns a ``credentialsRef`` into a cloud backend: CloudCredential + Secret -> client.

Every kind that talks to OpenStack goes through :func:`openstack_backend`, to Proxmox through
:func:`proxmox_backend` (a ProxmoxNode and its token Secret); the CloudCredential kind
itself reaches any of the four providers through :func:`cloud_account`. It reads the
CloudCredential and its Secret (only CloudCredential and ProxmoxNode Secrets are ever read, and only those
labelled ``daytwo.io/credential=true``; see ``reconcile.secretaccess`` for the label and the endpoint
binding checked before any value leaves the operator), builds
the connection parameters and returns a backend from the operator's one client cache
(:class:`BackendClients`, a :class:`~daytwo.operator.backends.runtime.ClientCache`): a client is keyed by
its credential (namespace/kind/name) and versioned by the Secret's resourceVersion and the parameters'
fingerprint, so a rotated Secret gets a new, re-authenticated client, and :func:`invalidate` (called when
a CloudCredential or ProxmoxNode is deleted) drops it. The per-endpoint concurrency limits come from
:class:`~daytwo.operator.settings.OperatorSettings`; nothing is built at import.
Missing objects raise :class:`CredentialsNotFound` with a message that names what to create; the
message never contains a Secret value.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from daytwo.crds.proxmoxnode import ProxmoxNodeSpec

from ..backends.aws import AwsClientFactory, AwsConnectionParams
from ..backends.azure import AzureClientFactory, AzureConnectionParams
from ..backends.gcp import GcpClientFactory, GcpConnectionParams
from ..backends.openstack import (
    OpenStackBackend,
    OpenStackClients,
    OpenStackClientSettings,
    OpenStackConnectionParams,
    connect,
    install_shared_clients,
)
from ..backends.proxmox import ProxmoxBackend, ProxmoxClientFactory, ProxmoxConnectionParams
from ..backends.records import CloudIdentity, Inventory
from ..backends.runtime import ClientCache, CredentialKey
from ..errors import CredentialsNotFound, InvalidRequest
from ..kube import KubeClient, SecretRead, kube_client
from ..reconcile.secretaccess import (
    Binding,
    Bound,
    SecretRefused,
    binding_decision,
    endpoint_fingerprint,
    not_allowed_message,
)
from ..settings import OperatorSettings
from .openstack_account import OpenStackAccount

if TYPE_CHECKING:  # references_index imports users_index, which imports this module
    from .references_index import CredentialView

__all__ = [
    "BackendClients",
    "CloudAccount",
    "ResolvedCredential",
    "aws_params",
    "azure_params",
    "backend_clients",
    "checked_binding",
    "cloud_account",
    "configure_backends",
    "forget_resolved",
    "gcp_params",
    "invalidate",
    "openstack_backend",
    "openstack_params",
    "proxmox_backend",
    "proxmox_backend_for",
    "proxmox_connection",
    "proxmox_params",
    "remember_resolved",
    "resolve_credential",
    "reused_credential",
]

#: Read timeout of one public-cloud call: it bounds a hung call; a full inventory page (1,000 EC2
#: instances, 500 GCP instances) takes seconds on a real cloud, longer on a loaded endpoint.
CLOUD_TIMEOUT_SECONDS = 60.0
#: Clients kept at most (least recently used go first): credentials plus OpenStack project scopes of restores.
MAX_CACHED_CLIENTS = 256


class BackendClients:
    """Every backend client of the operator, in one cache, with the limits of the operator's settings."""

    def __init__(self, settings: OperatorSettings) -> None:
        self.cache = ClientCache(max_entries=MAX_CACHED_CLIENTS)
        limit = settings.backend_concurrency
        self.aws = AwsClientFactory(max_concurrency=limit, cache=self.cache)
        self.azure = AzureClientFactory(max_concurrency=limit, cache=self.cache)
        self.gcp = GcpClientFactory(max_concurrency=limit, cache=self.cache)
        self.proxmox = ProxmoxClientFactory(max_concurrency=limit, cache=self.cache)
        openstack = OpenStackClientSettings(max_concurrency_per_endpoint=settings.openstack_concurrency)
        self.openstack = OpenStackClients(openstack, cache=self.cache)

    def invalidate(self, namespace: str, kind: str, name: str) -> int:
        """Drop and close every client of one credential; returns how many went."""
        return self.cache.invalidate(namespace, kind, name)


_clients: BackendClients | None = None
_clients_lock = threading.Lock()


def configure_backends(settings: OperatorSettings) -> BackendClients:
    """Make the operator's backend clients with these settings (the old ones, if any, are closed)."""
    global _clients
    made = BackendClients(settings)
    with _clients_lock:
        old, _clients = _clients, made
    install_shared_clients(made.openstack)  # connect(params) elsewhere uses the same cache and limits
    if old is not None:
        old.cache.close()
    return made


def backend_clients() -> BackendClients:
    """The operator's backend clients, made from the environment's settings on first use."""
    with _clients_lock:
        found = _clients
    return found if found is not None else configure_backends(OperatorSettings())


def invalidate(namespace: str, kind: str, name: str) -> int:
    """Drop the cached clients of a CloudCredential or ProxmoxNode (it was deleted); returns how many."""
    if kind == "CloudCredential":
        forget_resolved(namespace, name)
    with _clients_lock:
        found = _clients
    return found.invalidate(namespace, kind, name) if found is not None else 0


class CloudAccount(Protocol):
    """What the CloudCredential kind needs from any provider: who it is, and what it holds."""

    def validate(self) -> CloudIdentity:
        """The provider's validation call(s); raises the shared error taxonomy."""
        ...

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """Normalised VMs, storage and networks."""
        ...


@dataclass(frozen=True)
class ResolvedCredential:
    """A CloudCredential with the values of its Secret (logical key -> value)."""

    name: str
    spec: dict[str, Any]
    values: dict[str, str]
    secret_resource_version: str
    ca_pem: str | None
    binding: Binding | None = None  # what status.secretBinding becomes once the values are sent
    namespace: str = ""

    @property
    def key(self) -> CredentialKey:
        """The cache key of this credential's clients."""
        return CredentialKey(self.namespace, "CloudCredential", self.name)

    def value(self, logical: str) -> str | None:
        """The Secret value for a logical key name (``password``, ``accessKeyId``...), or None."""
        return self.values.get(logical)


def _read(reader: KubeClient, namespace: str, name: str, missing: str) -> SecretRead:
    """A Secret with its values; CredentialsNotFound (``missing``) when absent, SecretNotAllowed without the label."""
    found = reader.read_secret(namespace, name, values=True)
    if found is None:
        raise CredentialsNotFound(missing)
    if not found.allowed:
        raise SecretRefused("SecretNotAllowed", not_allowed_message(name))
    return found


def _ca_pem(reader: KubeClient, namespace: str, ca_ref: dict[str, Any] | None) -> str | None:
    """The PEM a ``caSecretRef`` names (the CA Secret must opt in like any other), or None."""
    return _ca_read(reader, namespace, ca_ref)[0]


def _ca_read(reader: KubeClient, namespace: str, ca_ref: dict[str, Any] | None) -> tuple[str | None, dict[str, str]]:
    """The PEM a ``caSecretRef`` names and {CA Secret name: its resourceVersion} (both empty without one)."""
    if not ca_ref:
        return None, {}
    message = f"CA Secret {ca_ref['name']!r} or its key {ca_ref['key']!r} is missing"
    ca = _read(reader, namespace, ca_ref["name"], message)
    if not ca.values.get(ca_ref["key"]):
        raise CredentialsNotFound(message)
    return ca.values[ca_ref["key"]], {ca_ref["name"]: ca.resource_version}


def _bindings(reader: KubeClient, namespace: str, kind: str, name: str) -> list[Bound]:
    """The bindings of every other CloudCredential and ProxmoxNode of the namespace."""
    found = []
    for other_kind in ("CloudCredential", "ProxmoxNode"):
        for other in reader.list_objects(other_kind, namespace):
            binding = Binding.from_status(other.get("status"))
            if binding is not None and (other_kind, other["metadata"]["name"]) != (kind, name):
                found.append(Bound(other_kind, other["metadata"]["name"], binding))
    return found


def checked_binding(
    reader: KubeClient, namespace: str, obj: dict[str, Any], secret_name: str, secret: SecretRead
) -> Binding:
    """The binding sending ``secret`` where ``obj`` says would give; SecretRefused when it may not be sent."""
    kind, spec = obj["kind"], obj["spec"]
    current = Binding(secret.uid, secret.resource_version, endpoint_fingerprint(kind, spec))
    stored = Binding.from_status(obj.get("status"))
    others = _bindings(reader, namespace, kind, obj["metadata"]["name"]) if stored is None else []
    decision = binding_decision(kind, spec, secret_name, current, stored, others)
    if not decision.allowed:
        raise decision.refusal()
    return current


#: (namespace, CloudCredential name) -> (what was read: the credential's spec and {Secret name: resourceVersion}
#: of its Secret and CA Secret, the credential resolved from them); see :func:`resolve_credential`'s ``view``.
_RESOLVED: dict[tuple[str, str], tuple[dict[str, Any], dict[str, str], ResolvedCredential]] = {}
_resolved_lock = threading.Lock()


def reused_credential(view: CredentialView) -> ResolvedCredential | None:
    """The credential resolved before, when the indexed ``view`` still shows what it was read from (same spec,
    same resourceVersion of every Secret) and the credential is bound; the checks of a read run again on the
    indexed metadata: the opt-in label (SecretRefused) and the endpoint binding (SecretRefused). None: read."""
    with _resolved_lock:
        found = _RESOLVED.get((view.namespace, view.name))
    if found is None or view.binding is None:
        return None
    spec, versions, resolved = found
    metas = view.secrets
    if spec != view.spec or set(versions) != set(metas):
        return None
    for secret, version in versions.items():
        meta = metas[secret]
        if meta is None or meta.resource_version != version:
            return None  # absent or written since: read it (the read says what is wrong, or gets the new values)
        if not meta.allowed:
            raise SecretRefused("SecretNotAllowed", not_allowed_message(secret))
    secret_name = str(spec["secretRef"]["name"])
    uid = resolved.binding.secret_uid if resolved.binding is not None else ""
    current = Binding(uid, versions[secret_name], endpoint_fingerprint("CloudCredential", spec))
    stored = Binding.from_status({"secretBinding": view.binding})
    decision = binding_decision("CloudCredential", spec, secret_name, current, stored, [])
    if not decision.allowed:
        raise decision.refusal()
    return resolved


def forget_resolved(namespace: str, name: str) -> None:
    """Drop what :func:`resolve_credential` kept of a CloudCredential (it was deleted)."""
    with _resolved_lock:
        _RESOLVED.pop((namespace, name), None)


def resolve_credential(namespace: str, name: str, view: CredentialView | None = None) -> ResolvedCredential:
    """Read CloudCredential ``name`` and its Secret(s); CredentialsNotFound names what is missing.

    Refuses (SecretRefused, before any value is used) a Secret without the opt-in label and one whose
    binding forbids sending it where the spec now points (see ``reconcile.secretaccess``).

    With ``view`` (the credential as the watches delivered it, ``references_index.credential_view``) nothing
    is read while the view shows the spec and Secret resourceVersions of the last read: its values are reused
    (the client cache is versioned by the same resourceVersion), after the opt-in label and binding checks
    on the indexed metadata and status.
    """
    if view is not None and view.kind == "CloudCredential":
        reused = reused_credential(view)
        if reused is not None:
            return reused
    reader = kube_client()
    credential = reader.get_object("CloudCredential", namespace, name)
    if credential is None:
        raise CredentialsNotFound(f"CloudCredential {name!r} does not exist in namespace {namespace!r}; create it")
    credential.setdefault("kind", "CloudCredential")
    spec = credential["spec"]
    secret_ref = spec["secretRef"]
    found = _read(
        reader,
        namespace,
        secret_ref["name"],
        f"Secret {secret_ref['name']!r} named by CloudCredential {name!r} does not exist; create it",
    )
    ca_pem, versions = _ca_read(reader, namespace, (spec.get(spec["provider"]) or {}).get("caSecretRef"))
    binding = checked_binding(reader, namespace, credential, secret_ref["name"], found)
    data = found.values
    renames = secret_ref.get("keys") or {}
    values = dict(data)
    for logical, key in renames.items():
        if key in data:
            values[logical] = data[key]
    resolved = ResolvedCredential(name, spec, values, found.resource_version, ca_pem, binding, namespace)
    versions[secret_ref["name"]] = found.resource_version
    remember_resolved(resolved, versions)
    return resolved


def remember_resolved(resolved: ResolvedCredential, versions: dict[str, str]) -> None:
    """Keep ``resolved`` (read from its spec and the Secrets at ``versions``: name -> resourceVersion) for
    the passes whose indexed view still shows them (:func:`reused_credential`)."""
    with _resolved_lock:
        _RESOLVED[(resolved.namespace, resolved.name)] = (copy.deepcopy(dict(resolved.spec)), dict(versions), resolved)


def openstack_params(credential: ResolvedCredential, timeout_seconds: float = 30.0) -> OpenStackConnectionParams:
    """Keystone v3 parameters: application credential when its id is present, else username/password."""
    if credential.spec["provider"] != "openstack":
        raise InvalidRequest(
            f"CloudCredential {credential.name!r} is provider {credential.spec['provider']!r}; this needs openstack"
        )
    block = credential.spec.get("openstack") or {}
    secret = credential.spec["secretRef"]["name"]
    app_id = credential.value("applicationCredentialId")
    needed = ("applicationCredentialId", "applicationCredentialSecret") if app_id else ("username", "password")
    missing = [key for key in needed if not credential.value(key)]
    if missing:
        raise CredentialsNotFound(f"Secret {secret!r} has no key(s) {', '.join(missing)}; add them")
    return OpenStackConnectionParams(
        auth_url=block["authUrl"],
        region=block.get("region"),
        interface=block.get("interface", "public"),
        project_name=None if app_id else block.get("projectName"),
        project_domain=block.get("projectDomainName", "Default"),
        user_domain=block.get("userDomainName", "Default"),
        username=None if app_id else credential.value("username"),
        password=None if app_id else credential.value("password"),
        application_credential_id=app_id,
        application_credential_secret=credential.value("applicationCredentialSecret") if app_id else None,
        ca_bundle_pem=credential.ca_pem,
        timeout_seconds=timeout_seconds,
    )


def openstack_backend(
    namespace: str, credentials_ref: dict[str, Any], view: CredentialView | None = None
) -> OpenStackBackend:
    """The OpenStack backend for a ``credentialsRef`` (kind CloudCredential, provider openstack); ``view``:
    see :func:`resolve_credential`."""
    if credentials_ref.get("kind", "CloudCredential") != "CloudCredential":
        raise InvalidRequest(f"credentialsRef kind {credentials_ref['kind']!r} cannot reach OpenStack")
    credential = resolve_credential(namespace, credentials_ref["name"], view)
    return _openstack(credential, openstack_params(credential))


def _openstack(credential: ResolvedCredential, params: OpenStackConnectionParams) -> OpenStackBackend:
    """The OpenStack backend of a resolved credential, its connection cached under the credential."""
    clients = backend_clients().openstack
    return connect(params, clients, credential=credential.key, secret_version=credential.secret_resource_version)


def _require(credential: ResolvedCredential, provider: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The provider block; CredentialsNotFound (-> KeyMissing) naming absent Secret keys, by their Secret name."""
    if credential.spec["provider"] != provider:
        raise InvalidRequest(
            f"CloudCredential {credential.name!r} is provider {credential.spec['provider']!r}; this needs {provider}"
        )
    renames = credential.spec["secretRef"].get("keys") or {}
    missing = [renames.get(key, key) for key in keys if not credential.value(key)]
    if missing:
        secret = credential.spec["secretRef"]["name"]
        raise CredentialsNotFound(f"Secret {secret!r} has no key(s) {', '.join(missing)}; add them")
    return dict(credential.spec.get(provider) or {})


def aws_params(credential: ResolvedCredential, timeout_seconds: float = CLOUD_TIMEOUT_SECONDS) -> AwsConnectionParams:
    """Access key (+ session token), region, optional role and endpoint override."""
    block = _require(credential, "aws", ("accessKeyId", "secretAccessKey"))
    return AwsConnectionParams(
        access_key_id=str(credential.value("accessKeyId")),
        secret_access_key=str(credential.value("secretAccessKey")),
        session_token=credential.value("sessionToken") or None,
        region=block["region"],
        assume_role_arn=block.get("assumeRoleArn"),
        external_id=block.get("externalId"),
        endpoint_url=block.get("endpointUrl"),
        ca_bundle_pem=credential.ca_pem,
        timeout_seconds=timeout_seconds,
    )


def azure_params(
    credential: ResolvedCredential, timeout_seconds: float = CLOUD_TIMEOUT_SECONDS
) -> AzureConnectionParams:
    """Service principal (client id + secret) in a tenant, one subscription, optional endpoint overrides.

    A CA for overridden endpoints (e.g. a local stand-in) comes from ``spec.azure.caSecretRef``.
    """
    block = _require(credential, "azure", ("clientId", "clientSecret"))
    overrides = {
        key: block[field]
        for key, field in (("authority_host", "authorityHost"), ("management_endpoint", "managementEndpoint"))
        if block.get(field)
    }
    return AzureConnectionParams(
        tenant_id=block["tenantId"],
        client_id=str(credential.value("clientId")),
        client_secret=str(credential.value("clientSecret")),
        subscription_id=block["subscriptionId"],
        ca_bundle_pem=credential.ca_pem,
        timeout_seconds=timeout_seconds,
        **overrides,
    )


def gcp_params(credential: ResolvedCredential, timeout_seconds: float = CLOUD_TIMEOUT_SECONDS) -> GcpConnectionParams:
    """Service account key JSON, project, optional endpoint overrides and their CA."""
    block = _require(credential, "gcp", ("serviceAccountJson",))
    return GcpConnectionParams(
        service_account_json=str(credential.value("serviceAccountJson")),
        project_id=block["projectId"],
        endpoint_override=block.get("endpointOverride"),
        token_uri_override=block.get("tokenUriOverride"),
        ca_bundle_pem=credential.ca_pem,
        timeout_seconds=timeout_seconds,
    )


def cloud_account(credential: ResolvedCredential) -> CloudAccount:
    """The cached client of any provider for a resolved CloudCredential (rotation gives a new one)."""
    provider = credential.spec["provider"]
    clients = backend_clients()
    key, version = credential.key, credential.secret_resource_version
    if provider == "aws":
        return clients.aws.get(aws_params(credential), credential=key, secret_version=version)
    if provider == "azure":
        return clients.azure.get(azure_params(credential), credential=key, secret_version=version)
    if provider == "gcp":
        return clients.gcp.get(gcp_params(credential), credential=key, secret_version=version)
    params = openstack_params(credential)
    backend = connect(params, clients.openstack, credential=key, secret_version=version)
    return OpenStackAccount(backend, params.region, params.username, backend.invalidate_token)


def _proxmox_params(namespace: str, node: dict[str, Any]) -> tuple[ProxmoxConnectionParams, Binding, str]:
    """proxmox_params plus the token Secret's resourceVersion (the client's cache version)."""
    client = kube_client()
    node.setdefault("kind", "ProxmoxNode")
    spec = ProxmoxNodeSpec.model_validate(node["spec"])
    token_ref = spec.token_secret_ref
    found = _read(
        client,
        namespace,
        token_ref.name,
        f"Secret {token_ref.name!r} does not exist in this namespace; create it",
    )
    data = found.values
    keys = (token_ref.token_id_key, token_ref.token_secret_key)
    missing = [key for key in keys if not data.get(key)]
    if missing:
        raise CredentialsNotFound(f"Secret {token_ref.name!r} has no key(s) {', '.join(missing)}; add them")
    ca_ref = spec.tls.ca_secret_ref
    ca_pem = _ca_pem(client, namespace, None if ca_ref is None else ca_ref.model_dump(by_alias=True))
    binding = checked_binding(client, namespace, node, token_ref.name, found)
    params = ProxmoxConnectionParams(
        host=spec.host,
        port=spec.port,
        token_id=data[keys[0]],
        token_secret=data[keys[1]],
        verify_tls=not spec.tls.insecure_skip_verify,
        ca_bundle_pem=ca_pem,
        timeout_seconds=float(spec.timeout_seconds),
    )
    return params, binding, found.resource_version


def proxmox_params(namespace: str, node: dict[str, Any]) -> tuple[ProxmoxConnectionParams, Binding]:
    """Connection parameters of a ProxmoxNode object from its spec and Secrets, and the binding they give.

    CredentialsNotFound names what is missing; SecretRefused when a Secret lacks the opt-in label or the
    binding forbids sending the token where the spec now points.
    """
    params, binding, _ = _proxmox_params(namespace, node)
    return params, binding


def proxmox_connection(namespace: str, node: dict[str, Any]) -> tuple[ProxmoxBackend, Binding]:
    """The cached Proxmox client for a ProxmoxNode object, and the binding to store once it is used."""
    params, binding, secret_version = _proxmox_params(namespace, node)
    key = CredentialKey(namespace, "ProxmoxNode", node["metadata"]["name"])
    return backend_clients().proxmox.get(params, credential=key, secret_version=secret_version), binding


def proxmox_backend_for(namespace: str, node: dict[str, Any]) -> ProxmoxBackend:
    """The cached Proxmox client for a ProxmoxNode object (all clients of one endpoint share its limit)."""
    return proxmox_connection(namespace, node)[0]


def proxmox_backend(namespace: str, credentials_ref: dict[str, Any]) -> ProxmoxBackend:
    """The Proxmox backend for a ``credentialsRef`` of kind ProxmoxNode (used by SnapshotPolicy, RestoreJob)."""
    if credentials_ref.get("kind") != "ProxmoxNode":
        raise InvalidRequest(f"credentialsRef kind {credentials_ref.get('kind')!r} cannot reach Proxmox")
    node = kube_client().get_object("ProxmoxNode", namespace, credentials_ref["name"])
    if node is None:
        raise CredentialsNotFound(
            f"ProxmoxNode {credentials_ref['name']!r} does not exist in namespace {namespace!r}; create it"
        )
    return proxmox_backend_for(namespace, node)
