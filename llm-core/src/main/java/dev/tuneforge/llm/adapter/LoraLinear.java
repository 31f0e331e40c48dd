package dev.tuneforge.llm.adapter;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.DenseLinear;
import dev.tuneforge.llm.model.Linear;
import dev.tuneforge.llm.model.WeightedLinear;

/**
 * LoRA (Hu et al., 2021): a frozen base projection plus a low-rank update, {@code y = base(x) +
 * scale * B(A(dropout(x)))} with {@code A} (rank, in) Kaiming-uniform and {@code B} (out, rank)
 * zero, so before training the layer equals its base. Disabled, it is its base; merged, the update
 * is folded into a dense base weight ({@code W += scale * B A}) and the extra path is skipped.
 *
 * <p>With a magnitude vector it is DoRA (Liu et al., 2024): {@code y = base(x) + (m/n - 1) x W^T +
 * (m/n) * scale * B(A(x))}, where {@code n = ||W + scale B A||} per output row is treated as a
 * constant (no gradient), as the paper and PEFT do; {@code m} starts at {@code ||W||} so step 0
 * equals the base.
 */
public final class LoraLinear implements Linear {
  private final Linear base;
  private final NDArray a;
  private final NDArray b;
  private final NDArray scale;
  private final float dropout;
  private final NDArray magnitude; // (out), DoRA only, else null
  private NDArray loraBias; // (out), lora_bias only, else null
  private boolean enabled = true;
  private boolean merged;
  private boolean training;
  private NDArray doraFactor; // (out, 1) while a DoRA layer is merged

  /**
   * @param scale a scalar tensor holding alpha/r (a tensor so autograd never keeps a freed Java
   *     number alive)
   */
  public LoraLinear(Linear base, NDArray a, NDArray b, NDArray scale, float dropout) {
    this(base, a, b, scale, dropout, null);
  }

  /** A DoRA layer when {@code magnitude} (out) is given. */
  public LoraLinear(
      Linear base, NDArray a, NDArray b, NDArray scale, float dropout, NDArray magnitude) {
    if (magnitude != null && !(base instanceof WeightedLinear)) {
      throw new IllegalArgumentException("DoRA needs a base whose weight can be read");
    }
    this.base = base;
    this.a = a;
    this.b = b;
    this.scale = scale;
    this.dropout = dropout;
    this.magnitude = magnitude;
  }

  /** PEFT's lora_bias: B's bias (out), trained with the adapter, or null. */
  public void setLoraBias(NDArray bias) {
    if (bias != null && magnitude != null) {
      throw new IllegalArgumentException("lora_bias is not supported with DoRA");
    }
    this.loraBias = bias;
  }

  public NDArray loraBias() {
    return loraBias;
  }

  /** The DoRA magnitude vector, or null for plain LoRA. */
  public NDArray magnitude() {
    return magnitude;
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray y = base.forward(x);
    if (!enabled || merged) {
      return y;
    }
    NDArray h =
        training && dropout > 0
            ? x.getNDArrayInternal().dropout(x, dropout, true).singletonOrThrow()
            : x;
    NDArray down = h.getNDArrayInternal().linear(h, a, null).singletonOrThrow(); // (..., rank)
    NDArray up =
        down.getNDArrayInternal().linear(down, b, loraBias).singletonOrThrow(); // (..., out)
    if (magnitude == null) {
      return y.add(up.mul(scale));
    }
    NDArray weight = ((WeightedLinear) base).weight(x.getManager()); // (out, in)
    ai.djl.ndarray.NDManager scope = x.getManager();
    NDArray inverseNorm =
        Autograd.withGrad(
            false,
            () ->
                scope
                    .ones(magnitude.getShape(), magnitude.getDataType())
                    .div(rowNorm(weight, scope)));
    NDArray ratio = inverseNorm.mul(magnitude); // (out) m/n, broadcast over (..., out)
    NDArray direct =
        h.getNDArrayInternal().linear(h, weight, null).singletonOrThrow(); // (..., out)
    return y.add(ratio.sub(1f).mul(direct)).add(ratio.mul(up.mul(scale)));
  }

