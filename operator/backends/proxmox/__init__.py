"""Proxmox VE I/O for the ProxmoxNode kind (and Proxmox guests of SnapshotPolicy / RestoreJob).

    factory = ProxmoxClientFactory(max_concurrency=4)
    pve = factory.get(ProxmoxConnectionParams(host, token_id="daytwo@pve!operator", token_secret=...,
                                              ca_bundle_pem=pem))
    upid = pve.shutdown(GuestRef("pve1", 100), timeout=60, force_stop=True)
    pve.task_status("pve1", upid)          # non-blocking; TaskStatus.raise_for_exitstatus() on stopped

Only this package imports proxmoxer. Calls are synchronous: run them in worker threads.
"""

from . import _models
from ._client import ProxmoxClientFactory, ProxmoxerBackend
from ._errors import MESSAGE_RULES, map_exception, missing_privilege
from ._models import *  # noqa: F403 (every result type, as _models.__all__ lists them)
from ._params import ProxmoxConnectionParams
from ._protocol import ProxmoxBackend

__all__ = [
    "MESSAGE_RULES",
    "ProxmoxBackend",
    "ProxmoxClientFactory",
    "ProxmoxConnectionParams",
    "ProxmoxerBackend",
    "map_exception",
    "missing_privilege",
]
__all__ += _models.__all__
