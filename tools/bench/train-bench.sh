#!/usr/bin/env bash
# Training throughput, TuneForge (DJL/libtorch 2.7.1) against PyTorch eager (Debian's 1.13 with
# OpenBLAS, OPENBLAS_CORETYPE=SkylakeX) on the same ~23M-parameter Llama, batch 8 x 128, 2 threads.
#   bash tools/bench/train-bench.sh            (needs: apt-get install python3-torch libopenblas0-pthread)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${MODEL:-$(mktemp -d)/bench-23m}"
THREADS="${THREADS:-2}"
[[ -f "$MODEL/config.json" ]] || ./tuneforge model init-tiny --out "$MODEL" --seed 1 \
  --hidden-size 512 --layers 8 --heads 8 --kv-heads 4 --intermediate-size 1376
for method in full lora qlora; do
  TUNEFORGE_THREADS=$THREADS ./tuneforge model train-bench --model "$MODEL" --method $method
done
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  for method in full lora; do
    THREADS=$THREADS OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/reference/train_bench.py "$MODEL" $method 8 128 6
  done
else
  echo "PyTorch reference skipped: /usr/bin/python3 has no torch (apt-get install python3-torch)" >&2
fi
