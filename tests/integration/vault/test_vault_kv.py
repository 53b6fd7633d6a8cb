"""hvac (the real client daytwo uses) against the Vault KV v2 stand-in: the stand-in's contract (tokens,
namespace header, versions, soft and hard deletes, LIST, Vault's 404 shapes), then daytwo's VaultKv store on
top of it (read/write/delete/list, the mount check, errors in horcrux's terms without values)."""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest
from daytwo.api.errors import ApiError
from daytwo.api.views.horcrux.vault import VaultConfig, VaultKv

from tests.standins.vault import VaultStandin

pytestmark = pytest.mark.integration

TOKEN = "hvs.stand-in-root-token"
NAMESPACE = "horcrux"


@pytest.fixture
def vault() -> Iterator[VaultStandin]:
    with VaultStandin(TOKEN, NAMESPACE, ("secret", "kv2")) as running:
        yield running


def _client(vault: VaultStandin, token: str = TOKEN, namespace: str | None = NAMESPACE) -> hvac.Client:
    return hvac.Client(url=vault.address, token=token, namespace=namespace)


def test_kv2_versions_read_write_through_hvac(vault: VaultStandin) -> None:
    kv = _client(vault).secrets.kv.v2
    first = kv.create_or_update_secret(path="horcrux/database", secret={"username": "admin"})
    assert first["data"]["version"] == 1
    kv.create_or_update_secret(path="horcrux/database", secret={"username": "admin", "password": "p1"})
    read = kv.read_secret_version(path="horcrux/database", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"username": "admin", "password": "p1"}
    assert read["data"]["metadata"]["version"] == 2
    metadata = kv.read_secret_metadata(path="horcrux/database")["data"]
    assert metadata["current_version"] == 2 and sorted(metadata["versions"]) == ["1", "2"]
    with pytest.raises(hvac.exceptions.InvalidRequest):  # check-and-set against an old version
        kv.create_or_update_secret(path="horcrux/database", secret={"x": "y"}, cas=1)
    assert all(ns == NAMESPACE for _, _, ns in vault.requests)


def test_deletes_and_404_shapes(vault: VaultStandin) -> None:
    kv = _client(vault).secrets.kv.v2
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version(path="nothing/here", raise_on_deleted_version=True)
    kv.create_or_update_secret(path="app/db", secret={"k": "v"})
    kv.delete_latest_version_of_secret(path="app/db")  # soft: metadata remains, the version reads as deleted
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version(path="app/db", raise_on_deleted_version=True)
    deleted = kv.read_secret_version(path="app/db", raise_on_deleted_version=False)
    assert deleted["data"]["data"] is None and deleted["data"]["metadata"]["deletion_time"]
    assert kv.read_secret_metadata(path="app/db")["data"]["current_version"] == 1
    kv.delete_metadata_and_all_versions(path="app/db")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path="app/db")


def test_list_shows_keys_and_folders(vault: VaultStandin) -> None:
    kv = _client(vault).secrets.kv.v2
    for path in ("horcrux/database", "horcrux/apps/web", "other"):
        kv.create_or_update_secret(path=path, secret={"k": "v"})
    assert kv.list_secrets(path="horcrux")["data"]["keys"] == ["apps/", "database"]
    assert kv.list_secrets(path="")["data"]["keys"] == ["horcrux/", "other"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets(path="empty")
    assert ("LIST", "/v1/secret/metadata/horcrux", NAMESPACE) in vault.requests


def test_bad_token_or_namespace_is_403_and_mounts_are_kv2(vault: VaultStandin) -> None:
    with pytest.raises(hvac.exceptions.Forbidden):
        _client(vault, token="wrong").secrets.kv.v2.read_secret_version(path="x", raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        _client(vault, namespace="elsewhere").secrets.kv.v2.list_secrets(path="")
    mounts = _client(vault).sys.list_mounted_secrets_engines()["data"]
    assert mounts["secret/"]["options"]["version"] == "2" and mounts["kv2/"]["type"] == "kv"
    assert "cubbyhole/" in mounts
    with pytest.raises(hvac.exceptions.InvalidPath):  # unknown mount: no handler for route
        _client(vault).secrets.kv.v2.read_secret_version(path="x", mount_point="nope", raise_on_deleted_version=True)


def _store(vault: VaultStandin, token: str = TOKEN, mount: str = "secret") -> VaultKv:
    return VaultKv(VaultConfig(True, vault.address, NAMESPACE, mount), token)


def test_store_round_trip_on_another_mount(vault: VaultStandin) -> None:
    store = _store(vault, mount="kv2")
    store.check_mount()
    store.write("horcrux/database", {"username": "admin", "password": "secret123"})
    store.write("horcrux/database", {"password": "secret456"})  # a new version replaces the data
    assert store.read("horcrux/database") == {"password": "secret456"}
    assert store.list("horcrux") == ["database"] and store.list("") == ["horcrux/"] and store.list("none") == []
    store.delete("horcrux/database")
    with pytest.raises(ApiError) as gone:
        store.read("horcrux/database")
    assert gone.value.status_code == 404 and gone.value.code == "NOT_FOUND"
    with pytest.raises(ApiError) as again:
        store.delete("horcrux/database")
    assert again.value.status_code == 404
    assert all(path.startswith(("/v1/kv2/", "/v1/sys/mounts")) for _, path, _ in vault.requests)


def test_store_errors_name_the_problem_not_the_value(vault: VaultStandin) -> None:
    with pytest.raises(ApiError) as refused:
        _store(vault, token="stale").write("a/b", {"password": "do-not-echo"})
    assert refused.value.status_code == 502 and "refused the configured token" in refused.value.message
    assert "do-not-echo" not in refused.value.message
    with pytest.raises(ApiError) as no_mount:
        _store(vault, mount="absent").check_mount()
    assert no_mount.value.status_code == 422 and "absent/" in no_mount.value.message


def test_store_unreachable_is_503() -> None:
    with VaultStandin(TOKEN, NAMESPACE) as stopped:
        address = stopped.address
    store = VaultKv(VaultConfig(True, address, NAMESPACE, "secret"), TOKEN, timeout=2)
    with pytest.raises(ApiError) as down:
        store.read("a/b")
    assert down.value.status_code == 503
