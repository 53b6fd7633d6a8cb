#!/usr/bin/env bash
# `make test`'s pytest step: the e2e tests (one control plane, stand-ins on fixed ports: one session)
# and, beside them, the unit and integration tests (mostly CPU while e2e mostly waits on processes).
# Both report in full; the step fails if either does.
set -uo pipefail
python="$1"
shift
side_log="$(mktemp)"
trap 'rm -f "$side_log"' EXIT
"$python" -m pytest tests/unit tests/integration -q -p no:cacheprovider "$@" >"$side_log" 2>&1 &
side=$!
echo "tests: e2e here; unit + integration beside it (reported after)"
"$python" -m pytest tests/e2e -q -p no:cacheprovider "$@"
e2e=$?
wait "$side"
rest=$?
echo "--- unit + integration ---"
cat "$side_log"
if [ "$e2e" -ne 0 ] || [ "$rest" -ne 0 ]; then
  echo "tests: failed (e2e exit $e2e, unit + integration exit $rest)" >&2
  exit 1
fi
