#!/usr/bin/env bash
# data-service's resident memory with 5 MB records, through the API on the local stack (issue 15's
# finding: 277 MiB grew to 2.9 GiB under -Xmx512m). Uploads a dataset of 20 short chats and one
# chat with a 5 MB message, creates five jobs that refuse over-length records
# (dataset.over_length "fail", so nothing trains), waits for each to fail, and prints
# data-service's RSS before and after each. Starts the stack in a temporary home and stops it.
#   bash tools/bench/data-service-memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export TUNEFORGE_HOME
TUNEFORGE_HOME="$(mktemp -d)"
trap './tuneforge down >/dev/null 2>&1 || true; rm -rf "$TUNEFORGE_HOME"' EXIT
AUTH="Authorization: Bearer sk-local-acme-0000000000"
GATEWAY=http://127.0.0.1:8080
./tuneforge up >/dev/null
./tuneforge model init-tiny --out "$TUNEFORGE_HOME/tiny-llama" --seed 42 >/dev/null
./tuneforge put "$TUNEFORGE_HOME/tiny-llama" models/tiny-llama >/dev/null
rss() {
  local pid
  pid=$(./tuneforge status | awk '$1 == "data-service" {print $6}')
  echo $(( $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") / 1024 ))
}
data="$TUNEFORGE_HOME/long.jsonl"
python3 - "$data" <<'PY'
import json, random, sys
random.seed(5)
with open(sys.argv[1], "w") as out:
    for i in range(20):
        out.write(json.dumps({"messages": [{"role": "user", "content": f"Is {i} even or odd?"},
                                           {"role": "assistant", "content": "even" if i % 2 == 0 else "odd"}]}) + "\n")
    words = " ".join(f"w{random.randrange(100000)}" for _ in range(750000))[:5_000_000]
    out.write(json.dumps({"messages": [{"role": "user", "content": words},
                                       {"role": "assistant", "content": "ok"}]}) + "\n")
PY
file=$(curl -fsS -H "$AUTH" -F purpose=fine-tune -F "file=@$data" "$GATEWAY/v1/files" | grep -o '"id":"file-[^"]*"' | cut -d'"' -f4)
echo "data-service resident: $(rss) MiB after start ($(du -h "$data" | cut -f1) dataset, $file)"
for n in 1 2 3 4 5; do
  job=$(curl -fsS -H "$AUTH" -H 'Content-Type: application/json' "$GATEWAY/v1/fine_tuning/jobs" \
    -d "{\"model\": \"tiny-llama\", \"training_file\": \"$file\", \"dataset\": {\"over_length\": \"fail\"}}" \
    | grep -o '"id":"ftjob-[^"]*"' | cut -d'"' -f4)
  start=$(date +%s.%N)
  for _ in $(seq 1 300); do
    view=$(curl -fsS -H "$AUTH" "$GATEWAY/v1/fine_tuning/jobs/$job")
    grep -q '"status":"failed"' <<<"$view" && break
    sleep 0.2
  done
  grep -q '"status":"failed"' <<<"$view" || { echo "job $job did not fail: $view" >&2; exit 1; }
  reason=$(grep -o '"message":"[^"]*max_seq_length[^"]*"' <<<"$view" | head -1 | cut -c1-160)
  printf 'job %d refused in %.1f s (%s): data-service resident %d MiB\n' \
    "$n" "$(echo "$(date +%s.%N) - $start" | bc)" "$reason" "$(rss)"
done
