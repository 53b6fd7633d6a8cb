"""pf9 preferences are bounded on write and the branding logo URL cannot be a script (issue 16, Low)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.fakes import route_client


def nested(depth: int) -> dict[str, Any]:
    """An object nested ``depth`` levels deep (``{"a": {"a": ... {}}}``)."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_preferences_are_bounded_in_depth_and_size() -> None:
    client, _ = route_client(role="viewer")
    assert client.put("/platform9/user-preferences", json=nested(8)).status_code == 200
    for body in (nested(9), nested(256), {"x": [[[[[[[[[1]]]]]]]]]}):
        refused = client.put("/platform9/user-preferences", json=body)
        assert refused.status_code == 422 and "8 levels" in refused.json()["detail"]
    assert client.get("/platform9/user-preferences").status_code == 200
    too_big = client.put("/platform9/user-preferences", json={"pad": "x" * (16 * 1024)})
    assert too_big.status_code == 422 and "16384 bytes" in too_big.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("javascript:alert(document.cookie)", 422),
        ("JAVASCRIPT:alert(1)", 422),
        ("data:text/html;base64,PHNjcmlwdD4=", 422),
        ("vbscript:msgbox", 422),
        ("http://cdn.example.com/logo.png", 422),
        ("//evil.example.com/x.png", 422),
        ("https://cdn.example.com/logo.png", 200),
        ("data:image/png;base64,iVBORw0KGgo=", 200),
        ("data:image/svg+xml;base64,PHN2Zz4=", 200),
    ],
)
def test_branding_logo_url_is_https_or_an_inline_image(url: str, status: int) -> None:
    client, _ = route_client(role="admin")
    answer = client.put("/platform9/settings/branding", json={"company_logo_url": url})
    assert answer.status_code == status, answer.text
