"""HashiCorp Vault's KV version 2 HTTP API, as much as daytwo uses, in a thread of the test process.

    with VaultStandin(token="s.root", namespace="horcrux", mounts=("secret",)) as vault:
        vault.address            # http://127.0.0.1:<port>
        vault.requests           # [(method, path, X-Vault-Namespace)] seen (never bodies)

Routes (all under ``/v1``, ``X-Vault-Token`` required: 403 ``{"errors": ["permission denied"]}`` when
missing or wrong, and when ``X-Vault-Namespace`` is not the configured namespace):

- ``GET sys/mounts``: the KV v2 mounts (plus ``sys/`` and ``cubbyhole/`` like a dev server)
- ``GET <mount>/data/<path>``: the latest version (404 ``{"errors": []}`` when absent; 404 with the
  version's metadata and no data when that version was deleted, as Vault answers)
- ``POST|PUT <mount>/data/<path>`` ``{"data": {...}, "options": {"cas": n}}``: a new version
- ``DELETE <mount>/data/<path>``: soft-deletes the latest version (204)
- ``GET <mount>/metadata/<path>``: versions and their times; ``LIST`` (or ``GET ?list=true``): keys below
  a folder (``name/`` for folders; 404 ``{"errors": []}`` when there is nothing)
- ``DELETE <mount>/metadata/<path>``: every version and the metadata (204)
- an unknown mount: 404 ``no handler for route``
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["VaultStandin"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Version:
    data: dict[str, Any]
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False

    def metadata(self, number: int) -> dict[str, Any]:
        return {
            "created_time": self.created_time,
            "custom_metadata": None,
            "deletion_time": self.deletion_time,
            "destroyed": self.destroyed,
            "version": number,
        }


@dataclass
class _Secret:
    versions: dict[int, _Version] = field(default_factory=dict)
    created_time: str = field(default_factory=_now)
    updated_time: str = field(default_factory=_now)

    @property
    def current(self) -> int:
        return max(self.versions, default=0)


class VaultStandin:
    """The stand-in on a free loopback port (or ``port``)."""

    def __init__(
        self, token: str = "root", namespace: str = "", mounts: tuple[str, ...] = ("secret",), port: int = 0
    ) -> None:
        self.token = token
        self.namespace = namespace.strip("/")
        self.lock = threading.Lock()
        #: mount -> path -> secret
        self.mounts: dict[str, dict[str, _Secret]] = {mount: {} for mount in mounts}
        #: (method, path, namespace header) of every request, in order (never bodies or tokens)
        self.requests: list[tuple[str, str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="vault-standin", daemon=True)

    @property
    def address(self) -> str:
        """The base URL daytwo is configured with."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> VaultStandin:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``python -m tests.standins.vault``)."""
        self._server.serve_forever()

    # -- the API ----------------------------------------------------------------------------------

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        """(status, JSON body or None) for one request."""
        parts = urlsplit(url)
        path = parts.path
        query = parse_qs(parts.query)
        with self.lock:
            self.requests.append((method, path, headers.get("x-vault-namespace", "")))
        if not path.startswith("/v1/"):
            return 404, {"errors": []}
        if headers.get("x-vault-token") != self.token:
            return 403, {"errors": ["permission denied"]}
        if headers.get("x-vault-namespace", "").strip("/") != self.namespace:
            return 403, {"errors": ["permission denied"]}
        route = path[len("/v1/") :]
        if route == "sys/mounts" and method == "GET":
            return 200, self._mounts()
        mount, _, rest = route.partition("/")
        kind, _, secret_path = rest.partition("/")
        if mount not in self.mounts or kind not in ("data", "metadata"):
            return 404, {"errors": [f'no handler for route "{route}". route entry not found.']}
        if method == "LIST" or (method == "GET" and kind == "metadata" and query.get("list") == ["true"]):
            return self._list(mount, secret_path)
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return 400, {"errors": ["failed to parse JSON input"]}
        secret_path = secret_path.strip("/")
        if not secret_path:
            return 404, {"errors": []}
        with self.lock:
            if kind == "data":
                return self._data(method, mount, secret_path, payload)
            return self._metadata(method, mount, secret_path)

    def _envelope(self, data: Any) -> dict[str, Any]:
        return {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": None,
            "auth": None,
        }

    def _mounts(self) -> dict[str, Any]:
        engines: dict[str, Any] = {
            f"{mount}/": {"type": "kv", "options": {"version": "2"}, "description": "key/value secret storage"}
            for mount in self.mounts
        }
        engines["cubbyhole/"] = {"type": "cubbyhole", "options": None, "description": "per-token private storage"}
        engines["sys/"] = {"type": "system", "options": None, "description": "system endpoints"}
        return {**engines, **self._envelope(engines)}

    def _data(self, method: str, mount: str, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        secrets = self.mounts[mount]
        found = secrets.get(path)
        if method == "GET":
            if found is None or not found.versions:
                return 404, {"errors": []}
            number = found.current
            version = found.versions[number]
            if version.deletion_time or version.destroyed:
                return 404, self._envelope({"data": None, "metadata": version.metadata(number)})
            return 200, self._envelope({"data": version.data, "metadata": version.metadata(number)})
        if method in ("POST", "PUT"):
            data = payload.get("data")
            if not isinstance(data, dict):
                return 400, {"errors": ["no data provided"]}
            cas = (payload.get("options") or {}).get("cas")
            current = found.current if found else 0
            if cas is not None and int(cas) != current:
                return 400, {"errors": ["check-and-set parameter did not match the current version"]}
            if found is None:
                found = secrets[path] = _Secret()
            number = current + 1
            found.versions[number] = _Version(dict(data), _now())
            found.updated_time = found.versions[number].created_time
            return 200, self._envelope(found.versions[number].metadata(number))
        if method == "DELETE":
            if found is not None and found.versions:
                found.versions[found.current].deletion_time = _now()
            return 204, None
        return 405, {"errors": ["unsupported operation"]}

    def _metadata(self, method: str, mount: str, path: str) -> tuple[int, Any]:
        secrets = self.mounts[mount]
        found = secrets.get(path)
        if method == "GET":
            if found is None:
                return 404, {"errors": []}
            versions = {str(n): v.metadata(n) for n, v in found.versions.items()}
            for entry in versions.values():
                entry.pop("custom_metadata")
                entry.pop("version")
            return 200, self._envelope(
                {
                    "cas_required": False,
                    "created_time": found.created_time,
                    "current_version": found.current,
                    "custom_metadata": None,
                    "delete_version_after": "0s",
                    "max_versions": 0,
                    "oldest_version": min(found.versions, default=0),
                    "updated_time": found.updated_time,
                    "versions": versions,
                }
            )
        if method == "DELETE":
            secrets.pop(path, None)
            return 204, None
        return 405, {"errors": ["unsupported operation"]}

    def _list(self, mount: str, path: str) -> tuple[int, Any]:
        prefix = path.strip("/")
        base = f"{prefix}/" if prefix else ""
        with self.lock:
            paths = list(self.mounts[mount])
        keys: set[str] = set()
        for name in paths:
            if name.startswith(base):
                head, slash, _ = name[len(base) :].partition("/")
                keys.add(head + slash)
        if not keys:
            return 404, {"errors": []}
        return 200, self._envelope({"keys": sorted(keys)})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = standin.answer(self.command, self.path, headers, body)
                encoded = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                if encoded:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the tests read ``requests``

        return Handler
