"""KubeWriter over real HTTP to a scripted apiserver: impersonation headers, paths, error mapping."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import WRITTEN_AT, KubeWriter, kube_error, owned_secret, preconditions_of
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


def test_secret_metadata_is_read_as_the_facade_and_metadata_only(writer: KubeWriter) -> None:
    path = "/api/v1/namespaces/ns/secrets/t"
    meta = {"name": "t", "uid": "u1", "resourceVersion": "7", "labels": {"app.kubernetes.io/managed-by": "daytwo-api"}}
    ANSWERS[f"GET {path}"] = (200, {"kind": "PartialObjectMetadata", "metadata": meta})
    assert writer.secret_metadata("t") == meta
    asked = SEEN[-1]
    assert asked["headers"]["Accept"] == "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
    assert "Impersonate-User" not in asked["headers"]  # the caller may not read Secrets; the facade reads labels
    assert owned_secret(writer, "t", {}) == meta
    assert owned_secret(writer, "t", {"daytwo.io/proxmox-node": "other"}) is None
    ANSWERS[f"GET {path}"] = status(404, 'secrets "t" not found')
    assert writer.secret_metadata("t") is None and owned_secret(writer, "t", {}) is None


def test_secret_writes_carry_preconditions_and_a_fresh_stamp(writer: KubeWriter) -> None:
    writer.patch_secret("t", {"tokenSecret": "s"}, {"daytwo.io/credential": "true"}, "7")
    writer.patch_secret("t", {"tokenSecret": "s"})
    first, second = SEEN[0]["body"], SEEN[1]["body"]
    assert first["metadata"]["resourceVersion"] == "7" and first["metadata"]["labels"] == {
        "daytwo.io/credential": "true"
    }
    assert first["metadata"]["annotations"][WRITTEN_AT] != second["metadata"]["annotations"][WRITTEN_AT]
    assert "resourceVersion" not in second["metadata"]
    writer.delete_secret("t", preconditions_of({"uid": "u1", "resourceVersion": "7", "name": "t"}))
    assert SEEN[2]["method"] == "DELETE" and SEEN[2]["body"] == {"preconditions": {"uid": "u1", "resourceVersion": "7"}}
    assert all(s["headers"]["Impersonate-User"] == "daytwo:user:ann" for s in SEEN)
