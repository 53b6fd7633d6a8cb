"""Generate the CRD YAML from the pydantic models (``make crds``); ``--check`` fails when it is stale.

Pydantic's JSON schema is turned into a Kubernetes structural schema: ``$ref`` inlined, ``Optional``
unions collapsed to the non-null type (an unset field is simply absent), titles and
``additionalProperties: false`` dropped (the apiserver prunes unknown fields), CEL rules kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from .base import GROUP, VERSION, KindDefinition, PrinterColumn
from .kinds import KINDS

__all__ = ["OUTPUT_DIRS", "main", "render_all", "render_crd", "structural"]

_REPO = Path(__file__).resolve().parent.parent
#: The generator writes identical files to both places; a test checks they match the models.
OUTPUT_DIRS = (_REPO / "crds" / "generated", _REPO / "charts" / "daytwo" / "crds")
_DROP = {"title", "additionalProperties"}
#: A field with a ``pattern`` and this key gets a CEL rule with the message instead of the bare regex error.
PATTERN_MESSAGE = "x-daytwo-pattern-message"
JsonSchema = dict[str, Any]


def _resolve(schema: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    """Inline $refs and collapse allOf-of-one and Optional anyOf, recursively."""
    node = dict(schema)
    if "$ref" in node:
        target = _resolve(defs[node.pop("$ref").rsplit("/", 1)[-1]], defs)
        node = {**target, **node}
    if "allOf" in node and len(node["allOf"]) == 1:
        node = {**_resolve(node.pop("allOf")[0], defs), **node}
    if "anyOf" in node:
        options = [option for option in node.pop("anyOf") if option.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"unions other than Optional[X] are not structural: {options}")
        node = {**_resolve(options[0], defs), **node}
    if node.get("default", 0) is None:
        del node["default"]
    if "properties" in node:
        node["properties"] = {name: _resolve(prop, defs) for name, prop in node["properties"].items()}
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _resolve(node["additionalProperties"], defs)
        node["_keep_ap"] = True
    if "items" in node:
        node["items"] = _resolve(node["items"], defs)
    return node


def _clean(node: JsonSchema) -> JsonSchema:
    """Drop what a structural schema must not carry, keep map value schemas."""
    keep_ap = node.pop("_keep_ap", False)
    out = {key: value for key, value in node.items() if key not in _DROP or (key == "additionalProperties" and keep_ap)}
    if "properties" in out:
        out["type"] = "object"
        out["properties"] = {name: _clean(prop) for name, prop in out["properties"].items()}
    if "additionalProperties" in out:
        out["additionalProperties"] = _clean(out["additionalProperties"])
    if "items" in out:
        out["items"] = _clean(out["items"])
    message = out.pop(PATTERN_MESSAGE, None)
    if message and "pattern" in out:
        rule = {"rule": f"self.matches(r'{out.pop('pattern')}')", "message": message}
        out["x-kubernetes-validations"] = [*out.get("x-kubernetes-validations", []), rule]
    if "enum" in out:
        out.setdefault("type", "string")
    if out.get("format") == "date-time":
        out["type"] = "string"
    return out


def structural(model: type[Any]) -> JsonSchema:
    """The structural OpenAPI v3 schema of a pydantic model, keyed by its camelCase aliases."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _clean(_resolve(raw, defs))


def _printer_column(column: PrinterColumn) -> JsonSchema:
    """A printer column without the empty description and zero priority kubectl does not need."""
    return {key: value for key, value in column.to_k8s().items() if value not in ("", 0)}


def render_crd(definition: KindDefinition) -> JsonSchema:
    """The CustomResourceDefinition object for one kind."""
    info = definition.info
    spec = structural(definition.spec)
    status = structural(definition.status)
    status["description"] = f"Observed state of the {info.kind}, written by the daytwo operator."
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "labels": {"app.kubernetes.io/part-of": "daytwo"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "singular": info.singular,
                "plural": info.plural,
                "shortNames": [info.short_name],
                "categories": ["daytwo"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        *[_printer_column(column) for column in info.printer_columns],
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": definition.description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": "daytwo.io/v1alpha1"},
                                "kind": {"type": "string", "description": info.kind},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": status,
                            },
                        }
                    },
                }
            ],
        },
    }


def render_all() -> dict[str, str]:
    """File name -> YAML text for every kind."""
    header = "# Generated by `make crds` from the pydantic models in crds/. Do not edit.\n"
    return {
        f"{GROUP}_{definition.info.plural}.yaml": header
        + yaml.safe_dump(render_crd(definition), sort_keys=False, width=120)
        for definition in KINDS
    }


def main(argv: list[str] | None = None) -> int:
    """Write the CRD YAML, or with --check report stale files and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the checked-in YAML differs from the models")
    args = parser.parse_args(argv)
    rendered = render_all()
    stale: list[str] = []
    for directory in OUTPUT_DIRS:
        if not args.check:
            directory.mkdir(parents=True, exist_ok=True)
            for existing in directory.glob(f"{GROUP}_*.yaml"):
                if existing.name not in rendered:
                    existing.unlink()
        for name, text in rendered.items():
            path = directory / name
            if args.check:
                if not path.exists() or path.read_text() != text:
                    stale.append(str(path.relative_to(_REPO)))
            else:
                path.write_text(text)
    if stale:
        print("stale CRD YAML (run `make crds`):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
