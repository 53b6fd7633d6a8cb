"""schemathesis against the multicloud sub-app in process: no 5xx, and every answer matches the OpenAPI document.

Only the response-side checks (server errors, status codes, content types, headers, response schemas):
request-side checks (e.g. a repeated query parameter FastAPI reads once) are about FastAPI, not these
routes. /auth is the core's; the Terraform /resources routes answer 501 on purpose (checked in test_routes).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness.fakes import route_client

from .test_routes import OBJECTS, PatchingWriter

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

_client, _services = route_client(OBJECTS, role="admin", user_rate_per_minute=1_000_000)
_writer = PatchingWriter()
_services.writer_factory = lambda _principal: _writer
schema = schemathesis.openapi.from_asgi("/multicloud/openapi.json", _client.app).exclude(
    path_regex="^/(auth|resources)"
)
CHECKS: list[Any] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
def test_multicloud_answers_match_the_schema(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": _client.headers["Authorization"]}, checks=CHECKS)
