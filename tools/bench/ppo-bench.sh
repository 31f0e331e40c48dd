#!/usr/bin/env bash
# PPO throughput on a 23M-parameter Llama (the train-bench shape): rollout tokens/s and the time
# split of a step (generation, reward scoring, rollout forwards, optimisation), LoRA and full.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${MODEL:-$(mktemp -d)/bench-23m}"
THREADS="${THREADS:-2}"
[[ -f "$MODEL/config.json" ]] || ./tuneforge model init-tiny --out "$MODEL" --seed 1 \
  --hidden-size 512 --layers 8 --heads 8 --kv-heads 4 --intermediate-size 1376
for method in lora full; do
  TUNEFORGE_THREADS=$THREADS ./tuneforge model ppo-bench --model "$MODEL" --method $method "$@"
done
