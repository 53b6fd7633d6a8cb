"""Checks the clouds' connection params share (each params class validates itself in ``__post_init__``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import InvalidRequest

__all__ = ["require_https"]


def require_https(name: str, url: str) -> None:
    """Raise InvalidRequest naming ``name`` unless ``url`` is an https:// URL with a host and no query or fragment."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise InvalidRequest(f"{name} {url!r} is not an https:// URL without query")
