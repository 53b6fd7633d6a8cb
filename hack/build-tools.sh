#!/usr/bin/env bash
# Builds the chart tools, helm v3 and kubeconform, from the Go module proxy (hack/tools/go.mod,
# go.sum committed) into ~/.cache/daytwo/tools-helm-<v>-kubeconform-<v>/bin. A second run finds
# them and builds nothing. Prints progress; the last line is the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/tools/go.mod"
helm_version="$(sed -n 's/^\s*helm.sh\/helm\/v3 \(v[0-9.]*\)$/\1/p' "$mod")"
kubeconform_version="$(sed -n 's/^\s*github.com\/yannh\/kubeconform \(v[0-9.]*\)$/\1/p' "$mod")"
client_go_version="$(sed -n 's/^\s*k8s.io\/client-go \(v[0-9.]*\) \/\/ indirect$/\1/p' "$mod")"
[ -n "$helm_version" ] && [ -n "$kubeconform_version" ] && [ -n "$client_go_version" ] \
  || { echo "hack: cannot read the tool versions from $mod" >&2; exit 1; }
cache="${DAYTWO_CACHE:-$HOME/.cache/daytwo}/tools-helm-$helm_version-kubeconform-$kubeconform_version"
bin="$cache/bin"
mkdir -p "$bin"
# One build at a time per cache: a second caller (make in another shell, a test) waits, then finds
# the binaries built.
exec 9>"$cache/.build.lock"
flock 9
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0
export GOMAXPROCS="${GOMAXPROCS:-2}"

build() { # build <package> <output name> <ldflags>
  local pkg="$1" out="$2" ldflags="$3"
  if [ -x "$bin/$out" ]; then
    echo "hack: $out cached at $bin/$out"
    return
  fi
  command -v go >/dev/null || { echo "hack: go is required to build $out (Go >= 1.26)" >&2; exit 1; }
  echo "hack: building $out from $pkg (a cold build takes a few minutes; progress every 100 packages)"
  local start=$SECONDS
  (cd "$here/tools" && go build -v -trimpath -ldflags "$ldflags" -o "$bin/$out.tmp.$$" "$pkg") 2>&1 \
    | awk -v name="$out" '
        /^go: downloading / {d++; if (d % 50 == 0) {printf "hack: %s: %d modules downloaded...\n", name, d; fflush()}; next}
        /^(#|go: )|\.go:[0-9]+/ {print; fflush(); next}
        {n++; if (n % 100 == 0) {printf "hack: %s: %d packages compiled...\n", name, n; fflush()}}'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "hack: building $out failed" >&2; exit 1; }
  mv "$bin/$out.tmp.$$" "$bin/$out"
  echo "hack: built $out in $((SECONDS - start)) s ($(du -h "$bin/$out" | cut -f1))"
}

# helm's own Makefile sets these: the version it reports and the Kubernetes version it assumes
# for `helm template`/`lint` without a cluster (that of its client-go, 0.x -> 1.x).
client_go_minor="$(echo "$client_go_version" | cut -d. -f2)"
helm_ldflags="-s -w \
 -X helm.sh/helm/v3/internal/version.version=$helm_version \
 -X helm.sh/helm/v3/internal/version.metadata= \
 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$client_go_minor \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$client_go_minor"
build helm.sh/helm/v3/cmd/helm helm "$helm_ldflags"
build github.com/yannh/kubeconform/cmd/kubeconform kubeconform "-s -w -X main.version=$kubeconform_version"
echo "$bin"
