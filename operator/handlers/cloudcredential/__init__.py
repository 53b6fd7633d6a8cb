"""CloudCredential handlers: the daemon (:mod:`.daemon`), billing I/O (:mod:`.billing`) and the inventory and
billing ConfigMaps (:mod:`.inventory_store`, also used by ProxmoxNode for its guest inventory)."""

from __future__ import annotations

from .daemon import register

__all__ = ["register"]
