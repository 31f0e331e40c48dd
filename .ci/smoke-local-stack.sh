#!/usr/bin/env bash
# Runs the README quick start: ./tuneforge up, one training request through Kafka, the job view
# on the gateway, ./tuneforge down. Fails if any step does.
set -euo pipefail
cd "$(dirname "$0")/.."

export TUNEFORGE_HOME
TUNEFORGE_HOME="$(mktemp -d)"
trap './tuneforge down >/dev/null 2>&1 || true' EXIT

./tuneforge up
./tuneforge publish training.requests examples/training-request.json

for _ in $(seq 1 60); do
  if curl -fsS http://127.0.0.1:8080/v1/fine_tuning/jobs/ftjob-demo 2>/dev/null | grep -q '"status":"validating_files"'; then
    echo "smoke: ftjob-demo reached the gateway's job view"
    ./tuneforge status
    exit 0
  fi
  sleep 1
done
echo "smoke: ftjob-demo never appeared on http://127.0.0.1:8080/v1/fine_tuning/jobs/ftjob-demo" >&2
tail -n 40 "$TUNEFORGE_HOME"/logs/*.log >&2 || true
exit 1
