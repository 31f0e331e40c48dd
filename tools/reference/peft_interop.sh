#!/usr/bin/env bash
# Real peft against TuneForge's adapter files, both ways; writes the fixtures of PeftInteropTest:
#   llm-core/src/test/resources/reference/peft-interop/
#     base/                  a tiny Llama (./tuneforge model init-tiny --seed 5)
#     tuneforge-<method>/    an adapter trained and saved by ./tuneforge train, and expected.json:
#                            the log-probs peft computes after PeftModel.from_pretrained of it
#     peft-<method>/         an adapter written by peft's save_pretrained, and peft's log-probs
# Python: $PEFT_PYTHON (torch >= 2, transformers, peft), else a venv built offline from the wheels
# under /opt/pypi and /opt/pypi-more (torch 2.14.1, transformers 5.17.0, peft 0.21.0).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ -z "${PEFT_PYTHON:-}" ]]; then
  VENV="${PEFT_VENV:-/tmp/peft-interop-venv}"
  if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import peft" 2>/dev/null; then
    [[ -d /opt/pypi/files ]] || { echo "no PEFT_PYTHON and no wheels under /opt/pypi" >&2; exit 2; }
    PYTHON311="$(ls /root/.pyenv/versions/3.11*/bin/python 2>/dev/null | head -1)"
    "${PYTHON311:-python3}" -m venv "$VENV"
    PIP=("$VENV/bin/pip" install -q --no-index --find-links /opt/pypi/files --find-links /opt/pypi-more/files --no-deps)
    # torch's CUDA wheels load their libraries at import even on a CPU, so they come along
    "${PIP[@]}" torch==2.14.1 nvidia-cudnn-cu13 nvidia-cusparselt-cu13 nvidia-nccl-cu13 \
      nvidia-nvshmem-cu13 nvidia-cublas nvidia-cuda-runtime nvidia-cufft nvidia-cufile \
      nvidia-cuda-cupti nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-nvjitlink \
      nvidia-cuda-nvrtc nvidia-nvtx cuda-toolkit
    "${PIP[@]}" filelock typing-extensions sympy mpmath networkx jinja2 MarkupSafe fsspec numpy \
      transformers==5.17.0 peft==0.21.0 safetensors huggingface_hub==1.33.0 tokenizers==0.23.2 \
      pyyaml regex tqdm packaging psutil accelerate hf_xet httpx httpcore h11 idna certifi anyio \
      sniffio typer click shellingham rich markdown-it-py mdurl pygments annotated-doc
  fi
  PEFT_PYTHON="$VENV/bin/python"
fi

OUT=llm-core/src/test/resources/reference/peft-interop
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
./tuneforge model init-tiny --out "$OUT/base" --seed 5

"$PEFT_PYTHON" - "$WORK/train.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(64):
        w = chr(65 + i % 7) + chr(65 + i % 5) + chr(65 + i % 3)
        f.write(json.dumps({"prompt": w + "=", "completion": w[::-1]}) + "\n")
EOF

train() { # name, learning rate, the spec's method keys
  local name="$1" lr="$2" keys="$3"
  cat > "$WORK/$name.json" <<EOF
{"model": "$OUT/base", "train_file": "$WORK/train.jsonl", "output_dir": "$WORK/out-$name",
 "max_steps": 15, "per_device_train_batch_size": 8, "logging_steps": 5, "learning_rate": $lr,
 "seed": 3, $keys}
EOF
  ./tuneforge train --config "$WORK/$name.json" > /dev/null
  cp -r "$WORK/out-$name/final" "$OUT/tuneforge-$name"
}

train lora 1e-2 '"method": "lora", "lora": {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0}'
train dora 1e-2 '"method": "lora", "lora": {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0,
 "target_modules": ["q_proj", "v_proj", "down_proj"], "use_dora": true}'
train lora-gaussian-bias 1e-2 '"method": "lora", "lora": {"r": 4, "lora_alpha": 16,
 "lora_dropout": 0.0, "target_modules": ["q_proj", "k_proj", "o_proj", "up_proj"],
 "init_lora_weights": "gaussian", "bias": "lora_only", "use_rslora": true}'
train ia3 3e-2 '"method": "ia3"'
train prompt 3e-2 '"method": "prompt", "prompt_learning": {"num_virtual_tokens": 5}'
train prefix 3e-2 '"method": "prefix", "prompt_learning": {"num_virtual_tokens": 4}'
train prefix-projection 1e-2 '"method": "prefix", "prompt_learning": {"num_virtual_tokens": 3,
 "prefix_projection": true, "encoder_hidden_size": 24}'
train adalora 1e-2 '"method": "adalora", "adalora": {"init_r": 6, "target_r": 4, "tinit": 2,
 "tfinal": 3}, "lora": {"lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]}'

export PEFT_INTEROP_BASE="$OUT/base"
"$PEFT_PYTHON" tools/reference/peft_interop.py peft-reads "$OUT"/tuneforge-*
"$PEFT_PYTHON" tools/reference/peft_interop.py peft-writes "$OUT"
rm -f "$OUT"/peft-*/README.md
# The independent reference's adapters (llama_reference.py) through peft too: same log-probs.
REF=llm-core/src/test/resources/reference
PEFT_INTEROP_BASE="$REF/gqa" "$PEFT_PYTHON" tools/reference/peft_interop.py peft-checks \
  "$REF"/gqa-*-adapter
du -sh "$OUT"
