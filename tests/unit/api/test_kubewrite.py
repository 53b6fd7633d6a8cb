"""KubeWriter over real HTTP to a scripted apiserver: impersonation headers, paths, error mapping."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import KubeWriter, kube_error
from kubernetes import client

ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {}
SEEN: list[dict[str, Any]] = []


class Apiserver(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        SEEN.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        status, payload = ANSWERS.get(f"{self.command} {self.path.split('?')[0]}", (200, body or {}))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def writer() -> Iterator[KubeWriter]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Apiserver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_port}"
    api = client.ApiClient(config)
    ANSWERS.clear()
    SEEN.clear()
    yield KubeWriter(api, "ns", "daytwo:user:ann", "daytwo:operator")
    api.close()
    server.shutdown()


def status(code: int, message: str, reason: str = "") -> tuple[int, dict[str, Any]]:
    return code, {"kind": "Status", "status": "Failure", "message": message, "reason": reason, "code": code}


def test_writes_impersonate_the_caller(writer: KubeWriter) -> None:
    created = writer.create("DriftRule", {"metadata": {"name": "r", "namespace": "elsewhere"}, "spec": {}})
    assert created["metadata"]["namespace"] == "ns" and created["apiVersion"] == "daytwo.io/v1alpha1"
    writer.annotate("DriftEvent", "e", {"daytwo.io/acknowledged-by": "ann"})
    writer.delete("RestoreJob", "j")
    writer.create_secret("proxmox-token", {"token": "s3cret"}, {"app": "x"})
    first = SEEN[0]
    assert first["path"] == "/apis/daytwo.io/v1alpha1/namespaces/ns/driftrules"
    assert first["headers"]["Impersonate-User"] == "daytwo:user:ann"
    assert first["headers"]["Impersonate-Group"] == "daytwo:operator"
    assert SEEN[1]["method"] == "PATCH" and SEEN[1]["headers"]["Content-Type"] == "application/merge-patch+json"
    assert SEEN[3]["path"] == "/api/v1/namespaces/ns/secrets" and SEEN[3]["body"]["stringData"] == {"token": "s3cret"}
    assert all(s["headers"]["Impersonate-Group"] == "daytwo:operator" for s in SEEN)


@pytest.mark.parametrize(
    ("answer", "expected_status", "fragment"),
    [
        (status(403, 'driftrules is forbidden: User "daytwo:user:ann" cannot create'), 403, "cannot create"),
        (status(404, 'driftrules "r" not found'), 404, "not found"),
        (status(409, 'driftrules "r" already exists', "AlreadyExists"), 409, "already exists"),
        (
            status(422, 'DriftRule.daytwo.io "r" is invalid: spec: Invalid value: schedule must be cron'),
            422,
            "schedule must be cron",
        ),
        (status(500, "etcd down"), 502, "Kubernetes API error (500)"),
    ],
)
def test_apiserver_answers_become_api_errors(
    writer: KubeWriter, answer: Any, expected_status: int, fragment: str
) -> None:
    ANSWERS["POST /apis/daytwo.io/v1alpha1/namespaces/ns/driftrules"] = answer
    with pytest.raises(ApiError) as error:
        writer.create("DriftRule", {"metadata": {"name": "r"}})
    assert error.value.status_code == expected_status and fragment in error.value.message


def test_reserved_secret_names_and_unknown_kinds(writer: KubeWriter) -> None:
    with pytest.raises(ApiError) as reserved:
        writer.patch_secret("daytwo-api-user-abc", {"role": "superadmin"})
    assert reserved.value.status_code == 422 and not SEEN
    with pytest.raises(ValueError, match="not a kind"):
        writer.create("Pod", {})


def test_unreachable_apiserver_is_503() -> None:
    assert kube_error(ConnectionError("refused")).status_code == 503
