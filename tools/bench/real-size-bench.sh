#!/usr/bin/env bash
# Training at real model sizes: random BF16 checkpoints in the public shapes of TinyLlama-1.1B,
# Qwen2.5-0.5B (vocabulary 151,936, tied embeddings, qkv bias) and Llama-2-7B, written tensor by
# tensor, then full, LoRA (float32 or float16 frozen base) and QLoRA (NF4, float32 compute), with
# and without gradient checkpointing. Each row prints load time, load peak RSS, step peak RSS and
# tokens/s; PyTorch eager (Debian's, OpenBLAS SkylakeX) runs the same shapes for full and LoRA.
# A row whose estimated need exceeds the memory left prints as "does not fit", never silently.
#
#   bash tools/bench/real-size-bench.sh                 (all shapes; the 7B rows take ~15 minutes)
#   SHAPES="tinyllama-1.1b" METHODS="lora-float32 qlora" REFERENCES="lora-float32" CHECKPOINTING=off \
#     DOUBLE_QUANT_ROW=0 bash tools/bench/real-size-bench.sh          (a subset)
#   (PyTorch rows need: apt-get install python3-torch libopenblas0-pthread)
set -uo pipefail
cd "$(dirname "$0")/../.."
MODELS="${MODELS:-$HOME/.cache/tuneforge-bench}"
SHAPES="${SHAPES:-tinyllama-1.1b qwen2.5-0.5b llama-2-7b}"
THREADS="${THREADS:-2}"
PYTHON_REF="${PYTHON_REF:-1}"
# Subsets, for a quicker run: which rows, and gradient checkpointing off, on or both.
METHODS="${METHODS:-full lora-float32 lora-float16 qlora}"
REFERENCES="${REFERENCES:-full-float32 lora-float32 lora-bfloat16}"
CHECKPOINTING="${CHECKPOINTING:-off on}"
DOUBLE_QUANT_ROW="${DOUBLE_QUANT_ROW:-1}"
# memory a row may use: what the machine has available now, less a margin for the OS
AVAILABLE_MIB=$(awk '/MemAvailable/ {print int($2 / 1024) - 1536}' /proc/meminfo)

declare -A PARAMS=([tinyllama-1.1b]=1100 [qwen2.5-0.5b]=494 [llama-2-7b]=6738)
declare -A TOP=([tinyllama-1.1b]=131 [qwen2.5-0.5b]=136 [llama-2-7b]=262)   # embeddings + head, M values
declare -A SHAPE_BATCH=([tinyllama-1.1b]="1 256" [qwen2.5-0.5b]="2 512" [llama-2-7b]="1 256")
declare -A SHAPE_STEPS=([tinyllama-1.1b]=3 [qwen2.5-0.5b]=3 [llama-2-7b]=1)

# Estimated resident MiB of a method's weights and optimizer state (activations come on top).
need_mib() {
  local shape=$1 method=$2 p=${PARAMS[$1]} top=${TOP[$1]}
  case $method in
    full) echo $(( p * 16 )) ;;                                     # float32 weights, grads, AdamW
    lora-float32) echo $(( p * 4 )) ;;
    lora-float16 | lora-bfloat16) echo $(( (p - top) * 2 + top * 4 )) ;;
    qlora*) echo $(( (p - top) * 9 / 16 + top * 4 )) ;;             # NF4 + scales, top in float32
  esac
}

row() {  # shape method extra-args...
  local shape=$1 method=$2; shift 2
  local need; need=$(need_mib "$shape" "$method")
  local gc=false; [[ " $* " == *" --gradient-checkpointing "* ]] && gc=true
  if (( need > AVAILABLE_MIB )); then
    echo "{\"shape\": \"$shape\", \"method\": \"$method\", \"gradient_checkpointing\": $gc, \"result\": \"does not fit: needs about $need MiB before activations, $AVAILABLE_MIB MiB available\"}"
    return
  fi
  local args=(--model "$MODELS/$shape" --batch "${SHAPE_BATCH[$shape]% *}" --seq-len "${SHAPE_BATCH[$shape]#* }" --steps "${SHAPE_STEPS[$shape]}")
  case $method in
    full) args+=(--method full) ;;
    lora-float32) args+=(--method lora --base-dtype float32) ;;
    lora-float16) args+=(--method lora --base-dtype float16) ;;
    qlora) args+=(--method qlora --compute-dtype float32) ;;
    qlora-dq) args+=(--method qlora --compute-dtype float32 --double-quant) ;;
  esac
  local out
  if out=$(TUNEFORGE_THREADS=$THREADS ./tuneforge model train-bench "${args[@]}" "$@" 2>&1); then
    echo "{\"shape\": \"$shape\", ${out#\{}"
  else
    echo "{\"shape\": \"$shape\", \"method\": \"$method\", \"gradient_checkpointing\": $gc, \"result\": \"failed: $(echo "$out" | tail -1 | tr '"' "'")\"}"
  fi
}