  /** {@code ||W + scale * B A||} of each output row, outside the graph. */
  private NDArray rowNorm(NDArray weight, ai.djl.ndarray.NDManager scope) {
    NDArray delta = b.matMul(a); // (out, in); results attach to the first operand's manager
    delta.attach(scope);
    NDArray combined = delta.mul(scale).add(weight);
    return combined.mul(combined).sum(new int[] {1}).sqrt();
  }

  @Override
  public boolean frozenBase() {
    return base.frozenBase();
  }

  public NDArray loraA() {
    return a;
  }

  public NDArray loraB() {
    return b;
  }

  public Linear base() {
    return base;
  }

  /** Whether the update is applied (false: the layer is its base). */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean isEnabled() {
    return enabled;
  }

  /** Dropout is active only while training. */
  public void setTraining(boolean training) {
    this.training = training;
  }

  public boolean isMerged() {
    return merged;
  }

  /** Throws, writing nothing, if {@link #merge} would be refused for the base's type or bias. */
  public void checkMergeable() {
    if (merged) {
      return;
    }
    DenseLinear dense = denseBase("merge");
    if (loraBias != null) {
      mergedBias(dense, "merge");
    }
  }

  /** Folds {@code scale * B A} into the dense base weight. Refuses a non-finite update. */
  public void merge() {
    if (merged) {
      return;
    }
    DenseLinear dense = denseBase("merge");
    if (loraBias != null) {
      mergedBias(dense, "merge"); // refused before anything is written
    }
    Autograd.withGrad(
        false,
        () -> {
          try (NDArray delta = delta()) {
            dense.weight().addi(delta);
            if (loraBias != null) {
              mergedBias(dense, "merge").addi(loraBias.mul(scale));
            }
            if (magnitude != null) { // W' = m / ||W + dW|| * (W + dW), per output row
              NDArray norm = dense.weight().mul(dense.weight()).sum(new int[] {1}).sqrt();
              doraFactor = magnitude.div(norm).reshape(-1, 1);
              dense.weight().muli(doraFactor);
              norm.close();
            }
          }
          return null;
        });
    merged = true;
  }

  /** Takes the update back out of the base weight. */
  public void unmerge() {
    if (!merged) {
      return;
    }
    DenseLinear dense = denseBase("unmerge");
    Autograd.withGrad(
        false,
        () -> {
          if (doraFactor != null) {
            dense.weight().divi(doraFactor);
            doraFactor.close();
            doraFactor = null;
          }
          try (NDArray delta = delta()) {
            dense.weight().subi(delta);
          }
          if (loraBias != null) {
            mergedBias(dense, "unmerge").subi(loraBias.mul(scale));
          }
          return null;
        });
    merged = false;
  }

  /** {@code scale * B A} (out, in), checked to be finite. */
  private NDArray delta() {
    NDArray delta = b.matMul(a).mul(scale);
    if (delta.isNaN().any().getBoolean() || delta.isInfinite().any().getBoolean()) {
      delta.close();
      throw new IllegalStateException(
          "LoRA merge refused: the update B·A holds NaN or infinite values");
    }
    return delta;
  }

  /** The base bias lora_bias folds into (as PEFT does); a base without one cannot take it. */
  private static NDArray mergedBias(DenseLinear dense, String operation) {
    if (dense.bias() == null) {
      throw new IllegalStateException(
          "cannot "
              + operation
              + " lora_bias into a projection without a bias (PEFT cannot either)");
    }
    return dense.bias();
  }

  private DenseLinear denseBase(String operation) {
    if (!(base instanceof DenseLinear dense)) {
      throw new IllegalStateException(
          "cannot "
              + operation
              + " into a "
              + base.getClass().getSimpleName()
              + " base; dequantize the base first (export a merged model from the float weights)");
    }
    return dense;
  }
}
