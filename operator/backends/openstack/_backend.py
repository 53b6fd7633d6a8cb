"""The openstacksdk implementation of :class:`OpenStackBackend`, and how to get one."""

from __future__ import annotations

from ._compute import ComputeCalls
from ._identity import IdentityCalls
from ._image import ImageCalls
from ._network import NetworkCalls
from ._raw import RawInventoryCalls
from ._restore import RestoreCalls
from ._storage import BlockStorageCalls
from .clients import OpenStackClients, shared_clients
from .params import OpenStackConnectionParams

__all__ = ["SdkOpenStackBackend", "connect"]


class SdkOpenStackBackend(
    IdentityCalls, ComputeCalls, BlockStorageCalls, NetworkCalls, ImageCalls, RawInventoryCalls, RestoreCalls
):
    """OpenStack backend over openstacksdk (it also is a :class:`RestoreBackend`); cheap to create,
    connections come from the shared cache."""


def connect(params: OpenStackConnectionParams, clients: OpenStackClients | None = None) -> SdkOpenStackBackend:
    """A backend for these params; uses the process-wide client cache unless ``clients`` is given."""
    return SdkOpenStackBackend(params, clients or shared_clients())
