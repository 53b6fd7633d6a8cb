"""horcrux /api/vault: the path -> Secret name mapping, path/key validation, list children, config round trip."""

from __future__ import annotations

import itertools

import pytest
from daytwo.api.errors import ApiError
from daytwo.api.routers.horcrux.vault import VaultConfigUpdate
from daytwo.api.views.horcrux import vault
from pydantic import ValidationError


def test_documented_path_maps_to_a_vault_secret() -> None:
    assert vault.secret_name("horcrux/database") == "vault-horcrux-database"
    assert vault.secret_name("db") == "vault-db"


def test_dashes_inside_a_segment_are_doubled() -> None:
    assert vault.secret_name("my-app/db") == "vault-my--app-db"
    assert vault.secret_name("a-b/c") != vault.secret_name("a/b-c")


def test_mapping_has_no_collisions_over_small_alphabet() -> None:
    segments = ["a", "b", "a-b", "a--b", "b-a"]
    paths = {"/".join(combo) for n in (1, 2, 3) for combo in itertools.product(segments, repeat=n)}
    names = {vault.secret_name(vault.check_path(p)) for p in paths}
    assert len(names) == len(paths)
    assert all(len(name) <= 253 and name == name.lower() for name in names)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "Give a secret path"),
        ("Horcrux/db", "lowercase"),
        ("horcrux//db", "segment ''"),
        ("horcrux/db_1", "segment 'db_1'"),
        ("-x/db", "segment '-x'"),
        ("x-/db", "segment 'x-'"),
        ("../etc", "segment '..'"),
        ("a" * 64, "segment"),
        ("/".join(["a"] * 9), "too deep"),
        ("/".join(["abcdefghij" * 3] * 7), "too long"),
    ],
)
def test_bad_paths_are_a_clear_422(path: str, fragment: str) -> None:
    with pytest.raises(ApiError) as raised:
        vault.check_path(path)
    assert raised.value.status_code == 422 and fragment in str(raised.value.message)


def test_a_path_whose_secret_name_is_too_long_is_a_422() -> None:
    path = "/".join(["a-" * 30 + "a"] * 3)  # 185 characters, 180 dashes doubled: 371 > 253
    assert len(path) <= vault.MAX_PATH
    with pytest.raises(ApiError) as raised:
        vault.check_path(path)
    assert raised.value.status_code == 422 and "too long for its Secret name" in str(raised.value.message)
    fits = "/".join(["ab-" * 20 + "a"] * 2)
    assert len(vault.secret_name(vault.check_path(fits))) <= 253


def test_slashes_around_a_path_are_dropped_and_the_root_only_lists() -> None:
    assert vault.check_path("/horcrux/database/") == "horcrux/database"
    assert vault.check_path("", allow_root=True) == ""


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "at least one key"),
        ({"bad key": "x"}, "Invalid key"),
        ({f"k{i}": "x" for i in range(65)}, "Too many keys"),
        ({"big": "x" * (vault.MAX_VALUE_BYTES + 1)}, "too large"),
    ],
)
def test_bad_data_is_a_clear_422_without_values(data: dict[str, str], fragment: str) -> None:
    with pytest.raises(ApiError) as raised:
        vault.check_data(data)
    assert raised.value.status_code == 422 and fragment in str(raised.value.message)
    assert "xxxx" not in str(raised.value.message)


def test_children_show_the_next_segment() -> None:
    paths = ["horcrux/database", "horcrux/apps/web", "horcrux/apps/api", "other/x", "horcruxes"]
    assert vault.children("horcrux", paths) == ["apps/", "database"]
    assert vault.children("", paths) == ["horcrux/", "horcruxes", "other/"]
    assert vault.children("horcrux/apps", paths) == ["api", "web"]
    assert vault.children("nothing", paths) == []


def test_config_round_trips_and_defaults_the_mount() -> None:
    config = vault.VaultConfig(True, "https://vault.example.com:8200", "horcrux", "kv")
    assert vault.parse_config(vault.config_data(config)) == config
    assert vault.parse_config(None, "secret2") == vault.VaultConfig(False, "", "", "secret2")


@pytest.mark.parametrize("address", ["vault.example.com", "ftp://vault", "https://vault/v1/secret", "https://v?x=1"])
def test_bad_address_is_a_422(address: str) -> None:
    with pytest.raises(ApiError) as raised:
        vault.check_address(address)
    assert raised.value.status_code == 422 and "base URL" in str(raised.value.message)
    assert vault.check_address("http://127.0.0.1:8200/") == "http://127.0.0.1:8200"


@pytest.mark.parametrize("token", ["", "two words", "t\u00e9", "line\nbreak"])
def test_a_token_is_printable_ascii(token: str) -> None:
    with pytest.raises(ValidationError):
        VaultConfigUpdate(token=token)
    assert VaultConfigUpdate(token="hvs.CAESIJ-x_y").token == "hvs.CAESIJ-x_y"
