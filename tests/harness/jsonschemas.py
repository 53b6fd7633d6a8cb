"""kubeconform schemas made here, without downloads: Kubernetes kinds from a real apiserver, CRDs from their YAML.

``kube`` starts a :class:`LocalControlPlane` (the v1.33 apiserver built by hack/), reads ``/openapi/v2`` and
writes one standalone JSON schema per kind (openapi2jsonschema's layout, strict: ``additionalProperties:
false`` on every object with properties). ``crds`` converts the ``openAPIV3Schema`` of CustomResourceDefinitions
(files, folders or multi-document YAML such as ``helm template`` output) the same way, with
``metadata`` checked against ObjectMeta. File names follow kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}``:
``deployment-apps-v1.json``, ``service-v1.json``, ``driftrule-daytwo-v1alpha1.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import ssl
import sys
import tempfile
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .controlplane import LocalControlPlane

__all__ = ["convert_crds", "convert_openapi_v2", "fetch_openapi_v2", "schema_file_name", "strict"]

Schema = dict[str, Any]
OPENAPI_FILE = "_openapi-v2.json"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
#: Kubernetes types whose OpenAPI v2 form is a string with a format JSON Schema cannot check.
_SPECIAL: dict[str, Schema] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
}


def schema_file_name(group: str, version: str, kind: str) -> str:
    """kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` for one group/version/kind."""
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json".lower()


def strict(schema: Any) -> Any:
    """Recursively forbid fields a schema does not name, unless it keeps unknown fields on purpose."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("properties", "definitions", "patternProperties"):
        if isinstance(out.get(key), dict):
            out[key] = {name: strict(value) for name, value in out[key].items()}
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [strict(value) for value in out[key]]
    for key in ("additionalProperties", "items", "not"):
        if isinstance(out.get(key), dict):
            out[key] = strict(out[key])
        elif isinstance(out.get(key), list):
            out[key] = [strict(value) for value in out[key]]
    if out.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "format"):
            out.pop(key, None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _closure(root: Schema, definitions: dict[str, Schema]) -> dict[str, Schema]:
    """Every definition ``root`` reaches through $ref, with the special types replaced."""
    found: dict[str, Schema] = {}
    pending = list(_refs(root))
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found[name] = copy.deepcopy(_SPECIAL.get(name, definitions[name]))
        pending.extend(_refs(found[name]))
    return found


def _standalone(root: Schema, definitions: dict[str, Schema]) -> Schema:
    """``root`` plus the definitions it needs, in one file, made strict."""
    schema: Schema = {"$schema": "http://json-schema.org/draft-07/schema#", **copy.deepcopy(root)}
    reached = _closure(root, definitions)
    if reached:
        schema["definitions"] = reached
    return dict(strict(schema))


def convert_openapi_v2(document: Schema, out: Path) -> int:
    """Write one schema per single group/version/kind definition of an apiserver's OpenAPI v2; returns the count."""
    out.mkdir(parents=True, exist_ok=True)
    definitions: dict[str, Schema] = document["definitions"]
    written = 0
    for definition in definitions.values():
        kinds = definition.get("x-kubernetes-group-version-kind") or []
        if len(kinds) != 1 or "kind" not in definition.get("properties", {}):
            continue
        gvk = kinds[0]
        path = out / schema_file_name(gvk["group"], gvk["version"], gvk["kind"])
        path.write_text(json.dumps(_standalone(definition, definitions), indent=1, sort_keys=True))
        written += 1
    (out / OPENAPI_FILE).write_text(json.dumps(document))
    return written


def _documents(sources: Iterable[Path | str]) -> Iterable[dict[str, Any]]:
    for source in sources:
        if isinstance(source, str) and source == "-":
            yield from (doc for doc in yaml.safe_load_all(sys.stdin) if doc)
            continue
        path = Path(source)
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            yield from (doc for doc in yaml.safe_load_all(file.read_text()) if doc)


def convert_crds(sources: Iterable[Path | str], out: Path, openapi: Schema | None = None) -> list[str]:
    """Write a schema per served version of every CRD in ``sources``; ``metadata`` uses ObjectMeta when given."""
    out.mkdir(parents=True, exist_ok=True)
    definitions = (openapi or {}).get("definitions", {})
    written = []
    for doc in _documents(sources):
        if doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec["versions"]:
            root = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            properties = root.setdefault("properties", {})
            properties.setdefault("apiVersion", {"type": "string"})
            properties.setdefault("kind", {"type": "string"})
            if OBJECT_META in definitions:
                properties["metadata"] = {"$ref": f"#/definitions/{OBJECT_META}"}
            name = schema_file_name(spec["group"], version["name"], spec["names"]["kind"])
            (out / name).write_text(json.dumps(_standalone(root, definitions), indent=1, sort_keys=True))
            written.append(name)
    return written


def fetch_openapi_v2(state_dir: Path) -> Schema:
    """Start a throwaway local control plane and read its /openapi/v2."""
    with LocalControlPlane(state_dir=state_dir, extra_users=()) as plane:
        context = ssl.create_default_context(cafile=str(plane.ca_file))
        request = urllib.request.Request(
            f"{plane.server}/openapi/v2", headers={"Authorization": f"Bearer {plane.users['admin'].token}"}
        )
        with urllib.request.urlopen(request, context=context, timeout=60) as response:
            document: Schema = json.loads(response.read())
    return document


def main(argv: list[str] | None = None) -> int:
    """``kube --out DIR`` (cached: nothing happens when DIR is complete) or ``crds --out DIR --kube DIR SOURCE...``."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    kube = sub.add_parser("kube", help="Kubernetes kinds from the local apiserver's /openapi/v2")
    kube.add_argument("--out", type=Path, required=True)
    crds = sub.add_parser("crds", help="CRDs from YAML files, folders or - (stdin)")
    crds.add_argument("--out", type=Path, required=True)
    crds.add_argument("--kube", type=Path, help="a `kube` output folder, for ObjectMeta")
    crds.add_argument("sources", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "kube":
        if (args.out / OPENAPI_FILE).exists():
            print(f"schemas: Kubernetes schemas cached at {args.out}")
            return 0
        with tempfile.TemporaryDirectory(prefix="daytwo-openapi-") as state:
            document = fetch_openapi_v2(Path(state))
        count = convert_openapi_v2(document, args.out)
        print(f"schemas: wrote {count} Kubernetes {document['info']['version']} schemas to {args.out}")
        return 0
    openapi = json.loads((args.kube / OPENAPI_FILE).read_text()) if args.kube else None
    sources = [source if source == "-" else Path(source) for source in args.sources]
    names = convert_crds(sources, args.out, openapi)
    print(f"schemas: wrote {len(names)} CRD schemas to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
