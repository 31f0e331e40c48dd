package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.tuneforge.llm.engine.Tape;

/** What the frozen projections (NF4, float16) share: their forward and float16 gradients. */
public final class FrozenProjections {
  private FrozenProjections() {}

  /**
   * {@code projection(x)} through the thread's tape, plus {@code bias} in the graph when it trains
   * (LoRA bias "all" or "lora_only"); a frozen bias is added inside the projection instead.
   */
  public static NDArray forward(Tape.FrozenProjection projection, NDArray x, NDArray bias) {
    NDArray y = Tape.frozen(projection, x);
    return trains(bias) ? y.add(bias) : y;
  }

  /** The bias the projection adds itself: {@code frozenBias} unless {@code bias} trains. */
  public static NDArray frozenBias(NDArray bias, NDArray frozenBias) {
    return trains(bias) ? null : frozenBias;
  }

  private static boolean trains(NDArray bias) {
    return bias != null && bias.hasGradient();
  }

  /**
   * {@code gradient / max|gradient|} in float16, and that scale (float32 scalar), both in {@code
   * local}: float16 would flush gradients below 6e-8 to zero, the scaled ones lie in [-1, 1].
   */
  public static NDArray[] scaledToHalf(NDArray gradient, NDManager local) {
    return scaledToHalf(gradient, local, DataType.FLOAT16);
  }

  /** As {@link #scaledToHalf(NDArray, NDManager)}, in {@code half} (float16 or bfloat16). */
  public static NDArray[] scaledToHalf(NDArray gradient, NDManager local, DataType half) {
    NDArray scale = gradient.abs().max().add(1e-30f);
    scale.attach(local);
    NDArray scaled = gradient.div(scale).toType(half, false);
    scaled.attach(local);
    return new NDArray[] {scaled, scale};
  }
}
