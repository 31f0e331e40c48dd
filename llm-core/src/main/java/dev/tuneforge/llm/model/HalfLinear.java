package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.engine.Tape;

/**
 * A frozen projection kept in float16, half the memory of float32, as transformers keeps a frozen
 * base in its {@code torch_dtype}: the matmul runs in float16 (as fast as float32 on CPUs with
 * AVX512-FP16, and the only fast way on GPUs) with float32 activations in and out. It runs outside
 * the graph through the thread's {@link Tape}; the backward computes {@code g W} in float16 from
 * the gradient scaled to at most 1, so small gradients do not underflow.
 *
 * <p>bfloat16 would be the natural storage for a BF16 checkpoint, but DJL 0.36's PyTorch JNI has no
 * bfloat16 mapping and aborts the process on one (see {@link dev.tuneforge.llm.engine.Compute});
 * float16 holds every BF16 weight of magnitude 6.1e-5 to 65504 exactly, and loading refuses a
 * tensor with larger values by name.
 */
public final class HalfLinear implements WeightedLinear, Tape.FrozenProjection {
  private final NDArray weight; // (out, in) float16, or bfloat16 with a JNI that maps it
  private final NDArray bias; // (out) in the model's type, or null
  private final NDArray halfBias;
  private final DataType half;

  public HalfLinear(NDArray weight, NDArray bias) {
    half = weight.getDataType();
    if (half != DataType.FLOAT16 && half != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "HalfLinear holds a float16 or bfloat16 weight, not " + weight);
    }
    this.weight = weight;
    this.bias = bias;
    this.halfBias = bias == null ? null : bias.toType(half, false);
  }

  /**
   * Projections keeping every layer projection frozen in {@code half}: float16 ({@link
   * #projections()}) or bfloat16, which holds any BF16 checkpoint as stored (needs a JNI that maps
   * it, {@link dev.tuneforge.llm.engine.HalfPrecision#bfloat16Mapped}).
   */
  public static Projections projections(DataType half) {
    if (half == DataType.FLOAT16) {
      return projections();
    }
    if (half != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "a half-precision base is float16 or bfloat16, not " + half);
    }
    if (!dev.tuneforge.llm.engine.HalfPrecision.bfloat16Mapped()) {
      throw dev.tuneforge.llm.engine.HalfPrecision.bfloat16Refused("torch_dtype");
    }
    dev.tuneforge.llm.engine.NativeMemory.returnFreedTensorsToTheSystem();
    return (layer, module, stored, bias) -> new HalfLinear(stored.load(DataType.BFLOAT16), bias);
  }

  /**
   * Projections that keep every layer projection in float16 and frozen: the base of LoRA with
   * {@code base_dtype} float16. A tensor beyond float16's range fails the load by name.
   */
  public static Projections projections() {
    // a float16 base is chosen to save memory: freed tensors go back to the system too
    dev.tuneforge.llm.engine.NativeMemory.returnFreedTensorsToTheSystem();
    return (layer, module, stored, bias) -> {
      NDArray half = stored.load(DataType.FLOAT16);
      boolean overflow;
      try (NDArray infinite = half.isInfinite();
          NDArray any = infinite.any()) {
        overflow = any.getBoolean();
      }
      if (overflow) {
        half.close();
        throw new IllegalArgumentException(
            "tensor "
                + stored.name()
                + " has values beyond float16's range (65504); load the base in float32"
                + " (base_dtype float32)");
      }
      return new HalfLinear(half, bias);
    };
  }

  @Override
  public NDArray forward(NDArray x) {
    return FrozenProjections.forward(this, x, bias);
  }

  @Override
  public boolean frozenBase() {
    return true;
  }

  @Override
  public NDArray apply(NDArray x) {
    NDArray input = x.toType(half, false);
    NDArray frozenBias = FrozenProjections.frozenBias(bias, halfBias);
    NDArray y = input.getNDArrayInternal().linear(input, weight, frozenBias).singletonOrThrow();
    input.close();
    NDArray widened = y.toType(x.getDataType(), false);
    y.close();
    return widened;
  }

  @Override
  public NDArray inputGradient(NDArray gradOutput) {
    try (NDManager local = gradOutput.getManager().newSubManager()) {
      NDArray[] scaled = FrozenProjections.scaledToHalf(gradOutput, local, half);
      NDArray product = scaled[0].matMul(weight);
      product.attach(local);
      NDArray result = product.toType(gradOutput.getDataType(), false).mul(scaled[1]);
      result.attach(gradOutput.getManager());
      return result;
    }
  }

  /** The weight widened to float32 (for DoRA norms and merging). */
  @Override
  public NDArray weight(NDManager scope) {
    NDArray widened = weight.toType(DataType.FLOAT32, false);
    widened.attach(scope);
    return widened;
  }

  /** The float16 weight itself. */
  public NDArray halfWeight() {
    return weight;
  }
}
