#!/usr/bin/env bash
# Real peft against TuneForge's reward models with virtual tokens (PEFT sequence-classification
# adapters), both ways; writes the fixtures of PeftRewardInteropTest:
#   llm-core/src/test/resources/reference/peft-reward-interop/
#     tuneforge-rm-<method>/  a reward model trained by ./tuneforge train (trainer reward_model,
#                             method prompt or prefix) on peft-interop/base, and expected.json:
#                             the rewards peft computes after PeftModel.from_pretrained of it
#     peft-rm-<method>/       an adapter written by peft's save_pretrained, and peft's rewards
# Python: $PEFT_PYTHON, else the venv peft_interop.sh builds offline (see there).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${PEFT_PYTHON:-}" ]]; then
  PEFT_PYTHON="${PEFT_VENV:-/tmp/peft-interop-venv}/bin/python"
  "$PEFT_PYTHON" -c "import peft" 2>/dev/null \
    || { echo "no peft: set PEFT_PYTHON or run tools/reference/peft_interop.sh once" >&2; exit 2; }
fi
BASE=llm-core/src/test/resources/reference/peft-interop/base
OUT=llm-core/src/test/resources/reference/peft-reward-interop
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

"$PEFT_PYTHON" - "$WORK/pairs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(64):
        w = chr(65 + i % 7) + chr(65 + i % 5) + chr(65 + i % 3)
        f.write(json.dumps({"prompt": w + "=", "chosen": w[::-1], "rejected": w}) + "\n")
PY

train() { # name, the spec's method keys
  local name="$1" keys="$2"
  cat > "$WORK/$name.json" <<JSON
{"model": "$BASE", "train_file": "$WORK/pairs.jsonl", "output_dir": "$WORK/out-$name",
 "trainer": "reward_model", "max_steps": 15, "per_device_train_batch_size": 8,
 "logging_steps": 5, "learning_rate": 3e-2, "seed": 3, $keys}
JSON
  ./tuneforge train --config "$WORK/$name.json" > /dev/null
  cp -r "$WORK/out-$name/final" "$OUT/tuneforge-$name"
}

train rm-prompt '"method": "prompt", "prompt_learning": {"num_virtual_tokens": 5}'
train rm-prefix '"method": "prefix", "prompt_learning": {"num_virtual_tokens": 4}'

export PEFT_INTEROP_BASE="$BASE"
"$PEFT_PYTHON" tools/reference/peft_reward_interop.py peft-reads "$OUT"/tuneforge-*
"$PEFT_PYTHON" tools/reference/peft_reward_interop.py peft-writes "$OUT"
rm -f "$OUT"/*/README.md "$OUT"/tuneforge-*/tokenizer* "$OUT"/tuneforge-*/special_tokens_map.json
du -sh "$OUT"
