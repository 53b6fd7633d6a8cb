"""Shared plumbing of the service mixins: the call runner and JSON requests over SDK proxies.

Reads go through openstacksdk's service proxies (keystoneauth adapters with auth, catalog
lookup, version discovery and microversions) but decode the JSON into our records directly:
building openstacksdk ``Resource`` objects costs milliseconds per item, too slow for estates
with tens of thousands of volumes. Pagination follows the services' own next links to the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

from openstack import exceptions as sdk_exc
from openstack import utils as sdk_utils

from ...errors import NotFound, Unavailable
from ..runtime import CredentialKey
from ._clients import Connection, OpenStackClients
from ._params import OpenStackConnectionParams

__all__ = ["ServiceCalls", "fetch_all", "microversion", "request_json"]

T = TypeVar("T")
R = TypeVar("R")
Json = dict[str, Any]
_MAX_PAGES = 100_000


class ServiceCalls:
    """Base of the per-service mixins; every SDK call goes through :meth:`_call`."""

    def __init__(
        self,
        params: OpenStackConnectionParams,
        clients: OpenStackClients,
        *,
        credential: CredentialKey | None = None,
        secret_version: str = "",
    ) -> None:
        self._params = params
        self._clients = clients
        self._credential = credential
        self._secret_version = secret_version

    @property
    def params(self) -> OpenStackConnectionParams:
        """The connection params this backend was built from."""
        return self._params

    def _call(self, operation: str, fn: Callable[[Connection], T], *, idempotent: bool = True) -> T:
        return self._clients.call(
            self._params,
            operation,
            fn,
            idempotent=idempotent,
            credential=self._credential,
            secret_version=self._secret_version,
        )

    def invalidate_token(self) -> None:
        """Drop the cached Keystone token of this backend's connection, so the next call re-authenticates."""
        self._clients.invalidate_token(self._params, self._credential, self._secret_version)

    def _list(
        self,
        operation: str,
        proxy_name: str,
        path: str,
        key: str,
        convert: Callable[[Json], R],
        query: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """GET ``path`` on the ``proxy_name`` service, every page, each item under ``key`` as ``convert`` makes it."""
        return self._call(
            operation, lambda c: [convert(item) for item in fetch_all(getattr(c, proxy_name), path, key, params=query)]
        )

    def _get(self, operation: str, proxy_name: str, path: str, key: str, convert: Callable[[Json], R]) -> R:
        """GET one object at ``path`` on the ``proxy_name`` service (under ``key``) as ``convert`` makes it."""
        return self._call(operation, lambda c: convert(request_json(getattr(c, proxy_name), "GET", path)[key]))

    def _create(
        self, operation: str, proxy_name: str, path: str, key: str, body: Json, convert: Callable[[Json], R]
    ) -> R:
        """POST ``{key: body}`` to ``path`` (not retried once sent: not idempotent); the created object as ``convert``
        makes it."""
        created = self._call(
            operation,
            lambda c: request_json(getattr(c, proxy_name), "POST", path, body={key: body}),
            idempotent=False,
        )
        return convert(created[key])

    def _delete(self, operation: str, proxy_name: str, path: str) -> bool:
        """DELETE ``path``; False (not an error) when the object is already gone."""
        try:
            self._call(operation, lambda c: request_json(getattr(c, proxy_name), "DELETE", path))
        except NotFound:
            return False
        return True


def microversion(proxy: Any, wanted: str) -> str | None:
    """``wanted`` when the cloud supports it, else None (the service's default)."""
    return wanted if sdk_utils.supports_microversion(proxy, wanted) else None


def request_json(
    proxy: Any,
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> Any:
    """One request on a service proxy; SDK HTTP errors on failure, the decoded body (or None)."""
    response = proxy.request(
        path, method, json=body, params=params, microversion=version, headers={"Accept": "application/json"}
    )
    sdk_exc.raise_from_response(response)
    if not response.content:
        return None
    return response.json()


def _next_link(data: Json, key: str) -> str | None:
    links = data.get(f"{key}_links") or []
    for link in links:
        if link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    nested = data.get("links")
    if isinstance(nested, Mapping) and nested.get("next"):
        return str(nested["next"])  # Keystone
    glance = data.get("next")
    if isinstance(glance, str) and glance:
        return glance[glance.find("/", 1) :] if glance.startswith("/v") else glance  # Glance: "/v2/images?..."
    return None


def fetch_all(
    proxy: Any,
    path: str,
    key: str,
    *,
    params: Mapping[str, Any] | None = None,
    version: str | None = None,
    each_page: Callable[[list[Json]], list[Any]] | None = None,
) -> list[Any]:
    """GET ``path`` and every following page; returns all items under ``key`` (``each_page(items)`` of each
    page instead when given: a caller keeping a few fields of thousands of objects never holds them whole)."""
    items: list[Any] = []
    url: str | None = path
    query: Mapping[str, Any] | None = params
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        if url is None:
            return items
        data = request_json(proxy, "GET", url, params=query, version=version)
        page = data.get(key) or []
        items.extend(each_page(page) if each_page is not None else page)
        link = _next_link(data, key)
        if not link or not page:
            return items
        parts = urlparse(link)
        url = parts._replace(query="").geturl()
        query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
        marker = f"{url}?{parts.query}"
        if marker in seen:
            raise Unavailable(f"pagination loop detected at {parts.path}")
        seen.add(marker)
    raise Unavailable(f"more than {_MAX_PAGES} pages at {path}")
