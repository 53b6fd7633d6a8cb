"""The one place that turns a ``credentialsRef`` into a cloud backend: CloudCredential + Secret -> client.

Every kind that talks to OpenStack goes through :func:`openstack_backend`, to Proxmox through
:func:`proxmox_backend` (a ProxmoxNode and its token Secret); the CloudCredential kind
itself reaches any of the four providers through :func:`cloud_account`. It reads the
CloudCredential and its Secret (only CloudCredential and ProxmoxNode Secrets are ever read), builds
the connection parameters and returns a backend from the process-wide client cache. A rotated
Secret changes the parameters' fingerprint, so the next call re-authenticates with the new values.
Missing objects raise :class:`CredentialsNotFound` with a message that names what to create; the
message never contains a Secret value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..backends.aws import AwsClientFactory, AwsConnectionParams
from ..backends.azure import AzureClientFactory, AzureConnectionParams
from ..backends.gcp import GcpClientFactory, GcpConnectionParams
from ..backends.inventory import CloudIdentity, Inventory
from ..backends.openstack import OpenStackBackend, OpenStackConnectionParams, connect
from ..backends.proxmox import ProxmoxBackend, ProxmoxClientFactory, ProxmoxConnectionParams
from ..errors import CredentialsNotFound, InvalidRequest
from ..kube import kube_client
from .openstack_account import OpenStackAccount

__all__ = [
    "CloudAccount",
    "ResolvedCredential",
    "aws_params",
    "azure_params",
    "cloud_account",
    "gcp_params",
    "openstack_backend",
    "openstack_params",
    "proxmox_backend",
    "proxmox_backend_for",
    "proxmox_params",
    "resolve_credential",
]

#: Read timeout of one public-cloud call: it bounds a hung call; a full inventory page (1,000 EC2
#: instances, 500 GCP instances) takes seconds on a real cloud, longer on a loaded endpoint.
CLOUD_TIMEOUT_SECONDS = 60.0
#: Process-wide client caches (keyed by a digest of the parameters, so a rotated Secret gets a new client).
_AWS = AwsClientFactory(max_concurrency=4)
_AZURE = AzureClientFactory(max_concurrency=4)
_GCP = GcpClientFactory(max_concurrency=4)
_PROXMOX = ProxmoxClientFactory(max_concurrency=4)


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

    def value(self, logical: str) -> str | None:
        """The Secret value for a logical key name (``password``, ``accessKeyId``...), or None."""
        return self.values.get(logical)


def resolve_credential(namespace: str, name: str) -> ResolvedCredential:
    """Read CloudCredential ``name`` and its Secret(s); CredentialsNotFound names what is missing."""
    reader = kube_client()
    credential = reader.get_object("CloudCredential", namespace, name)
    if credential is None:
        raise CredentialsNotFound(f"CloudCredential {name!r} does not exist in namespace {namespace!r}; create it")
    spec = credential["spec"]
    secret_ref = spec["secretRef"]
    found = reader.get_secret_data(namespace, secret_ref["name"])
    if found is None:
        raise CredentialsNotFound(
            f"Secret {secret_ref['name']!r} named by CloudCredential {name!r} does not exist; create it"
        )
    resource_version, data = found
    renames = secret_ref.get("keys") or {}
    values = dict(data)
    for logical, key in renames.items():
        if key in data:
            values[logical] = data[key]
    ca_pem = None
    ca_ref = (spec.get(spec["provider"]) or {}).get("caSecretRef")
    if ca_ref:
        ca = reader.get_secret_data(namespace, ca_ref["name"])
        if ca is None or not ca[1].get(ca_ref["key"]):
            raise CredentialsNotFound(f"CA Secret {ca_ref['name']!r} or its key {ca_ref['key']!r} is missing")
        ca_pem = ca[1][ca_ref["key"]]
    return ResolvedCredential(name, spec, values, resource_version, ca_pem)


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


def openstack_backend(namespace: str, credentials_ref: dict[str, Any]) -> OpenStackBackend:
    """The OpenStack backend for a ``credentialsRef`` (kind CloudCredential, provider openstack)."""
    if credentials_ref.get("kind", "CloudCredential") != "CloudCredential":
        raise InvalidRequest(f"credentialsRef kind {credentials_ref['kind']!r} cannot reach OpenStack")
    return connect(openstack_params(resolve_credential(namespace, credentials_ref["name"])))


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
    if provider == "aws":
        return _AWS.get(aws_params(credential))
    if provider == "azure":
        return _AZURE.get(azure_params(credential))
    if provider == "gcp":
        return _GCP.get(gcp_params(credential))
    params = openstack_params(credential)
    return OpenStackAccount(connect(params), params.region, params.username)


def proxmox_params(namespace: str, spec: dict[str, Any]) -> ProxmoxConnectionParams:
    """Connection parameters from the spec and its Secrets; CredentialsNotFound names what is missing."""
    client = kube_client()
    token_ref = spec["tokenSecretRef"]
    found = client.get_secret_data(namespace, token_ref["name"])
    if found is None:
        raise CredentialsNotFound(f"Secret {token_ref['name']!r} does not exist in this namespace; create it")
    data = found[1]
    keys = (token_ref.get("tokenIdKey", "tokenId"), token_ref.get("tokenSecretKey", "tokenSecret"))
    missing = [key for key in keys if not data.get(key)]
    if missing:
        raise CredentialsNotFound(f"Secret {token_ref['name']!r} has no key(s) {', '.join(missing)}; add them")
    tls = spec.get("tls") or {}
    ca_pem = None
    if tls.get("caSecretRef"):
        ca_ref = tls["caSecretRef"]
        ca = client.get_secret_data(namespace, ca_ref["name"])
        if ca is None or not ca[1].get(ca_ref["key"]):
            raise CredentialsNotFound(f"CA Secret {ca_ref['name']!r} or its key {ca_ref['key']!r} is missing")
        ca_pem = ca[1][ca_ref["key"]]
    return ProxmoxConnectionParams(
        host=spec["host"],
        port=spec.get("port", 8006),
        token_id=data[keys[0]],
        token_secret=data[keys[1]],
        verify_tls=not tls.get("insecureSkipVerify", False),
        ca_bundle_pem=ca_pem,
        timeout_seconds=float(spec.get("timeoutSeconds", 10)),
    )


def proxmox_backend_for(namespace: str, spec: dict[str, Any]) -> ProxmoxBackend:
    """The cached Proxmox client for a ProxmoxNode ``spec`` (all clients of one endpoint share its limit)."""
    return _PROXMOX.get(proxmox_params(namespace, spec))


def proxmox_backend(namespace: str, credentials_ref: dict[str, Any]) -> ProxmoxBackend:
    """The Proxmox backend for a ``credentialsRef`` of kind ProxmoxNode (used by SnapshotPolicy, RestoreJob)."""
    if credentials_ref.get("kind") != "ProxmoxNode":
        raise InvalidRequest(f"credentialsRef kind {credentials_ref.get('kind')!r} cannot reach Proxmox")
    node = kube_client().get_object("ProxmoxNode", namespace, credentials_ref["name"])
    if node is None:
        raise CredentialsNotFound(
            f"ProxmoxNode {credentials_ref['name']!r} does not exist in namespace {namespace!r}; create it"
        )
    return proxmox_backend_for(namespace, node["spec"])
