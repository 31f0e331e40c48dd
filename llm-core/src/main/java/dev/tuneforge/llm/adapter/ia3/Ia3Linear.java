package dev.tuneforge.llm.adapter.ia3;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.DenseLinear;
import dev.tuneforge.llm.model.Linear;

/**
 * IA3 (Liu et al., 2022): a frozen projection whose activations are scaled by a learned vector. A
 * feed-forward module scales its input, {@code y = base(x * l)} with {@code l} (1, in); any other
 * its output, {@code y = base(x) * l} with {@code l} (out, 1), as PEFT stores them. {@code l}
 * starts at ones, so the layer starts as its base. Merged, {@code l} is folded into the dense
 * weight (columns for feed-forward, rows and the bias otherwise).
 */
final class Ia3Linear implements Linear {
  private final Linear base;
  private final NDArray scale;
  private final boolean feedforward;
  private boolean enabled = true;
  private boolean merged;

  Ia3Linear(Linear base, NDArray scale, boolean feedforward) {
    this.base = base;
    this.scale = scale;
    this.feedforward = feedforward;
  }

  @Override
  public NDArray forward(NDArray x) {
    if (!enabled || merged) {
      return base.forward(x);
    }
    // The flat view belongs to this call's scope: one made on the vector's own (the model's)
    // manager would outlive the step, a few arrays every step (NativeMemoryTest).
    NDArray flat = scale.reshape(-1);
    flat.attach(x.getManager());
    if (feedforward) {
      return base.forward(x.mul(flat));
    }
    return base.forward(x).mul(flat);
  }

  @Override
  public boolean frozenBase() {
    return base.frozenBase();
  }

  NDArray scale() {
    return scale;
  }

  boolean feedforward() {
    return feedforward;
  }

  void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /** Throws, writing nothing, if the base cannot take the scaling. */
  void checkMergeable() {
    if (!merged && !(base instanceof DenseLinear)) {
      throw new IllegalStateException(
          "cannot merge IA3 into a "
              + base.getClass().getSimpleName()
              + " base; merge onto the float weights");
    }
  }

  /** {@code W *= l} (by column for feed-forward, by row and bias otherwise). */
  void merge() {
    if (merged) {
      return;
    }
    checkMergeable();
    DenseLinear dense = (DenseLinear) base;
    Autograd.withGrad(
        false,
        () -> {
          dense.weight().muli(scale); // (out, in) by (1, in) or (out, 1)
          if (!feedforward && dense.bias() != null) {
            try (NDArray flat = scale.reshape(-1)) {
              dense.bias().muli(flat);
            }
          }
          return null;
        });
    merged = true;
  }
}
