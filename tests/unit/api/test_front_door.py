"""The front door's limits (issue 16 item 8): request bodies are bounded, metrics label sets too."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

from tests.harness.fakes import route_client


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body of ``total`` bytes sent without Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b" " * part


def test_bodies_over_the_limit_answer_413_in_the_apis_envelope() -> None:
    client, services = route_client(role="viewer", max_body_bytes=64 * 1024)
    big = b"{" + b" " * (200 * 1024) + b"}"
    pmi = client.post("/pmi/api/proxmox/nodes", content=big, headers={"Content-Type": "application/json"})
    assert pmi.status_code == 413 and pmi.json()["success"] is False
    assert pmi.json()["error_code"] == "PAYLOAD_TOO_LARGE" and pmi.json()["details"] == {"max_body_bytes": 65536}
    assert pmi.headers["x-request-id"] == pmi.json()["request_id"]
    horcrux = client.post("/horcrux/api/webhooks", content=big)
    assert horcrux.status_code == 413 and horcrux.json()["status"] == 413
    streamed = client.put("/platform9/user-preferences", content=chunks(200 * 1024))
    assert streamed.status_code == 413 and "at most 65536 bytes" in streamed.json()["detail"]
    assert client.post("/nowhere", content=big).status_code == 413
    entry = services.audit.entries(limit=1)[1][0]  # type: ignore[union-attr]
    assert entry["details"]["status"] == 413 and entry["details"]["method"] == "PUT"  # the refusal is audited


def test_small_bodies_pass_whether_chunked_or_not() -> None:
    client, _ = route_client(role="viewer", max_body_bytes=64 * 1024)
    body = b'{"tab_order": ["servers"], "pad": "' + b"x" * 5000 + b'"}'
    json_type = {"Content-Type": "application/json"}
    streamed = client.put("/platform9/user-preferences", content=iter([body[:100], body[100:]]), headers=json_type)
    assert streamed.status_code == 200, streamed.text
    assert client.get("/platform9/user-preferences").json()["tab_order"] == ["servers"]
    sized = client.put("/platform9/user-preferences", content=body, headers=json_type)
    assert sized.status_code == 200


def series(text: str) -> set[str]:
    return {line.split(" ")[0] for line in text.splitlines() if line.startswith("daytwo_api_")}


def test_random_method_names_and_paths_create_no_new_metric_series() -> None:
    client, _ = route_client(role=None)
    rng = random.Random(16)

    def noise() -> None:
        method = "".join(rng.choices(string.ascii_uppercase, k=12))
        path = rng.choice(["/pmi/api/", "/horcrux/api/", "/", "/platform9/"]) + "".join(rng.choices("abcdef", k=10))
        client.request(method, path)

    for _ in range(8):  # each kind of answer once (unmatched paths, 404/405 per API)
        noise()
    before = series(client.get("/metrics").text)
    for _ in range(60):
        noise()
    after = series(client.get("/metrics").text)
    assert after == before
    assert any('method="other"' in s for s in after)
    assert not any(f'method="{m}"' in s for s in after for m in ("ABCDEF",))
