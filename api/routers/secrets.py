"""What the routes that rewrite a credential's Secret share (multicloud credentials, pmi nodes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import Writer, owned_secret

__all__ = ["owned_or_conflict"]


def owned_or_conflict(writer: Writer, name: str, owner: Mapping[str, str], made_for: str, fix: str) -> dict[str, Any]:
    """Secret ``name``'s metadata if this API made it for ``owner``; else a 409 saying whom it was not made for
    (``made_for``) and what to do instead (``fix``): the facade never rewrites a Secret someone else made."""
    found = owned_secret(writer, name, owner)
    if found is None:
        raise ApiError(409, f"Secret {name!r} was not made by this API for {made_for}; {fix}", "CONFLICT")
    return found
