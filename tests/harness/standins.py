"""The local stand-ins `make demo` serves on fixed loopback ports, matching what examples/ point at."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL, CREDENTIAL_SECRET_LABEL_VALUE

from .controlplane import DEFAULT_STATE, REPO

EXAMPLES = REPO / "examples"
#: metadata.labels of every Secret the operator may read (README, Security).
CREDENTIAL_LABELS = {CREDENTIAL_SECRET_LABEL: CREDENTIAL_SECRET_LABEL_VALUE}


def credential_secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    """A Secret manifest the operator may read (it carries the opt-in label)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(CREDENTIAL_LABELS)},
        "stringData": data,
    }


def example_secret(file: str, name: str) -> dict[str, str]:
    """The stringData of Secret ``name`` in examples/<file>: the demo values the stand-ins accept."""
    for doc in yaml.safe_load_all((EXAMPLES / file).read_text()):
        if doc and doc["kind"] == "Secret" and doc["metadata"]["name"] == name:
            return dict(doc["stringData"])
    raise KeyError(f"no Secret {name} in examples/{file}")


def openstack_credential(namespace: str, name: str = "openstack", base: str | None = None) -> list[dict[str, Any]]:
    """A Secret and a CloudCredential (provider openstack) for the OpenStack stand-in at ``base`` (default:
    the demo one), as its admin."""
    password = example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"]
    secret = credential_secret(name, namespace, {"username": "admin", "password": password})
    credential = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "provider": "openstack",
            "secretRef": {"name": name},
            "openstack": {
                "authUrl": f"{base or f'http://127.0.0.1:{OPENSTACK_PORT}'}/identity/v3",
                "projectName": "admin",
                "allowInsecureHttp": True,  # the stand-in is plain http on loopback
            },
        },
    }
    return [secret, credential]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _no_secrets(namespace: str) -> list[dict[str, Any]]:
    return []


@dataclass
class Standin:
    """One stand-in process: how to start it, when it is ready, and the Secrets the environment adds."""

    name: str
    port: int
    argv: list[str]
    url: str
    secrets: Callable[[str], list[dict[str, Any]]] = _no_secrets
    probe: Callable[[], bool] | None = None

    def ready(self) -> bool:
        """Whether it answers (its probe, or just an open port)."""
        return self.probe() if self.probe else _port_open(self.port)


PROXMOX_PORT = 38006
PROXMOX_CA = DEFAULT_STATE / "standins" / "proxmox-ca.pem"


def _proxmox_ca_secret(namespace: str) -> list[dict[str, Any]]:
    return [credential_secret("proxmox-ca", namespace, {"ca.crt": PROXMOX_CA.read_text()})]


def _proxmox_ready() -> bool:
    if not PROXMOX_CA.exists():
        return False
    context = ssl.create_default_context(cafile=str(PROXMOX_CA))
    try:
        urllib.request.urlopen(f"https://127.0.0.1:{PROXMOX_PORT}/api2/json/version", context=context, timeout=2)
    except urllib.error.HTTPError as error:
        return error.code == 401  # TLS verified and the API answers; it wants a token
    return True


def proxmox() -> Standin:
    """fakepve over TLS with the token from examples/proxmoxnode.yaml."""
    PROXMOX_CA.parent.mkdir(parents=True, exist_ok=True)
    PROXMOX_CA.unlink(missing_ok=True)
    token = example_secret("proxmoxnode.yaml", "pve-lab-token")
    return Standin(
        "proxmox",
        PROXMOX_PORT,
        [
            "tests.standins.proxmox",
            "--port",
            str(PROXMOX_PORT),
            "--nodes",
            "2",
            "--guests",
            "10",
            "--token-secret",
            token["tokenSecret"],
            "--write-ca",
            str(PROXMOX_CA),
        ],
        f"https://127.0.0.1:{PROXMOX_PORT}",
        secrets=_proxmox_ca_secret,
        probe=_proxmox_ready,
    )


OPENSTACK_PORT = 35000


def _openstack_ready() -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{OPENSTACK_PORT}/identity/v3", timeout=2) as response:
        return bool(response.status == 200)


def openstack() -> Standin:
    """The OpenStack stand-in (Keystone, Nova, Cinder, Neutron, Glance) with the demo estate, in real time;
    its admin password is the one in examples/cloudcredential-openstack.yaml."""
    assert example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"] == "standin-admin-secret"
    return Standin(
        "openstack",
        OPENSTACK_PORT,
        ["tests.standins.openstack", "--port", str(OPENSTACK_PORT), "--seed", "demo"],
        f"http://127.0.0.1:{OPENSTACK_PORT}/identity/v3",
        probe=_openstack_ready,
    )


# Below the ephemeral range (32768-60999): a long-lived client socket of the control plane once held 38200
# and the stand-in could not bind.
VAULT_PORT = 18200
#: The demo Vault stand-in's token and namespace (horcrux POST /api/vault/config takes them; README, Vault).
VAULT_TOKEN = "hvs.daytwo-demo-token"
VAULT_NAMESPACE = "horcrux"


def _vault_ready() -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{VAULT_PORT}/v1/sys/mounts",
        headers={"X-Vault-Token": VAULT_TOKEN, "X-Vault-Namespace": VAULT_NAMESPACE},
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return bool(response.status == 200)


def vault() -> Standin:
    """The HashiCorp Vault KV v2 stand-in (tests/standins/vault), mount ``secret``, for horcrux /api/vault."""
    return Standin(
        "vault",
        VAULT_PORT,
        [
            "tests.standins.vault",
            "--port",
            str(VAULT_PORT),
            "--token",
            VAULT_TOKEN,
            "--namespace",
            VAULT_NAMESPACE,
            "--mount",
            "secret",
        ],
        f"http://127.0.0.1:{VAULT_PORT}",
        probe=_vault_ready,
    )


def all_standins() -> list[Standin]:
    """Every stand-in the demo starts."""
    return [openstack(), proxmox(), vault()]
