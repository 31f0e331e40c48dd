package dev.tuneforge.llm.engine;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * Which half-precision types a frozen base may use here, and the one reason bfloat16 is refused.
 *
 * <p>bfloat16 is how models ship and how GPUs train, but DJL 0.36's PyTorch JNI cannot name it:
 * {@code GetScalarTypeFromDType} (djl_pytorch_utils.h) maps DJL's dtype ordinals 0-8 and runs a
 * bare {@code throw;} for ordinal 11, BFLOAT16, which ends the process in {@code std::terminate}.
 * Every call that passes a dtype to libtorch takes that path: creating an array ({@code create},
 * {@code zeros}, {@code ones}, {@code full}, {@code arange}, {@code randomNormal}, ...), {@code
 * toType}, and decoding a BF16 safetensors file through DJL's {@code NDList.decode}. Reading the
 * type of a bfloat16 tensor made inside libtorch answers UNKNOWN instead ({@code
 * GetDTypeFromScalarType}). So TuneForge widens BF16 checkpoints in Java and keeps half-precision
 * frozen weights in float16, which holds every BF16 value of magnitude 6.1e-5 to 65504 exactly; a
 * JNI built with the bfloat16 mapping (the GPU kit's) lifts the limit.
 */
public final class HalfPrecision {
  private HalfPrecision() {}

  /**
   * Whether the JNI DJL loaded maps bfloat16: the GPU kit's ({@code tools/gpu}, djl-jni-bf16.patch)
   * does, and whoever loads it says so with {@code TUNEFORGE_JNI_BF16=true} (or {@code
   * -Dtuneforge.jni.bf16=true}). It cannot be probed: DJL's own JNI aborts the process on the first
   * bfloat16 tensor, so nothing bfloat16 is created unless this is set.
   */
  public static boolean bfloat16Mapped() {
    return Boolean.parseBoolean(System.getenv("TUNEFORGE_JNI_BF16"))
        || Boolean.getBoolean("tuneforge.jni.bf16");
  }

  /** The refusal for a bfloat16 request, naming the setting that asked for it. */
  public static IllegalArgumentException bfloat16Refused(String setting) {
    return bfloat16Refused(setting, "bfloat16");
  }

  /** The refusal for a bfloat16 request, naming the setting and the value it was given. */
  public static IllegalArgumentException bfloat16Refused(String setting, String value) {
    return new IllegalArgumentException(
        setting
            + " \""
            + value
            + "\" (bfloat16) is not supported: DJL 0.36's PyTorch JNI maps no bfloat16 dtype and"
            + " aborts the process when one is created or converted to (GetScalarTypeFromDType);"
            + " use float16, which keeps the same memory, or float32, or load the GPU kit's JNI"
            + " (tools/gpu), which maps it, and set TUNEFORGE_JNI_BF16=true");
  }

  /**
   * The dtype of frozen-weight matmuls for {@code name} ({@code bnb_4bit_compute_dtype}): float32,
   * float16, or auto: float16 on a GPU, float32 on a CPU, where libtorch's float16 path costs more
   * than it saves even with AVX512-FP16 (QLoRA at 1.1B, 1x256: 21 against 27 tokens/s in one {@code
   * tools/bench/real-size-bench.sh} run).
   */
  public static DataType computeType(String setting, String name, String device) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "float32", "fp32" -> DataType.FLOAT32;
      case "float16", "fp16", "half" -> DataType.FLOAT16;
      case "auto" ->
          device.startsWith("cuda") || device.startsWith("gpu")
              ? DataType.FLOAT16
              : DataType.FLOAT32;
      case "bfloat16", "bf16" -> {
        if (!bfloat16Mapped()) {
          throw bfloat16Refused(setting, name);
        }
        yield DataType.BFLOAT16;
      }
      default ->
          throw new IllegalArgumentException(
              setting + " must be float32, float16 or auto but was \"" + name + "\"");
    };
  }

  /** The dtype a frozen base is kept in ({@code torch_dtype}): float32 or float16. */
  public static DataType storageType(String setting, String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "float32", "fp32" -> DataType.FLOAT32;
      case "float16", "fp16", "half" -> DataType.FLOAT16;
      case "bfloat16", "bf16" -> {
        if (!bfloat16Mapped()) {
          throw bfloat16Refused(setting, name);
        }
        yield DataType.BFLOAT16;
      }
      default ->
          throw new IllegalArgumentException(
              setting + " must be float32 or float16 but was \"" + name + "\"");
    };
  }
}
