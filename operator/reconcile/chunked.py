"""Chunked inventory ConfigMaps, shared by CloudCredential (``<name>-inventory``) and ProxmoxNode (``<name>-guests``).

An inventory is a list of JSON records split into ConfigMaps: the head ``<owner><suffix>`` holds
``manifest.json`` (format, provider, syncedAt, counts, the chunk names with a digest of each), any extra
head documents, and the first chunk of records; further chunks are ``<owner><suffix>-<i>``. Each chunk's
``records.json`` stays under :data:`CHUNK_BYTES`, well inside the 1 MiB object limit. Every ConfigMap is
labelled with ``label: <owner>`` (what the writer lists by) and the daytwo part-of label (what the facade
caches), and owned by the object, so the garbage collector removes them with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..shared.times import format_time

__all__ = [
    "CHUNK_BYTES",
    "MANIFEST_FORMAT",
    "chunk_name",
    "chunk_records",
    "chunked_configmaps",
    "configmap_changes",
    "owner_reference",
]

#: Budget for one chunk's records.json; the rest of the 1 MiB ConfigMap is metadata and the manifest.
CHUNK_BYTES = 900_000
MANIFEST_FORMAT = "daytwo.io/inventory.v1"
#: Kubernetes object names are at most this long.
_NAME_LIMIT = 253


def chunk_name(owner: str, suffix: str, index: int) -> str:
    """Name of chunk ``index`` (0 = the head with the manifest), within the 253-character limit.

    A name too long for ``<owner><suffix>-<index>`` keeps a prefix of the owner plus 8 hex digits of
    its SHA-256, so two long owners never share ConfigMaps.
    """
    tail = suffix if index == 0 else f"{suffix}-{index}"
    if len(owner) + len(tail) <= _NAME_LIMIT:
        return owner + tail
    short = hashlib.sha256(owner.encode()).hexdigest()[:8]
    return f"{owner[: _NAME_LIMIT - len(tail) - 9]}-{short}{tail}"


def chunk_records(
    records: Sequence[Mapping[str, Any]], budget: int = CHUNK_BYTES, first_budget: int | None = None
) -> list[str]:
    """JSON arrays of the records, each at most ``budget`` bytes (a larger single record goes alone).

    ``first_budget`` caps the first chunk instead (the head, which also carries other documents).
    Always at least one chunk (``[]`` for no records), in the given order.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 2
    limit = budget if first_budget is None else first_budget
    for record in records:
        text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        grown = size + len(text.encode()) + (1 if current else 0)
        if current and grown > limit:
            chunks.append("[" + ",".join(current) + "]")
            current, grown, limit = [], 2 + len(text.encode()), budget
        current.append(text)
        size = grown
    chunks.append("[" + ",".join(current) + "]")
    return chunks


def chunked_configmaps(
    owner: Mapping[str, Any],
    *,
    label: str,
    suffix: str,
    provider: str,
    chunks: Sequence[str],
    counts: Mapping[str, int],
    synced_at: datetime,
    head_data: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The ConfigMaps of one sync, head first: ``records.json`` in each, ``manifest.json`` and
    ``head_data`` in the head; labelled ``label: <owner name>`` and owned by ``owner`` (GC'd with it)."""
    meta = owner["metadata"]
    names = [chunk_name(meta["name"], suffix, index) for index in range(len(chunks))]
    manifest = {
        "format": MANIFEST_FORMAT,
        "provider": provider,
        "syncedAt": format_time(synced_at),
        "counts": dict(counts),
        "records": sum(counts.values()),
        "chunks": [
            {"name": name, "sha256": hashlib.sha256(chunk.encode()).hexdigest()}
            for name, chunk in zip(names, chunks, strict=True)
        ],
    }
    maps = []
    for index, (name, chunk) in enumerate(zip(names, chunks, strict=True)):
        data = {"records.json": chunk}
        if index == 0:
            data["manifest.json"] = json.dumps(manifest, separators=(",", ":"), sort_keys=True)
            data.update(head_data or {})
        maps.append(owned_configmap(owner, name, {label: meta["name"], "daytwo.io/inventory-chunk": str(index)}, data))
    return maps


def configmap_changes(
    existing: Mapping[str, Mapping[str, str]], desired: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[str]]:
    """(create, replace, delete names) turning ``existing`` (name -> data) into ``desired``.

    Chunks come before the head so a reader that follows the head's manifest finds every chunk;
    stale chunks go last. Unchanged ConfigMaps are left alone.
    """
    ordered = [*desired[1:], *desired[:1]]
    create = [cm for cm in ordered if cm["metadata"]["name"] not in existing]
    replace = [
        cm for cm in ordered if cm["metadata"]["name"] in existing and existing[cm["metadata"]["name"]] != cm["data"]
    ]
    wanted = {cm["metadata"]["name"] for cm in desired}
    return create, replace, sorted(name for name in existing if name not in wanted)


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The controller ownerReference of a ConfigMap ``owner`` keeps (GC'd with it; deletion never blocked)."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": False,
    }


def owned_configmap(
    owner: Mapping[str, Any], name: str, labels: Mapping[str, str], data: Mapping[str, str]
) -> dict[str, Any]:
    """A ConfigMap in ``owner``'s namespace, owned by it (:func:`owner_reference`), with daytwo's labels."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": {**labels, "app.kubernetes.io/managed-by": "daytwo", "app.kubernetes.io/part-of": "daytwo"},
            "ownerReferences": [owner_reference(owner)],
        },
        "data": dict(data),
    }
