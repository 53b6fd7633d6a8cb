"""The facade's /metrics: route templates (with their API's prefix) as labels, so ids never grow the label set."""

from __future__ import annotations

from tests.harness.fakes import route_client

EVENT = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "DriftEvent",
    "metadata": {"name": "ev-1", "namespace": "daytwo"},
    "spec": {
        "ruleRef": "r",
        "resourceType": "server",
        "resourceId": "s-1",
        "severity": "warning",
        "field": "status",
        "detectedAt": "2026-12-01T00:00:00Z",
    },
}


def test_requests_are_counted_by_route_template() -> None:
    client, _ = route_client([EVENT], role="viewer")
    for event_id in ("ev-1", "ev-1", "missing"):
        client.get(f"/platform9/drift/events/{event_id}")
    assert client.get("/nowhere").status_code == 404
    text = client.get("/metrics").text
    template = 'method="GET",route="/platform9/drift/events/{event_id}"'
    assert f'daytwo_api_requests_total{{{template},status="200"}} 2.0' in text
    assert f'daytwo_api_requests_total{{{template},status="404"}} 1.0' in text
    assert f"daytwo_api_request_duration_seconds_count{{{template}}} 3.0" in text
    assert 'daytwo_api_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'route="/metrics"' not in text
