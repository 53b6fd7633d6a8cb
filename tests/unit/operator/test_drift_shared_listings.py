"""Drift listings are shared: rules on one (credential, resource type) evaluating together make one listing
of the cloud (singleflight), reused while fresh (issue 18 item 1)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from daytwo.operator.handlers.drift import SharedListings

KEY = ("team-drift", "os-prod", "servers")


def test_concurrent_rules_make_one_listing() -> None:
    listings = SharedListings(ttl_seconds=3600.0)
    fetched: list[int] = []
    release = threading.Event()

    def fetch() -> list[str]:
        fetched.append(1)
        release.wait(timeout=30)  # every other rule arrives while this listing is in flight, or after it
        return ["vm-1", "vm-2"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = [pool.submit(listings.get, KEY, fetch) for _ in range(200)]
        release.set()
        values = [result.result() for result in results]
    assert len(fetched) == 1
    assert all(value == ["vm-1", "vm-2"] for value in values)


def test_other_keys_and_unusable_listings_are_fetched_again() -> None:
    listings = SharedListings(ttl_seconds=3600.0)
    fetched: list[tuple[str, ...]] = []

    def fetch_for(key: tuple[str, ...]) -> list[str]:
        fetched.append(key)
        return [f"listing {len(fetched)}"]

    first = listings.get(KEY, lambda: fetch_for(KEY))
    assert listings.get(KEY, lambda: fetch_for(KEY)) == first
    other = ("team-drift", "os-prod", "volumes")
    listings.get(other, lambda: fetch_for(other))
    # a listing that lacks what a rule needs (another observed field) is not reused for it
    again = listings.get(KEY, lambda: fetch_for(KEY), usable=lambda found: found != first)
    assert again != first and fetched == [KEY, other, KEY]


def test_a_stale_listing_is_not_reused() -> None:
    listings = SharedListings(ttl_seconds=0.0)
    fetched: list[int] = []
    listings.get(KEY, lambda: fetched.append(1))
    listings.get(KEY, lambda: fetched.append(1))
    assert len(fetched) == 2


def test_rules_waiting_on_a_failing_listing_share_its_error() -> None:
    listings = SharedListings(ttl_seconds=3600.0)
    fetched: list[int] = []
    waiters = 20

    def fetch() -> list[str]:
        fetched.append(1)
        for _ in range(3000):  # until every other rule waits for this listing (bounded: never hangs)
            if listings.waiting(KEY) >= waiters - 1:
                break
            threading.Event().wait(0.01)
        raise TimeoutError("the cloud did not answer")

    with ThreadPoolExecutor(max_workers=waiters) as pool:
        results = [pool.submit(listings.get, KEY, fetch) for _ in range(waiters)]
        errors = [result.exception(timeout=60) for result in results]
    assert len(fetched) == 1, "one call to a failing cloud, not one per waiting rule"
    assert all(isinstance(error, TimeoutError) for error in errors)
    assert listings.waiting(KEY) == 0
    assert listings.get(KEY, lambda: ["vm-1"]) == ["vm-1"]  # a failure is not cached
