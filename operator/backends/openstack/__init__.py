"""OpenStack backend: a typed Protocol, plain records, and an openstacksdk implementation.

Usage (from a handler's worker thread)::

    params = OpenStackConnectionParams(auth_url=..., username=..., password=..., project_name=...)
    backend = connect(params)            # connections in the shared ClientCache (backends.runtime)
    for volume in backend.list_volumes():
        ...

Every failure is a :mod:`daytwo.operator.errors` type; no SDK exception escapes.
"""

from __future__ import annotations

from . import _records
from ._backend import SdkOpenStackBackend, connect
from ._clients import OpenStackClients, install_shared_clients, shared_clients
from ._errors import ERROR_TABLE, AddressInUse, translate
from ._params import OpenStackClientSettings, OpenStackConnectionParams
from ._protocol import OpenStackBackend, RestoreBackend
from ._records import *  # noqa: F403 (every record, as _records.__all__ lists them)
from ._waiting import wait_for_gone, wait_for_status

__all__ = [
    "ERROR_TABLE",
    "AddressInUse",
    "OpenStackBackend",
    "OpenStackClientSettings",
    "OpenStackClients",
    "OpenStackConnectionParams",
    "RestoreBackend",
    "SdkOpenStackBackend",
    "connect",
    "install_shared_clients",
    "shared_clients",
    "translate",
    "wait_for_gone",
    "wait_for_status",
]
__all__ += _records.__all__