reference_row() {  # shape method base-dtype extra-args...
  local shape=$1 method=$2 dtype=$3; shift 3
  local key=$method; [[ $method == lora ]] && key=lora-$dtype
  local need; need=$(need_mib "$shape" "$key")
  local gc=false; [[ " $* " == *" --gradient-checkpointing "* ]] && gc=true
  if (( need > AVAILABLE_MIB )); then
    echo "{\"shape\": \"$shape\", \"engine\": \"pytorch\", \"method\": \"$method\", \"variant\": \"base $dtype\", \"gradient_checkpointing\": $gc, \"result\": \"does not fit: needs about $need MiB before activations\"}"
    return
  fi
  local out
  if out=$(THREADS=$THREADS OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/reference/real_size_bench.py \
      "$MODELS/$shape" "$method" "$dtype" ${SHAPE_BATCH[$shape]} "${SHAPE_STEPS[$shape]}" "$@" 2>&1); then
    echo "{\"shape\": \"$shape\", ${out#\{}"
  else
    echo "{\"shape\": \"$shape\", \"engine\": \"pytorch\", \"method\": \"$method\", \"result\": \"failed: $(echo "$out" | tail -1 | tr '"' "'")\"}"
  fi
}

serve_row() {  # generation from the base plus the adapter the QLoRA row saved: peak RSS vs stored size
  local shape=$1 adapter="$MODELS/$1-adapter"
  [[ -f "$adapter/adapter_config.json" ]] || return 0
  local stored; stored=$(du -smL "$MODELS/$shape" | cut -f1)
  local log; log=$(mktemp)
  if /usr/bin/time -f "%M %e" -o "$log" env TUNEFORGE_THREADS=$THREADS ./tuneforge model generate \
      --model "$MODELS/$shape" --adapter "$adapter" --prompt "Hello" --max-new-tokens 8 >/dev/null 2>&1; then
    read -r kb seconds < "$log"
    echo "{\"shape\": \"$shape\", \"engine\": \"tuneforge\", \"method\": \"generate with adapter\", \"stored_mib\": $stored, \"peak_rss_mib\": $(( kb / 1024 )), \"ratio\": $(awk -v a=$kb -v b=$stored 'BEGIN {printf "%.2f", a / 1024 / b}'), \"seconds\": $seconds}"
  else
    echo "{\"shape\": \"$shape\", \"method\": \"generate with adapter\", \"result\": \"failed\"}"
  fi
  rm -f "$log"
}

have_torch=false
if [[ $PYTHON_REF == 1 && -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  have_torch=true
else
  echo "PyTorch reference rows skipped: /usr/bin/python3 has no torch (apt-get install python3-torch libopenblas0-pthread)" >&2
fi

for shape in $SHAPES; do
  if [[ ! -f "$MODELS/$shape/config.json" ]]; then
    mkdir -p "$MODELS"
    ./tuneforge model init-random --shape "$shape" --out "$MODELS/$shape" >&2
  fi
  for gc in $CHECKPOINTING; do
    flag=""; [[ $gc == on ]] && flag="--gradient-checkpointing"
    for method in $METHODS; do
      row "$shape" "$method" $flag
    done
    if $have_torch; then
      for reference in $REFERENCES; do
        reference_row "$shape" "${reference%-*}" "${reference#*-}" $flag
      done
    fi
  done
  if [[ $DOUBLE_QUANT_ROW == 1 ]]; then
    row "$shape" qlora-dq --gradient-checkpointing --save-adapter "$MODELS/$shape-adapter"
    serve_row "$shape"
  fi
done
