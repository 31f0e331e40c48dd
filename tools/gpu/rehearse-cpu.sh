#!/usr/bin/env bash
# The device run rehearsed on this CPU machine, as far as a CPU allows: the same kit, the JNI built
# by build-jni.sh against Debian's libtorch (libtorch-dev, 1.13.1: the only libtorch with headers
# a Debian machine can install; the device builds against its own 2.11), DJL pointed at it offline
# the way device.sh points it, then gpu-check --device cpu with the bfloat16 checks and one
# train-bench row on a tiny model. The device script and the anchor are syntax-checked (neither
# transformers nor peft can be installed here).
#
#   apt-get install libtorch-dev && bash tools/gpu/rehearse-cpu.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIT="$ROOT/target/gpu-kit"
OUT="${OUT:-$ROOT/target/gpu-rehearsal}"
SYSTEM=/usr/lib/x86_64-linux-gnu
if [[ ! -f "$SYSTEM/cmake/Torch/TorchConfig.cmake" ]]; then
  echo "rehearse: no libtorch with headers here; apt-get install libtorch-dev" >&2
  exit 1
fi
[[ -x "$KIT/jre/bin/java" ]] || bash "$ROOT/tools/gpu/prepare.sh"
rm -rf "$OUT"
mkdir -p "$OUT/libtorch"
# DJL loads every library in PYTORCH_LIBRARY_PATH: only libtorch's own, not all of /usr/lib
for lib in libc10.so libtorch_cpu.so libtorch.so; do
  ln -s "$SYSTEM/$lib" "$OUT/libtorch/$lib"
done
VERSION="$(bash "$ROOT/tools/gpu/build-jni.sh" "$SYSTEM/cmake" "$OUT/libtorch" "$OUT/jni-build")"
export PYTORCH_LIBRARY_PATH="$OUT/libtorch" PYTORCH_VERSION="$VERSION" PYTORCH_FLAVOR=cpu
export TUNEFORGE_JNI_BF16=true   # the kit's JNI maps bfloat16
JAVA=("$KIT/jre/bin/java" -Xmx2g -XX:+UseSerialGC -Dai.djl.offline=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KIT/lib/*" dev.tuneforge.llm.cli.ModelCommand)
status=0
(cd "$ROOT" && "${JAVA[@]}" gpu-check --out "$OUT" --device cpu --bf16) || status=1
"${JAVA[@]}" init-tiny --out "$OUT/tiny" >/dev/null
for row in "qlora" "lora --base-dtype bfloat16" "qlora --compute-dtype bfloat16"; do
  # shellcheck disable=SC2086
  "${JAVA[@]}" train-bench --model "$OUT/tiny" --device cpu --method $row --batch 2 --seq-len 32 \
    --steps 2 | tee -a "$OUT/train-bench.jsonl" || status=1
done
bash -n "$ROOT/tools/gpu/device.sh" || status=1
python3 -m py_compile "$ROOT/tools/gpu/anchor.py" || status=1
echo "rehearse: libtorch $VERSION; $([[ $status == 0 ]] && echo passed || echo FAILED); $OUT/gpu-check.json"
exit $status
