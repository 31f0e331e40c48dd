#!/usr/bin/env bash
# The one script the device machine runs (GPU, CUDA, CMake, Python's torch with headers; no JDK,
# no network), from the repository root with the kit carried: `carry: ["target/gpu-kit"]`.
#   1. builds the kit's patched DJL JNI against the device's libtorch (Python's torch) with CUDA,
#      and puts it next to torch's own libraries, where DJL looks offline;
#   2. runs `model gpu-check` there (parity float32/float16, bfloat16 ops, generation);
#   3. runs train-bench rows (LoRA, QLoRA) on a random checkpoint in a public shape;
#   4. runs the transformers + peft anchor on the same shape, batch and steps;
# every result lands under $OUT (JSON lines and logs), so a run cut short keeps what it reached.
#
#   DRY_RUN=1 skips the GPU parts (what tools/gpu/rehearse-cpu.sh uses on a CPU machine).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIT="$ROOT/target/gpu-kit"
OUT="${OUT:-$ROOT/target/gpu-out}"
SHAPE="${SHAPE:-tinyllama-1.1b}"
BATCH="${BATCH:-4}"
SEQ_LEN="${SEQ_LEN:-512}"
STEPS="${STEPS:-3}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device.log") 2>&1
echo "device: $(date -u +%FT%TZ) on $(hostname)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
  | tee "$OUT/nvidia-smi.txt"

PY="${PYTHON:-python3}"
TORCH_DIR="$($PY -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
TORCH_PREFIX="$($PY -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
CUDA_VERSION="$($PY -c 'import torch; print((torch.version.cuda or "").replace(".", ""))')"
CXX11="$($PY -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
echo "device: torch at $TORCH_DIR (cuda $CUDA_VERSION, cxx11 abi $CXX11)"

# 1. the JNI, built for this libtorch, next to it
VERSION="$(bash "$ROOT/tools/gpu/build-jni.sh" "$TORCH_PREFIX" "$TORCH_DIR/lib" "$OUT/jni-build" cuda)" \
  || { echo "device: the JNI did not build; see $OUT/jni-build.*.log"; exit 1; }
export PYTORCH_LIBRARY_PATH="$TORCH_DIR/lib"
export PYTORCH_VERSION="$VERSION"
export PYTORCH_FLAVOR="cu${CUDA_VERSION}$([[ $CXX11 == 0 ]] && echo -precxx11)"
JAVA=("$KIT/jre/bin/java" -Xmx8g -XX:+UseSerialGC -Dai.djl.offline=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KIT/lib/*" dev.tuneforge.llm.cli.ModelCommand)
export TUNEFORGE_JNI_BF16=true   # the kit's JNI maps bfloat16 (djl-jni-bf16.patch)
echo "device: libtorch $VERSION, flavour $PYTORCH_FLAVOR"

# 2. the checks
"${JAVA[@]}" gpu-check --out "$OUT" --device cuda --bf16 || echo "device: gpu-check reported a failure"

# 3. training steps at a public shape, random weights written tensor by tensor
MODEL="$OUT/models/$SHAPE"
"${JAVA[@]}" init-random --shape "$SHAPE" --out "$MODEL" >>"$OUT/init.log" 2>&1 \
  || echo "device: init-random failed (see init.log)"
for row in "lora" "lora --base-dtype float16" "lora --base-dtype bfloat16" "qlora --compute-dtype float16" \
  "qlora --compute-dtype bfloat16" "qlora --compute-dtype bfloat16 --double-quant --gradient-checkpointing"; do
  # shellcheck disable=SC2086
  timeout 240 "${JAVA[@]}" train-bench --model "$MODEL" --device cuda --method $row \
    --batch "$BATCH" --seq-len "$SEQ_LEN" --steps "$STEPS" >>"$OUT/train-bench.jsonl" 2>>"$OUT/train-bench.err" \
    || echo "{\"method\": \"$row\", \"failed\": true}" >>"$OUT/train-bench.jsonl"
done

# 4. the anchor: transformers + peft on the same shape and batch
timeout 300 "$PY" "$ROOT/tools/gpu/anchor.py" --shape "$SHAPE" --batch "$BATCH" --seq-len "$SEQ_LEN" \
  --steps "$STEPS" >>"$OUT/anchor.jsonl" 2>>"$OUT/anchor.err" || echo "device: the anchor failed"
echo "device: done $(date -u +%FT%TZ)"
