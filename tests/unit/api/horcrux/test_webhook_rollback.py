"""A webhook create that fails after its Secret was written rolls the Secret back, and says so when it cannot."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from daytwo.api.errors import ApiError

from tests.harness.fakes import RecordingWriter, route_client


class RefusingWriter(RecordingWriter):
    """The apiserver refusing the definition ConfigMap, and (``stuck``) the Secret's rollback delete too."""

    def __init__(self, stuck: bool) -> None:
        super().__init__()
        self.stuck = stuck

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        super().create(kind, body)
        raise ApiError(422, "ConfigMap refused by admission", "VALIDATION_ERROR")

    def delete_secret(self, name: str, preconditions: Any = None) -> None:
        super().delete_secret(name, preconditions)
        if self.stuck:
            raise ApiError(503, "etcd leader changed", "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize("stuck", [False, True])
def test_a_failed_create_deletes_the_secret_and_logs_a_failed_rollback(
    stuck: bool, caplog: pytest.LogCaptureFixture
) -> None:
    client, services = route_client(role="admin", webhook_allowed_hosts="127.0.0.1")
    writer = RefusingWriter(stuck)
    services.writer_factory = lambda _principal: writer
    body = {"name": "ops", "url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "s3cr3t-value"}
    with caplog.at_level(logging.WARNING, logger="daytwo.api"):
        answer = client.post("/horcrux/api/webhooks", json=body)
    assert answer.status_code == 422  # the create's own error, not the rollback's
    secret = writer.calls[0][1]
    assert writer.calls == [("create_secret", secret), ("create", "ConfigMap", secret), ("delete_secret", secret)]
    rollbacks = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rollback:")]
    if stuck:
        assert rollbacks == [
            f"rollback: could not delete Secret {secret} of the webhook not created "
            "(ApiError: etcd leader changed); remove it by hand"
        ]
    else:
        assert rollbacks == []
    assert "s3cr3t-value" not in caplog.text
