"""The facade's connection to Kubernetes (in-cluster or $KUBECONFIG) and raw JSON list/watch over it.

Objects are read as plain JSON dicts (``_preload_content=False`` + ``json.loads``), not as the
client's model classes: cheaper to build and to hold, and what the views expect.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from kubernetes import client, config

from .store import Gone, KindSpec

__all__ = ["KubeSource", "api_client", "request_json"]

PAGE = 500
log = logging.getLogger("daytwo.api.kube")


def api_client() -> client.ApiClient:
    """A Kubernetes API client from in-cluster config, else $KUBECONFIG / ~/.kube/config."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)
    return client.ApiClient(configuration)


def request_json(
    api: client.ApiClient,
    method: str,
    path: str,
    *,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
    timeout: float | tuple[float, float] = 30,
) -> Any:
    """One API call; returns the decoded JSON body. Raises ``kubernetes.client.ApiException`` on >= 400."""
    header_params = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        header_params["Content-Type"] = content_type
    response = api.call_api(
        path,
        method,
        query_params=list((query or {}).items()),
        header_params=header_params,
        body=body,
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
        _request_timeout=timeout,
    )
    data = response.data
    return json.loads(data) if data else None


class KubeSource:
    """:class:`~daytwo.api.store.WatchSource` over the apiserver, with the facade's own identity."""

    def __init__(self, api: client.ApiClient, watch_timeout_seconds: int = 300) -> None:
        self.api = api
        self.watch_timeout_seconds = watch_timeout_seconds
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Shut the open watch streams (their threads see the stream end at once) and refuse new ones."""
        with self._lock:
            self._closed = True
            streams = list(self._open)
        for response in streams:
            try:
                response.shutdown()  # unblocks a read waiting on the socket (urllib3 >= 2.3)
            except Exception as error:  # already closed by its reader: nothing left to interrupt
                log.debug("watch stream already closed (%s)", error)

    def _selector(self, spec: KindSpec) -> dict[str, Any]:
        return {"labelSelector": spec.label_selector} if spec.label_selector else {}

    def list(self, spec: KindSpec, namespace: str) -> tuple[list[dict[str, Any]], str]:
        """All objects (paged by 500) and the list's resourceVersion."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query = {"limit": PAGE, **self._selector(spec), **({"continue": token} if token else {})}
            page = request_json(self.api, "GET", spec.path(namespace), query=query, timeout=60)
            for item in page.get("items", []):
                item.setdefault("apiVersion", spec.api_version)
                item.setdefault("kind", spec.kind)
                items.append(item)
            token = page.get("metadata", {}).get("continue", "")
            if not token:
                return items, str(page.get("metadata", {}).get("resourceVersion", ""))

    def watch(self, spec: KindSpec, namespace: str, resource_version: str) -> Iterator[dict[str, Any]]:
        """Stream watch events; a 410 (as HTTP status or ERROR event) raises :class:`Gone`."""
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": self.watch_timeout_seconds,
            **self._selector(spec),
        }
        try:
            response = self.api.call_api(
                spec.path(namespace),
                "GET",
                query_params=list(query.items()),
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=(10, self.watch_timeout_seconds + 30),
            )
        except client.ApiException as error:
            if error.status == 410:
                raise Gone(str(error.reason)) from error
            raise
        with self._lock:
            if self._closed:
                response.release_conn()
                return
            self._open.add(response)
        try:
            buffer = b""
            for chunk in response.stream(65536, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        finally:
            with self._lock:
                self._open.discard(response)
            response.release_conn()
