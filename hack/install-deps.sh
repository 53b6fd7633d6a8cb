#!/usr/bin/env bash
# Installs what daytwo needs on a fresh Debian 12 machine: Debian packages (apt-get, only when
# missing), then a Python venv with the pinned dependencies from pyproject.toml. pip's wheel cache
# (~/.cache/pip) makes a second run fast; the Makefile skips this entirely while the venv is current.
set -euo pipefail
venv="${1:-.venv}"
packages=(openssl ca-certificates)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: apt-get install ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in go python3; do
  command -v "$tool" >/dev/null || { echo "deps: $tool is required (Go >= 1.24, Python >= 3.11)" >&2; exit 1; }
done
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "deps: Python >= 3.11 required" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
echo "deps: installing Python dependencies into $venv (first run takes a few minutes)"
"$venv/bin/pip" install -q --disable-pip-version-check -e '.[test]'
