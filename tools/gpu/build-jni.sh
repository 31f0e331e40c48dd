#!/usr/bin/env bash
# Builds DJL's PyTorch JNI (libdjl_torch.so) from the kit's patched sources against a libtorch,
# with CMake, and puts it where DJL looks for it offline: next to libtorch.so in the directory
# PYTORCH_LIBRARY_PATH names. No JDK is needed: the kit carries the JNI header and jni.h.
#
#   build-jni.sh TORCH_CMAKE_PREFIX LIBTORCH_DIR BUILD_DIR [cuda]
#     TORCH_CMAKE_PREFIX  where TorchConfig.cmake is found (torch.utils.cmake_prefix_path)
#     LIBTORCH_DIR        the directory DJL will load libtorch from (gets libdjl_torch.so)
#     BUILD_DIR           CMake's build tree
#     cuda                build with USE_CUDA (the device); omit for a CPU libtorch
set -euo pipefail
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/gpu-kit"
PREFIX="$1"
LIBDIR="$2"
BUILD="$3"
CUDA="${4:-}"
SRC="$KIT/jni-src/engines/pytorch/pytorch-native"
test -f "$SRC/build/include/ai_djl_pytorch_jni_PyTorchLibrary.h" || {
  echo "build-jni: no kit in $KIT (run tools/gpu/prepare.sh where there is a JDK)" >&2
  exit 1
}
VERSION="$(sed -n 's/.*PACKAGE_VERSION "\([0-9.]*\)".*/\1/p' "$(find "$PREFIX" -name TorchConfigVersion.cmake | head -1)")"
PT_VERSION=""
case "$VERSION" in 1.13.*|2.0.*|2.1.*) PT_VERSION=V1_13_X ;; esac
echo "build-jni: libtorch $VERSION from $PREFIX${CUDA:+ (CUDA)}" >&2
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$SRC" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DJAVA_INCLUDE_PATH="$KIT/jni-src/jdk-include" \
  -DJAVA_INCLUDE_PATH2="$KIT/jni-src/jdk-include/linux" \
  -DJAVA_JVM_LIBRARY="${JAVA_JVM_LIBRARY:-$KIT/jre/lib/server/libjvm.so}" \
  ${PT_VERSION:+-DPT_VERSION=$PT_VERSION} ${CUDA:+-DUSE_CUDA=1} >"$BUILD.cmake.log" 2>&1 \
  || { tail -40 "$BUILD.cmake.log" >&2; exit 1; }
cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" >"$BUILD.build.log" 2>&1 \
  || { grep -m 20 -B2 -A6 "error" "$BUILD.build.log" >&2; exit 1; }
cp "$BUILD/libdjl_torch.so" "$LIBDIR/libdjl_torch.so"
echo "$VERSION"
