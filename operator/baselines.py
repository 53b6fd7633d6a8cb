"""Drift baselines kept in ConfigMaps, so an operator restart neither loses drift nor re-fires it.

One DriftRule's baseline is a JSON object ``{resource id: [value, name, project id, since]}``,
gzip-compressed and split into parts of at most PART_BYTES (a ConfigMap holds at most 1 MiB):

- ``<rule>-drift-baseline`` (the index) names the current token and the number of parts, or holds the
  baseline itself (``binaryData``, ``parts: "0"``) when it fits one part: one ConfigMap per rule, and a
  first save is one create;
- ``<rule>-drift-baseline-<token>-<n>`` hold the parts (``binaryData``) of a larger one.

A save writes the new parts first, then points the index at them (or writes it with the baseline in it),
then deletes parts of other tokens: a crash at any moment leaves the previous or the new baseline whole,
never a mix.
Every ConfigMap is owned by its DriftRule, so deleting the rule removes them.

In memory the rules on one (credential, resource type) share one table (``reconcile.driftbaseline``);
what is stored stays each rule's own. A save compresses in slices (never the whole JSON text at once)
and hands the freed memory back to the OS (``memory.trim``): tens of thousands of entries per rule.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import secrets
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .memory import trim
from .reconcile.chunked import owner_reference
from .reconcile.drift import BaselineEntry

__all__ = ["PART_BYTES", "BaselineStore", "compress"]

#: Compressed bytes per ConfigMap part (base64 grows it by 4/3; stays well under the 1 MiB limit).
PART_BYTES = 600_000
#: Entries serialised at a time when compressing a baseline.
_SLICE = 2_000
#: One stored entry: ``[value, name, project id, since]`` or the BaselineEntry it is the list of.
Entry = list[Any] | BaselineEntry


def _as_list(entry: Entry) -> list[Any]:
    return entry.as_list() if isinstance(entry, BaselineEntry) else entry


_LABEL = "daytwo.io/drift-baseline"


class BaselineStore:
    """Load and save drift baselines for DriftRules in their namespace."""

    def __init__(self, core: client.CoreV1Api, part_bytes: int = PART_BYTES) -> None:
        self._core = core
        self._part_bytes = part_bytes

    @staticmethod
    def index_name(rule: str) -> str:
        """Name of the index ConfigMap of a rule's baseline."""
        return f"{rule[:200].rstrip('-.')}-drift-baseline"

    def load(self, namespace: str, rule: str) -> dict[str, list[Any]] | None:
        """The stored baseline, or None when the rule has none yet (or its parts are incomplete)."""
        try:
            index = self._core.read_namespaced_config_map(self.index_name(rule), namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        data = index.data or {}
        token, parts = data.get("token"), int(data.get("parts", "0"))
        inline = (index.binary_data or {}).get("baseline.gz")
        if inline is not None:
            return dict(json.loads(gzip.decompress(base64.b64decode(inline))))
        chunks = []
        for number in range(parts):
            try:
                part = self._core.read_namespaced_config_map(self._part_name(rule, str(token), number), namespace)
            except ApiException as error:
                if error.status == 404:
                    return None
                raise
            chunks.append(base64.b64decode((part.binary_data or {})["baseline.gz"]))
        return dict(json.loads(gzip.decompress(b"".join(chunks)))) if chunks else {}

    def save(
        self, namespace: str, rule: str, owner: dict[str, Any], entries: Mapping[str, Entry], fresh: bool = False
    ) -> str:
        """Replace the baseline (crash-safe, see the module docstring); returns the index ConfigMap name.

        ``fresh``: the rule has saved none yet (its status names no baselineRef), so the index is created
        without trying a replace first and no other parts are looked for (parts a crashed first save left
        behind go with the next save that is not fresh, or with the rule); an index found existing after all
        is replaced as usual."""
        payload = compress(entries)
        size = self._part_bytes
        chunks = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
        del payload
        token = secrets.token_hex(4)
        labels = {_LABEL: rule[:63].rstrip("-._")}
        inline = {"baseline.gz": base64.b64encode(chunks.pop()).decode()} if len(chunks) == 1 else None
        for number, chunk in enumerate(chunks):
            body = client.V1ConfigMap(
                metadata=client.V1ObjectMeta(
                    name=self._part_name(rule, token, number), labels=labels, owner_references=[owner_reference(owner)]
                ),
                binary_data={"baseline.gz": base64.b64encode(chunk).decode()},
            )
            self._core.create_namespaced_config_map(namespace, body)
        index = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=self.index_name(rule), labels=labels, owner_references=[owner_reference(owner)]
            ),
            data={"token": token, "parts": str(len(chunks)), "entries": str(len(entries))},
            binary_data=inline,
        )
        if fresh and self._create(namespace, index):
            trim()
            return self.index_name(rule)
        try:
            self._core.replace_namespaced_config_map(self.index_name(rule), namespace, index)
        except ApiException as error:
            if error.status != 404:
                raise
            self._core.create_namespaced_config_map(namespace, index)
        self._delete_other_parts(namespace, rule, token, labels[_LABEL])
        trim()
        return self.index_name(rule)

    def _create(self, namespace: str, body: client.V1ConfigMap) -> bool:
        """Create ``body``; False when it exists already."""
        try:
            self._core.create_namespaced_config_map(namespace, body)
        except ApiException as error:
            if error.status != 409:
                raise
            return False
        return True

    def _delete_other_parts(self, namespace: str, rule: str, token: str, label: str) -> None:
        listed = self._core.list_namespaced_config_map(namespace, label_selector=f"{_LABEL}={label}")
        prefix, current = f"{self.index_name(rule)}-", f"{self.index_name(rule)}-{token}-"
        for item in listed.items:
            name = item.metadata.name
            if name.startswith(prefix) and not name.startswith(current):
                try:
                    self._core.delete_namespaced_config_map(name, namespace)
                except ApiException as error:
                    if error.status != 404:
                        raise

    def _part_name(self, rule: str, token: str, number: int) -> str:
        return f"{self.index_name(rule)}-{token}-{number}"


def compress(entries: Mapping[str, Entry]) -> bytes:
    """gzip of ``entries`` (lists, or BaselineEntry as their lists) as compact JSON with sorted keys (what
    :meth:`BaselineStore.load` reads), written :data:`_SLICE` entries at a time so neither the text nor the
    lists exist whole."""
    keys = sorted(entries)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=5) as out:
        out.write(b"{")
        for start in range(0, len(keys), _SLICE):
            part = {key: _as_list(entries[key]) for key in keys[start : start + _SLICE]}
            piece = json.dumps(part, separators=(",", ":"))
            out.write((b"," if start else b"") + piece[1:-1].encode())
        out.write(b"}")
    return buffer.getvalue()
