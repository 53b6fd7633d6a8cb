"""OpenStack backend: a typed Protocol, plain records, and an openstacksdk implementation.

Usage (from a handler's worker thread)::

    params = OpenStackConnectionParams(auth_url=..., username=..., password=..., project_name=...)
    backend = connect(params)            # connections cached by params.fingerprint()
    for volume in backend.list_volumes():
        ...

Every failure is a :mod:`daytwo.operator.errors` type; no SDK exception escapes.
"""

from __future__ import annotations

from .backend import SdkOpenStackBackend, connect
from .clients import OpenStackClients, shared_clients
from .errors import ERROR_TABLE, translate
from .params import OpenStackClientSettings, OpenStackConnectionParams
from .protocol import OpenStackBackend
from .records import (
    Aggregate,
    Domain,
    FixedIP,
    Flavor,
    FloatingIP,
    Hypervisor,
    Identity,
    Image,
    Network,
    Port,
    Project,
    QuotaUsage,
    Role,
    RoleAssignment,
    SecurityGroup,
    SecurityGroupRule,
    Server,
    ServerAddress,
    ServerSpec,
    Snapshot,
    Subnet,
    SubnetFreeIPs,
    User,
    Volume,
    VolumeAttachment,
)
from .restore import AddressInUse, RestoreBackend

__all__ = [
    "ERROR_TABLE",
    "AddressInUse",
    "Aggregate",
    "Domain",
    "FixedIP",
    "Flavor",
    "FloatingIP",
    "Hypervisor",
    "Identity",
    "Image",
    "Network",
    "OpenStackBackend",
    "OpenStackClientSettings",
    "OpenStackClients",
    "OpenStackConnectionParams",
    "Port",
    "Project",
    "QuotaUsage",
    "RestoreBackend",
    "Role",
    "RoleAssignment",
    "SdkOpenStackBackend",
    "SecurityGroup",
    "SecurityGroupRule",
    "Server",
    "ServerAddress",
    "ServerSpec",
    "Snapshot",
    "Subnet",
    "SubnetFreeIPs",
    "User",
    "Volume",
    "VolumeAttachment",
    "connect",
    "shared_clients",
    "translate",
]
