"""The openstacksdk implementation of :class:`OpenStackBackend`, and how to get one."""

from __future__ import annotations

from ..runtime import CredentialKey
from ._clients import OpenStackClients, shared_clients
from ._compute import ComputeCalls
from ._identity import IdentityCalls
from ._image import ImageCalls
from ._network import NetworkCalls
from ._params import OpenStackConnectionParams
from ._raw import RawInventoryCalls
from ._restore import RestoreCalls
from ._storage import BlockStorageCalls

__all__ = ["SdkOpenStackBackend", "connect"]


class SdkOpenStackBackend(
    IdentityCalls, ComputeCalls, BlockStorageCalls, NetworkCalls, ImageCalls, RawInventoryCalls, RestoreCalls
):
    """OpenStack backend over openstacksdk (it also is a :class:`RestoreBackend`); cheap to create,
    connections come from the shared cache."""


def connect(
    params: OpenStackConnectionParams,
    clients: OpenStackClients | None = None,
    *,
    credential: CredentialKey | None = None,
    secret_version: str = "",
) -> SdkOpenStackBackend:
    """A backend for these params; uses the process-wide clients unless ``clients`` is given. With a
    ``credential`` its connection is cached under that credential (dropped when it is invalidated)."""
    return SdkOpenStackBackend(
        params, clients or shared_clients(), credential=credential, secret_version=secret_version
    )
