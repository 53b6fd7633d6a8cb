#!/usr/bin/env bash
# Checks the Helm chart the way a cluster would see it, without downloads:
#   1. helm lint --strict with the default values and with every values file in <chart>/ci/;
#   2. helm template (CRDs included, Kubernetes 1.33) | kubeconform -strict against JSON schemas made
#      here: the Kubernetes kinds from the local v1.33 apiserver's /openapi/v2 (cached under
#      ~/.cache/daytwo/schemas-kube-<version>), daytwo's CRDs from crds/generated and any CRD the
#      chart itself renders (Kopf's peering CRDs).
# helm and kubeconform come from hack/build-tools.sh (Go module proxy, cached). Exits non-zero on the
# first lint error, template error or invalid object. Usage: hack/chart-check.sh [chart dir]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
chart="$(cd "${1:-$repo/charts/daytwo}" && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
cache="${DAYTWO_CACHE:-$HOME/.cache/daytwo}"
kube_version="$(sed -n 's/^require k8s.io\/kubernetes v\([0-9.]*\)$/\1/p' "$repo/hack/kube/go.mod")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

bash "$repo/hack/build-tools.sh" | tee "$work/tools.out" | grep '^hack:' || true
bin="$(tail -1 "$work/tools.out")"
[ -x "$bin/helm" ] && [ -x "$bin/kubeconform" ] || { echo "chart-check: hack/build-tools.sh failed" >&2; exit 1; }
kube_schemas="$cache/schemas-kube-v$kube_version"
(cd "$repo" && "$python" -m tests.harness.jsonschemas kube --out "$kube_schemas")

values_files=("")
for file in "$chart"/ci/*-values.yaml; do
  [ -e "$file" ] && values_files+=("$file")
done

status=0
for values in "${values_files[@]}"; do
  label="${values:+$(basename "$values")}"
  label="${label:-default values}"
  args=()
  [ -n "$values" ] && args=(-f "$values")
  echo "chart-check: $label: helm lint"
  if ! "$bin/helm" lint --strict "$chart" "${args[@]}" 2>&1 | grep -v '^$' | sed 's/^/  /'; then
    echo "chart-check: $label: helm lint failed" >&2
    exit 1
  fi
  rendered="$work/rendered.yaml"
  "$bin/helm" template daytwo "$chart" --namespace daytwo --include-crds --kube-version "$kube_version" \
    "${args[@]}" >"$rendered" || { echo "chart-check: $label: helm template failed" >&2; exit 1; }
  rm -rf "$work/crds"
  (cd "$repo" && "$python" -m tests.harness.jsonschemas crds --out "$work/crds" --kube "$kube_schemas" \
    crds/generated "$rendered") >/dev/null
  # No ServiceMonitor schema exists without the Prometheus Operator's CRDs (not downloadable here).
  echo "chart-check: $label: kubeconform -strict (Kubernetes $kube_version + CRDs; ServiceMonitor skipped)"
  if ! "$bin/kubeconform" -strict -summary -kubernetes-version "$kube_version" -skip ServiceMonitor \
    -schema-location "$kube_schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$work/crds/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$rendered" | sed 's/^/  /'; then
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "chart-check: ok" || echo "chart-check: invalid objects above" >&2
exit "$status"
