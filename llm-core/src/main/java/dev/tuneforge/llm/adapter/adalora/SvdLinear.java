package dev.tuneforge.llm.adapter.adalora;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.DenseLinear;
import dev.tuneforge.llm.model.Linear;

/**
 * AdaLoRA's SVD-form projection (Zhang et al., 2023): {@code y = base(x) + dropout(x) (A * E)^T B^T
 * * scaling / (ranknum + 1e-5)}, with {@code A} (r, in), the singular values {@code E} (r, 1) and
 * {@code B} (out, r), as PEFT's SVDLinear computes it. {@code E} starts at zero, so the layer
 * starts as its base; a pruned rank is an {@code E} entry held at zero.
 */
final class SvdLinear implements Linear {
  private final Linear base;
  private final NDArray a;
  private final NDArray e;
  private final NDArray b;
  private final NDArray factor;
  private final float dropout;
  private boolean enabled = true;
  private boolean training;
  private boolean merged;

  /**
   * @param factor a model-owned scalar {@code scaling / (ranknum + 1e-5)}
   */
  SvdLinear(Linear base, NDArray a, NDArray e, NDArray b, NDArray factor, float dropout) {
    this.base = base;
    this.a = a;
    this.e = e;
    this.b = b;
    this.factor = factor;
    this.dropout = dropout;
  }

  @Override
  public NDArray forward(NDArray x) {
    NDArray y = base.forward(x);
    if (!enabled || merged || a.getShape().get(0) == 0) {
      return y;
    }
    NDArray in =
        training && dropout > 0
            ? x.getNDArrayInternal().dropout(x, dropout, true).singletonOrThrow()
            : x;
    // Views in the call's scope, so what is computed from them is freed with the call.
    NDArray scaled = view(a, x).mul(view(e, x)); // (r, in)
    NDArray low = in.matMul(scaled.transpose()); // (..., r)
    return y.add(low.matMul(view(b, x).transpose()).mul(view(factor, x)));
  }

  private static NDArray view(NDArray owned, NDArray scopeOf) {
    NDArray view = owned.reshape(owned.getShape());
    view.attach(scopeOf.getManager());
    return view;
  }

  @Override
  public boolean frozenBase() {
    return base.frozenBase();
  }

  void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  void setTraining(boolean training) {
    this.training = training;
  }

  /** Throws, writing nothing, if the base cannot take the update. */
  void checkMergeable() {
    if (!merged && !(base instanceof DenseLinear)) {
      throw new IllegalStateException(
          "cannot merge AdaLoRA into a "
              + base.getClass().getSimpleName()
              + " base; merge onto the float weights");
    }
  }

  /** {@code W += B (A * E) * scaling / (ranknum + 1e-5)}, PEFT's get_delta_weight. */
  void merge() {
    if (merged) {
      return;
    }
    checkMergeable();
    DenseLinear dense = (DenseLinear) base;
    if (a.getShape().get(0) > 0) {
      Autograd.withGrad(
          false,
          () -> {
            NDArray delta = b.matMul(a.mul(e)).mul(factor);
            dense.weight().addi(delta);
            delta.close();
            return null;
          });
    }
    merged = true;
  }
}
