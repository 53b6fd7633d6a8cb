"""The facade's /metrics: route templates as labels, so ids in paths never grow the label set."""

from __future__ import annotations

from daytwo.api.metrics import instrument
from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_requests_are_counted_by_route_template() -> None:
    app = FastAPI()

    @app.get("/vms/{vm_id}")
    async def vm(vm_id: str) -> dict[str, str]:
        return {"id": vm_id}

    instrument(app)
    client = TestClient(app)
    for vm_id in ("a", "b", "c"):
        assert client.get(f"/vms/{vm_id}").status_code == 200
    assert client.get("/nowhere").status_code == 404
    text = client.get("/metrics").text
    assert 'daytwo_api_requests_total{method="GET",route="/vms/{vm_id}",status="200"} 3.0' in text
    assert 'daytwo_api_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'route="/metrics"' not in text
