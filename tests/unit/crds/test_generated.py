"""The checked-in CRD YAML is exactly what the models generate, in crds/ and in the chart."""

from __future__ import annotations

import yaml
from daytwo.crds.base import GROUP
from daytwo.crds.generate import OUTPUT_DIRS, main, render_all, render_crd, structural
from daytwo.crds.kinds import KINDS
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec


def test_checked_in_yaml_is_current() -> None:
    assert main(["--check"]) == 0, "run `make crds`"


def test_chart_crds_are_identical_to_generated() -> None:
    generated, chart = OUTPUT_DIRS
    for name, text in render_all().items():
        assert (generated / name).read_text() == text
        assert (chart / name).read_text() == text


def test_names_and_short_names() -> None:
    rendered = {definition.info.kind: render_crd(definition) for definition in KINDS}
    assert {crd["spec"]["names"]["shortNames"][0] for crd in rendered.values()} == {
        "d2sp",
        "d2rj",
        "d2dr",
        "d2de",
        "d2am",
        "d2pn",
        "d2cc",
        "d2cr",
        "d2ar",
    }
    for crd in rendered.values():
        assert crd["spec"]["group"] == GROUP
        assert crd["spec"]["names"]["categories"] == ["daytwo"]
        version = crd["spec"]["versions"][0]
        assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}


def _walk(schema: dict[str, object], path: str = "") -> list[tuple[str, dict[str, object]]]:
    found = [(path, schema)]
    for name, child in (schema.get("properties") or {}).items():  # type: ignore[attr-defined]
        found += _walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        found += _walk(schema["items"], f"{path}[]")  # type: ignore[arg-type]
    return found


def test_every_field_is_described_and_structural() -> None:
    for definition in KINDS:
        for model in (definition.spec, definition.status):
            for path, node in _walk(structural(model))[1:]:
                if path.endswith("[]"):
                    continue
                assert node.get("description"), f"{definition.info.kind}{path} has no description"
                assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
                for forbidden in ("$ref", "anyOf", "allOf", "title"):
                    assert forbidden not in node, f"{definition.info.kind}{path} has {forbidden}"


def test_pattern_with_message_becomes_cel() -> None:
    schedule = structural(SnapshotPolicySpec)["properties"]["schedule"]
    assert "pattern" not in schedule
    assert schedule["x-kubernetes-validations"][0]["rule"].startswith("self.matches(r'")


def test_yaml_is_loadable() -> None:
    for text in render_all().values():
        assert yaml.safe_load(text)["kind"] == "CustomResourceDefinition"
