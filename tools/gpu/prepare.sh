#!/usr/bin/env bash
# Builds the GPU kit in target/gpu-kit/ (ignored by git; carried to the device machine with the
# device tool's `carry`), on this machine, where there is a JDK, Maven and the DJL sources:
#   jre/       a jlink'd Java runtime (the device has no JDK)
#   lib/       llm-core's and llm-cli's jars and their dependencies, without pytorch-native-cpu
#              and pytorch-jni (the device's libtorch and a JNI built for it replace them) and
#              without the tokenizers' natives of other platforms
#   jni-src/   DJL's PyTorch JNI sources of the release the project uses (git archive of the DJL
#              repository at v$DJL_VERSION), patched (djl-jni-bf16.patch), with the JNI header
#              javac -h writes for PyTorchLibrary and the JDK's jni.h, so the device needs no JDK
# It fails when the kit and the working tree together pass the device's 64 MiB carry limit.
#
#   DJL_SRC=/path/to/djl/git/repo bash tools/gpu/prepare.sh [--jni-only]
# --jni-only makes jni-src/ alone (what the GPU image's build stage needs: it has a JDK).
set -euo pipefail
JNI_ONLY="${1:-}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIT="$ROOT/target/gpu-kit"
DJL_VERSION="${DJL_VERSION:-0.36.0}"
DJL_SRC="${DJL_SRC:-/work/.mirror/deepjavalibrary+djl/repo}"
LIMIT=$((64 * 1024 * 1024))

if [[ ! -d "$DJL_SRC" ]]; then
  echo "prepare: DJL_SRC=$DJL_SRC is not a clone of github.com/deepjavalibrary/djl" >&2
  exit 1
fi
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"

rm -rf "$KIT"
mkdir -p "$KIT/lib" "$KIT/jni-src"

if [[ "$JNI_ONLY" != "--jni-only" ]]; then
echo "prepare: building llm-cli and its classpath" >&2
(cd "$ROOT" && mvn -q -o -pl llm-cli -am package -DskipTests) \
  || (cd "$ROOT" && mvn -q -pl llm-cli -am package -DskipTests)

echo "prepare: the Java runtime (jlink)" >&2
"$JAVA_HOME/bin/jlink" \
  --add-modules java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$KIT/jre"

echo "prepare: the classpath" >&2
cp "$ROOT/llm-cli/target/llm-cli-"*.jar "$KIT/lib/"
{ tr ":" "\n" < "$ROOT/llm-cli/target/cli.classpath"; echo; } | while read -r jar; do
  [[ -n "$jar" ]] || continue
  case "$(basename "$jar")" in
    pytorch-native-cpu-*|pytorch-jni-*) ;;  # replaced by the device's libtorch and its own JNI
    tokenizers-*)
      cp "$jar" "$KIT/lib/"
      # only linux-x86_64's native library: the others are two thirds of the jar
      (cd "$KIT/lib" && zip -q -d "$(basename "$jar")" 'native/lib/osx-*' 'native/lib/win-*' \
        'native/lib/linux-aarch64/*' >/dev/null) ;;
    *) cp "$jar" "$KIT/lib/" ;;
  esac
done
fi

echo "prepare: DJL's PyTorch JNI sources at v$DJL_VERSION" >&2
git -C "$DJL_SRC" archive "v$DJL_VERSION" \
  engines/pytorch/pytorch-native/CMakeLists.txt \
  engines/pytorch/pytorch-native/src/main/native \
  engines/pytorch/pytorch-native/src/main/patch \
  api/src/main/native \
  | tar -x -C "$KIT/jni-src"
(cd "$KIT/jni-src" && patch -s -p1 < "$ROOT/tools/gpu/djl-jni-bf16.patch")
NATIVE="$KIT/jni-src/engines/pytorch/pytorch-native"
mkdir -p "$NATIVE/build/include" "$KIT/tmp-classes" "$KIT/tmp-engine"
git -C "$DJL_SRC" archive "v$DJL_VERSION" engines/pytorch/pytorch-engine/src/main/java \
  | tar -x -C "$KIT/tmp-engine"
API_JAR="${DJL_API_JAR:-$(tr ':' '\n' < "$ROOT/llm-cli/target/cli.classpath" | grep "/ai/djl/api/")}"
"$JAVA_HOME/bin/javac" -nowarn -proc:none -h "$NATIVE/build/include" -d "$KIT/tmp-classes" \
  -cp "$API_JAR" -sourcepath "$KIT/tmp-engine/engines/pytorch/pytorch-engine/src/main/java" \
  "$KIT/tmp-engine/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java" \
  2>/dev/null
rm -rf "$KIT/tmp-classes" "$KIT/tmp-engine"
test -f "$NATIVE/build/include/ai_djl_pytorch_jni_PyTorchLibrary.h"
mkdir -p "$KIT/jni-src/jdk-include/linux"
cp "$JAVA_HOME/include/jni.h" "$KIT/jni-src/jdk-include/"
cp "$JAVA_HOME/include/linux/jni_md.h" "$KIT/jni-src/jdk-include/linux/"
echo "$DJL_VERSION" > "$KIT/djl-version"
[[ "$JNI_ONLY" == "--jni-only" ]] && exit 0

kit=$(du -sb "$KIT" | cut -f1)
tree=$(cd "$ROOT" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
printf 'prepare: kit %.1f MiB (jre %.1f, lib %.1f, jni-src %.1f) + working tree %.1f MiB = %.1f of 64 MiB\n' \
  "$(echo "$kit / 1048576" | bc -l)" \
  "$(echo "$(du -sb "$KIT/jre" | cut -f1) / 1048576" | bc -l)" \
  "$(echo "$(du -sb "$KIT/lib" | cut -f1) / 1048576" | bc -l)" \
  "$(echo "$(du -sb "$KIT/jni-src" | cut -f1) / 1048576" | bc -l)" \
  "$(echo "$tree / 1048576" | bc -l)" "$(echo "($kit + $tree) / 1048576" | bc -l)"
if (( kit + tree > LIMIT )); then
  echo "prepare: over the device's carry limit" >&2
  exit 1
fi
