"""Glance calls: images."""

from __future__ import annotations

from . import _convert
from ._base import ServiceCalls, fetch_all, request_json
from ._records import Image

__all__ = ["ImageCalls"]


class ImageCalls(ServiceCalls):
    """Glance v2 part of the backend."""

    def list_images(self) -> list[Image]:
        """Images visible to the identity."""
        return self._call(
            "list images",
            lambda c: [_convert.image(i) for i in fetch_all(c.image, "/images", "images", params={"limit": 1000})],
        )

    def get_image(self, image_id: str) -> Image:
        """One image."""
        return self._call("get image", lambda c: _convert.image(request_json(c.image, "GET", f"/images/{image_id}")))
