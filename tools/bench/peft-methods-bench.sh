#!/usr/bin/env bash
# The PEFT methods at a real size: a random BF16 checkpoint in TinyLlama-1.1B's public shape
# (hidden 2048, 22 layers, 32/4 heads, vocabulary 32000), then one training run per method at
# batch 1 x 256 (LoRA r=16 on all linear projections, IA3 with PEFT's Llama defaults, prompt and
# prefix tuning with 20 virtual tokens, AdaLoRA init_r 12 / target_r 8 on q_proj and v_proj), each
# in its own JVM so the peak RSS is that method's. Each prints trainable parameters, load peak RSS,
# step peak RSS and tokens/s (median of the timed steps).
#
#   bash tools/bench/peft-methods-bench.sh            (about 6 minutes on 2 cores)
#   METHODS="ia3 prompt" SHAPE=qwen2.5-0.5b bash tools/bench/peft-methods-bench.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
MODELS="${MODELS:-$HOME/.cache/tuneforge-bench}"
SHAPE="${SHAPE:-tinyllama-1.1b}"
METHODS="${METHODS:-lora ia3 prompt prefix adalora}"
THREADS="${THREADS:-2}"
BATCH="${BATCH:-1}"
SEQ_LEN="${SEQ_LEN:-256}"
STEPS="${STEPS:-3}"

if [[ ! -f "$MODELS/$SHAPE/config.json" ]]; then
  mkdir -p "$MODELS"
  ./tuneforge model init-random --shape "$SHAPE" --out "$MODELS/$SHAPE" >&2
fi
for method in $METHODS; do
  TUNEFORGE_THREADS=$THREADS ./tuneforge model train-bench --model "$MODELS/$SHAPE" \
    --method "$method" --batch "$BATCH" --seq-len "$SEQ_LEN" --steps "$STEPS" 2>&1 | tail -1
done
