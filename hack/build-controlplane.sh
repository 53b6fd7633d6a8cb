#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl (v1.33) and etcd (v3.5) from the
# Go module proxy into ~/.cache/daytwo/<version>/bin. A second run finds them and builds nothing.
# Prints progress so a cold build (several minutes on 2 cores) is visibly moving.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kube_version="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/kube/go.mod")"
etcd_version="$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$here/etcd/go.mod")"
cache="${DAYTWO_CACHE:-$HOME/.cache/daytwo}/kube-$kube_version-etcd-$etcd_version"
bin="$cache/bin"
mkdir -p "$bin"
# One build at a time per cache: a second caller (make in another shell, a test) waits, then finds
# the binaries built.
exec 9>"$cache/.build.lock"
flock 9
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0
# Two cores and 24 GiB: one package graph at a time keeps peak memory near 3 GiB.
export GOMAXPROCS="${GOMAXPROCS:-2}"

build() { # build <module dir> <package> <output name> <ldflags>
  local dir="$1" pkg="$2" out="$3" ldflags="$4"
  if [ -x "$bin/$out" ]; then
    echo "hack: $out cached at $bin/$out"
    return
  fi
  echo "hack: building $out from $pkg (cold builds take minutes; go build -v lists packages as they compile)"
  local start=$SECONDS
  (cd "$dir" && go build -v -trimpath -ldflags "$ldflags" -o "$bin/$out.tmp.$$" "$pkg") 2>&1 \
    | awk -v name="$out" '{n++; if (n % 100 == 0) {printf "hack: %s: %d packages compiled...\n", name, n; fflush()}}'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "hack: building $out failed" >&2; exit 1; }
  mv "$bin/$out.tmp.$$" "$bin/$out"
  echo "hack: built $out in $((SECONDS - start)) s ($(du -h "$bin/$out" | cut -f1))"
}

kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$(echo "$kube_version" | cut -d. -f2) \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z \
 -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"
build "$here/etcd" go.etcd.io/etcd/server/v3 etcd "-s -w"
build "$here/kube" k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube_ldflags"
build "$here/kube" k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kube_ldflags"
build "$here/kube" k8s.io/kubernetes/cmd/kubectl kubectl "$kube_ldflags"
echo "$bin"
