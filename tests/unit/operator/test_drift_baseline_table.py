"""One drift baseline per (namespace, credential, resource type), shared by the rules on it: each rule sees
exactly the baseline it would have had alone, the rows are shared, the table goes with its last rule, and
the persisted form is each rule's own ``{id: [value, name, project, since]}`` as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.operator.reconcile.drift import BaselineEntry, Listing, RuleView, evaluate, observe
from daytwo.operator.reconcile.driftbaseline import BaselineTable, BaselineTables

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
P1 = "5c1e9f0a-0000-4000-8000-000000000001"
STATUS = RuleView("status-rule", "server", "status", "warning")
FLAVOR = RuleView("flavor-rule", "server", "flavor_id", "critical")
VOLUME = RuleView("size-rule", "volume", "size", "info")


def server(uid: str, name: str, status: str = "ACTIVE", flavor: str = "m1.small") -> dict[str, Any]:
    return {"id": uid, "name": name, "tenant_id": P1, "status": status, "flavor": {"id": flavor}}


SERVERS = [
    server("8d4f3c2a-0000-4000-8000-00000000000a", "web-1"),
    server("8d4f3c2a-0000-4000-8000-00000000000b", "web-2"),
]


def test_observations_hold_only_the_watched_fields_and_evaluate_the_same_as_raw_json() -> None:
    listing = Listing.of("server", SERVERS, ["status", "flavor_id"])
    assert listing.fields == frozenset({"status", "flavor_id"})
    first, second = listing.items
    assert (first.value("status"), first.value("flavor_id")) == ('"ACTIVE"', '"m1.small"')
    assert first.value("status") is second.value("status"), "equal values are one string"
    assert first.fields is second.fields, "one tuple of field names per listing"
    first_raw = evaluate(STATUS, SERVERS, {}, {}, NOW)
    first_observed = evaluate(STATUS, listing.items, {}, {}, NOW)
    assert first_raw.baseline == first_observed.baseline
    changed = [server(SERVERS[0]["id"], "web-1", status="ERROR"), SERVERS[1]]
    later = NOW + timedelta(hours=1)
    by_raw = evaluate(STATUS, changed, first_raw.baseline, {}, later)
    by_observed = evaluate(STATUS, observe("server", changed, ["status"]), first_raw.baseline, {}, later)
    assert by_raw.events == by_observed.events and len(by_raw.events) == 1


def test_rules_on_one_type_share_rows_and_each_sees_its_own_baseline() -> None:
    tables = BaselineTables()
    table = tables.attach("ns", "cred", STATUS)
    assert tables.attach("ns", "cred", FLAVOR) is table
    assert tables.attach("ns", "cred", VOLUME) is not table
    assert table.fields() == ("flavor_id", "status")
    items = Listing.of("server", SERVERS, table.fields()).items
    for rule in (STATUS, FLAVOR):
        result = evaluate(rule, items, table.view(rule.name), {}, NOW)
        table.store(rule.name, result.baseline)
    assert len(table) == 2, "one row per resource, whatever the number of rules"
    status, flavor = table.view(STATUS.name), table.view(FLAVOR.name)
    key = SERVERS[0]["id"]
    assert status[key].value == '"ACTIVE"' and flavor[key].value == '"m1.small"'
    assert status[key].name is flavor[key].name, "the name is stored once for both rules"
    assert flavor[key] is result.baseline[key], "an evaluation's entry is kept as it is, not copied"
    again = evaluate(STATUS, items, table.view(STATUS.name), {}, NOW + timedelta(hours=1))
    assert not again.baseline_changed and not again.events


def test_a_rule_forgetting_a_resource_leaves_it_to_the_others_and_the_last_removes_the_row() -> None:
    table = BaselineTable()
    table.attach(STATUS)
    table.attach(FLAVOR)
    items = Listing.of("server", SERVERS, table.fields()).items
    for rule in (STATUS, FLAVOR):
        table.store(rule.name, evaluate(rule, items, {}, {}, NOW).baseline)
    gone = SERVERS[1]["id"]
    table.store(STATUS.name, evaluate(STATUS, items[:1], table.view(STATUS.name), {}, NOW).baseline)
    assert gone not in table.view(STATUS.name) and gone in table.view(FLAVOR.name) and len(table) == 2
    table.store(FLAVOR.name, evaluate(FLAVOR, items[:1], table.view(FLAVOR.name), {}, NOW).baseline)
    assert len(table) == 1


def test_the_persisted_form_is_unchanged_and_loads_back() -> None:
    table = BaselineTable()
    table.attach(STATUS)
    stored = {
        SERVERS[0]["id"]: ['"ACTIVE"', "web-1", P1, "2026-11-30T00:00:00Z"],
        SERVERS[1]["id"]: ['"SHUTOFF"', "web-2", None, "2026-11-29T00:00:00Z"],
    }
    assert not table.loaded(STATUS.name)
    table.load(STATUS.name, stored)
    assert table.loaded(STATUS.name)
    assert table.entries(STATUS.name) == stored
    assert table.view(STATUS.name)[SERVERS[1]["id"]] == BaselineEntry(
        '"SHUTOFF"', "web-2", None, "2026-11-29T00:00:00Z"
    )


def test_tables_are_reference_counted_and_a_rule_that_moves_leaves_its_old_table() -> None:
    tables = BaselineTables()
    tables.attach("ns", "cred", STATUS)
    tables.attach("ns", "cred", FLAVOR)
    assert tables.keys() == [("ns", "cred", "server")]
    tables.attach("ns", "other-cred", STATUS)  # the rule now reads through another credential
    assert tables.keys() == [("ns", "cred", "server"), ("ns", "other-cred", "server")]
    tables.detach("ns", FLAVOR.name)
    assert tables.keys() == [("ns", "other-cred", "server")], "the last rule took the table with it"
    tables.detach("ns", STATUS.name)
    tables.detach("ns", STATUS.name)  # twice is fine
    assert tables.keys() == []


def test_a_changed_field_starts_the_rules_column_afresh_and_columns_are_reused() -> None:
    table = BaselineTable()
    table.attach(STATUS)
    table.store(STATUS.name, evaluate(STATUS, SERVERS, {}, {}, NOW).baseline)
    table.attach(RuleView(STATUS.name, "server", "flavor_id", "warning"))
    assert table.view(STATUS.name) == {} and not table.loaded(STATUS.name) and len(table) == 0
    table.attach(FLAVOR)
    table.detach(STATUS.name)
    table.attach(VOLUME)  # takes the freed column: rows do not grow
    table.store(FLAVOR.name, evaluate(FLAVOR, SERVERS, {}, {}, NOW).baseline)
    assert table.rules() == ("flavor-rule", "size-rule") and table.view(VOLUME.name) == {}


def test_one_raw_listing_per_credential_at_a_time() -> None:
    tables = BaselineTables(listings_per_credential=1)
    slot = tables.listing_slot("ns", "cred")
    assert tables.listing_slot("ns", "cred") is slot and tables.listing_slot("ns", "other") is not slot
    with slot:
        assert not slot.acquire(blocking=False)


def test_the_sliced_compression_is_the_json_it_always_was() -> None:
    import gzip
    import json

    from daytwo.operator.baselines import compress

    entries = {
        f"{n:05d}-{'ab'[n % 2]}": ['"ACTIVE"', f"vm-{n}", P1 if n % 3 else None, "2026-12-01T00:00:00Z"]
        for n in range(4_500)
    }
    assert gzip.decompress(compress(entries)) == json.dumps(entries, separators=(",", ":"), sort_keys=True).encode()
    assert json.loads(gzip.decompress(compress({}))) == {}


def test_freed_memory_goes_back_to_the_os_on_glibc() -> None:
    import platform

    from daytwo.operator.memory import trim

    assert trim() is (platform.libc_ver()[0] == "glibc")
