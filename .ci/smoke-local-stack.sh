#!/usr/bin/env bash
# Runs the README quick start on the local stack, watched by Prometheus:
# 1. Debian's prometheus on loopback scrapes every service (deploy/prometheus/prometheus.yml with
#    local targets), when it is installed.
# 2. ./tuneforge demo: the stack up, the example dataset uploaded and a LoRA job created through
#    the API, progress, the base-vs-tuned report and a chat completion of the fine-tuned model.
# 3. The OpenAI Node SDK (vendored) against the gateway: files, jobs, events, checkpoints, models,
#    chat with logprobs and streams, errors, each object checked against the SDK's types
#    (tools/openai-contract; skipped without node).
# 4. Reward scoring (a tiny reward model served by reward-service) and an A/B test of the tuned
#    model against its base, with feedback and side-by-side ratings.
# 5. Every Grafana panel's query run against that Prometheus: each must return series, and the
#    demo job's loss and tokens/s must be there under its id (./tuneforge dashboards-check).
# 6. A QLoRA training request published straight to Kafka, trained and evaluated.
# ./tuneforge down at the end. Fails if any step does.
set -euo pipefail
cd "$(dirname "$0")/.."

export TUNEFORGE_HOME
TUNEFORGE_HOME="$(mktemp -d)"
PROMETHEUS_PID=""
cleanup() {
  ./tuneforge down >/dev/null 2>&1 || true
  [[ -n "$PROMETHEUS_PID" ]] && kill "$PROMETHEUS_PID" 2>/dev/null || true
}
trap cleanup EXIT
AUTH="Authorization: Bearer sk-local-acme-0000000000"
GATEWAY=http://127.0.0.1:8080

if command -v prometheus >/dev/null 2>&1; then
  mkdir -p "$TUNEFORGE_HOME/prometheus"
  sed -e 's/"\([a-z-]*\):\(80[0-9][0-9]\)"/"127.0.0.1:\2"/' \
      -e 's/scrape_interval: 5s/scrape_interval: 2s/' \
      -e "s#/etc/prometheus/rules.yml#$PWD/deploy/prometheus/rules.yml#" \
      deploy/prometheus/prometheus.yml > "$TUNEFORGE_HOME/prometheus/prometheus.yml"
  prometheus --config.file="$TUNEFORGE_HOME/prometheus/prometheus.yml" \
    --storage.tsdb.path="$TUNEFORGE_HOME/prometheus/data" \
    --web.listen-address=127.0.0.1:9091 > "$TUNEFORGE_HOME/prometheus/log" 2>&1 &
  PROMETHEUS_PID=$!
else
  echo "smoke: prometheus is not installed; the dashboards check is skipped"
fi

export TUNEFORGE_REWARD_MODELS=judge=models/judge-rm/
./tuneforge demo | tee "$TUNEFORGE_HOME/demo.log"
job=$(grep -o 'created ftjob-[0-9a-f]*' "$TUNEFORGE_HOME/demo.log" | head -1 | cut -d' ' -f2)
model=$(grep -o 'fine-tuned model: ft:[^ ]*' "$TUNEFORGE_HOME/demo.log" | head -1 | cut -d' ' -f3)
bash tools/openai-contract/run.sh "$GATEWAY" sk-local-acme-0000000000 "$model"

./tuneforge model init-tiny --reward-model --out "$TUNEFORGE_HOME/judge-rm" --seed 7
./tuneforge put "$TUNEFORGE_HOME/judge-rm" models/judge-rm >/dev/null
for i in 1 2 3 4 5; do
  curl -fsS -H "X-TuneForge-Service-Token: $(cat "$TUNEFORGE_HOME/service-token")" \
    -H 'Content-Type: application/json' http://127.0.0.1:8083/v1/rewards \
    -d "{\"model\": \"judge\", \"items\": [{\"prompt\": \"Is $i even or odd?\", \"response\": \"odd\"}]}" >/dev/null
done
for i in 1 2 3 4 5 6; do
  id=$(curl -fsS -H "$AUTH" -H 'Content-Type: application/json' "$GATEWAY/v1/chat/completions" \
    -d "{\"model\": \"ab:$model\", \"user\": \"user-$i\", \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"Is 1$i even or odd?\"}]}" \
    | grep -o '"id":"chatcmpl-[0-9a-f]*"' | cut -d'"' -f4)
  rating=$([[ $((i % 3)) == 0 ]] && echo down || echo up)
  curl -fsS -H "$AUTH" -H 'Content-Type: application/json' "$GATEWAY/v1/feedback" \
    -d "{\"response_id\": \"$id\", \"rating\": \"$rating\"}" >/dev/null
done
answer() {  # one chat answer of model $1 to prompt $2; prints its response id
  curl -fsS -H "$AUTH" -H 'Content-Type: application/json' "$GATEWAY/v1/chat/completions" \
    -d "{\"model\": \"$1\", \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"$2\"}]}" \
    | grep -o '"id":"chatcmpl-[0-9a-f]*"' | cut -d'"' -f4
}
for verdict in tuned tie; do  # side-by-side ratings, as the console's playground sends them
  tuned=$(answer "$model" "Is 42 even or odd?")
  base=$(answer tiny-llama "Is 42 even or odd?")
  preferred=$([[ $verdict == tie ]] && echo tie || echo "$tuned")
  curl -fsS -H "$AUTH" -H 'Content-Type: application/json' "$GATEWAY/v1/feedback/comparisons" \
    -d "{\"experiment\": \"$model\", \"response_ids\": [\"$base\", \"$tuned\"], \"preferred\": \"$preferred\"}" >/dev/null
done
curl -fsS -H "$AUTH" "$GATEWAY/v1/feedback/comparisons?experiment=$model" | grep -q '"ratings":2'
echo "smoke: rewards scored, an A/B test of $model answered and rated, two side-by-side ratings counted"

if [[ -n "$PROMETHEUS_PID" ]]; then
  sleep 6   # a few more scrapes
  ./tuneforge dashboards-check --prometheus http://127.0.0.1:9091 --job-id "$job"
fi

./tuneforge put examples/chat.jsonl uploads/acme/chat.jsonl
./tuneforge publish training.requests examples/training-request.json

for _ in $(seq 1 90); do
  view=$(curl -fsS -H "$AUTH" "$GATEWAY/v1/fine_tuning/jobs/ftjob-demo" 2>/dev/null || true)
  if grep -q '"status":"succeeded"' <<<"$view"; then
    echo "smoke: ftjob-demo's dataset was prepared, the adapter trained and evaluated against its base"
    curl -fsS -H "$AUTH" "$GATEWAY/v1/fine_tuning/jobs/ftjob-demo/events" | head -c 2000; echo
    ./tuneforge status
    exit 0
  fi
  if grep -q '"status":"failed"' <<<"$view"; then
    echo "smoke: ftjob-demo failed: $view" >&2
    exit 1
  fi
  sleep 1
done
echo "smoke: ftjob-demo never finished training on $GATEWAY/v1/fine_tuning/jobs/ftjob-demo" >&2
tail -n 40 "$TUNEFORGE_HOME"/logs/*.log >&2 || true
exit 1
