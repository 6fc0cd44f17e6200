#!/usr/bin/env bash
# CI step for the API clients (clients/): the generated TypeScript types match the
# committed spec snapshot, the Python package installs offline and passes its unit
# tests, and both examples run the whole product path against one `npm run dev`.
# (That the snapshot matches the routes is tests/clients-openapi.test.ts, in `npm test`.)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--- clients/typescript/src/schema.d.ts is generated from clients/openapi.json"
npm run --silent client:generate -- --from-snapshot
client_changes=$(git status --porcelain clients/) || { echo "git status failed: cannot check clients/" >&2; exit 1; }
if [ -n "$client_changes" ]; then
  printf '%s\n' "$client_changes"
  echo "clients/ is not what npm run client:generate makes from clients/openapi.json: run it and commit clients/" >&2
  exit 1
fi

echo "--- Python package: pip install ./clients/python (offline) and its unit tests"
work=$(mktemp -d)
python3 -m venv --system-site-packages "$work/venv"
# --retries 0: an index this machine cannot reach is passed over at once, not retried.
"$work/venv/bin/pip" install --quiet --retries 0 ./clients/python 2> >(grep -v '^WARNING' >&2)
rm -rf clients/python/build clients/python/grandscale.egg-info
if "$work/venv/bin/python" -c "import pytest" 2>/dev/null; then
  "$work/venv/bin/python" -m pytest -q -p no:cacheprovider clients/python/tests
else
  "$work/venv/bin/python" -m unittest discover -s clients/python/tests -v
fi

echo "--- npm run dev on a free port"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
dev_log="$work/dev.log"
# Its own session and process group: stopping the group stops wrangler, workerd and the database too.
# Multipart from 5 MiB (R2's smallest part), so the examples' 6 MiB file goes up in parts.
multipart_threshold=5242880
setsid env -u DATABASE_URL PORT="$port" MULTIPART_THRESHOLD_BYTES="$multipart_threshold" npm run dev >"$dev_log" 2>&1 </dev/null &
dev_pid=$!
stop_dev() {
  kill -TERM -- "-$dev_pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 -- "-$dev_pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL -- "-$dev_pid" 2>/dev/null || true
}
trap 'stop_dev; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

base="http://127.0.0.1:$port"
deadline=$((SECONDS + 150))
healthy() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$base/health" 2>/dev/null; }
until healthy; do
  if ! kill -0 "$dev_pid" 2>/dev/null; then
    cat "$dev_log" >&2
    echo "npm run dev exited before answering /health" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    cat "$dev_log" >&2
    echo "npm run dev did not answer $base/health within 150 s" >&2
    exit 1
  fi
  sleep 1
done
echo "npm run dev answers at $base"

run_example() {
  local name=$1
  shift
  echo "--- $name"
  if ! timeout 120 "$@"; then
    echo "--- npm run dev log" >&2
    tail -n 80 "$dev_log" >&2
    echo "$name failed" >&2
    exit 1
  fi
}
run_example "TypeScript example (npm run example)" env API_URL="$base" MULTIPART_THRESHOLD_BYTES="$multipart_threshold" npm run --silent example
run_example "Python example (npm run example:python)" env API_URL="$base" MULTIPART_THRESHOLD_BYTES="$multipart_threshold" PATH="$work/venv/bin:$PATH" npm run --silent example:python
echo "clients: 2 passed, 0 failed"
