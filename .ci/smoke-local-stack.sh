#!/usr/bin/env bash
# Runs the README quick start: ./tuneforge demo (the stack up, the example dataset uploaded and a
# LoRA job created through the API, progress, the base-vs-tuned report and a chat completion of
# the fine-tuned model), then a QLoRA training request published straight to Kafka; data-service
# prepares the dataset, the trainer trains, eval-service scores it against the base, all seen on
# the gateway; ./tuneforge down. Fails if any step does.
set -euo pipefail
cd "$(dirname "$0")/.."

export TUNEFORGE_HOME
TUNEFORGE_HOME="$(mktemp -d)"
trap './tuneforge down >/dev/null 2>&1 || true' EXIT

./tuneforge demo
./tuneforge put examples/chat.jsonl uploads/acme/chat.jsonl
./tuneforge publish training.requests examples/training-request.json

for _ in $(seq 1 90); do
  job=$(curl -fsS -H "Authorization: Bearer sk-local-acme-0000000000" http://127.0.0.1:8080/v1/fine_tuning/jobs/ftjob-demo 2>/dev/null || true)
  if grep -q '"status":"succeeded"' <<<"$job"; then
    echo "smoke: ftjob-demo's dataset was prepared, the adapter trained and evaluated against its base"
    curl -fsS -H "Authorization: Bearer sk-local-acme-0000000000" http://127.0.0.1:8080/v1/fine_tuning/jobs/ftjob-demo/events | head -c 2000; echo
    ./tuneforge status
    exit 0
  fi
  if grep -q '"status":"failed"' <<<"$job"; then
    echo "smoke: ftjob-demo failed: $job" >&2
    exit 1
  fi
  sleep 1
done
echo "smoke: ftjob-demo never finished training on http://127.0.0.1:8080/v1/fine_tuning/jobs/ftjob-demo" >&2
tail -n 40 "$TUNEFORGE_HOME"/logs/*.log >&2 || true
exit 1
