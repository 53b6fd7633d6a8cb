"""Raw inventory for drift: each page of a listing can be reduced as it arrives (``each_page``), so the JSON of
thousands of resources never exists at once; the result is what the whole listing would have given."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.operator.backends.openstack import SdkOpenStackBackend
from daytwo.operator.reconcile.drift import Listing, ListingObserver

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("resource_type", ["server", "volume", "port"])
def test_pages_reduced_as_they_arrive_give_the_whole_listing(
    backend: SdkOpenStackBackend, openstack_standin: StandIn, resource_type: str
) -> None:
    model = openstack_standin.model
    collection = {"server": model.servers, "volume": model.volumes, "port": model.ports}[resource_type]
    template = next(iter(collection.values()))
    for i in range(1100):  # past Nova's and Cinder's 1,000 per page
        clone = dict(template, id=f"00000000-0000-4000-8000-{i:012d}", name=f"bulk-{i}")
        collection[clone["id"]] = clone
    pages: list[int] = []

    def keep_ids(page: list[dict[str, Any]]) -> list[str]:
        pages.append(len(page))
        return [item["id"] for item in page]

    whole = backend.list_raw(resource_type)
    assert backend.list_raw(resource_type, each_page=keep_ids) == [item["id"] for item in whole]
    assert sum(pages) == len(whole) == len(collection)
    assert len(pages) >= (2 if resource_type != "port" else 1), pages

    observer = ListingObserver(resource_type, ["status", "name"])
    paged = observer.listing(backend.list_raw(resource_type, each_page=observer.page))
    assert paged == Listing.of(resource_type, whole, ["status", "name"])
