package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * A projection {@code y = x W^T + b}. Blocks receive their projections, so an adapter (LoRA over a
 * dense or NF4 base) is swapped in when the model is built, never patched in afterwards.
 */
public interface Linear {
  /** {@code x}: (..., inFeatures) to (..., outFeatures). */
  NDArray forward(NDArray x);

  /**
   * Whether this projection computes from a frozen weight kept out of the autograd graph (NF4 or
   * half precision): its input must then be a {@link dev.tuneforge.llm.engine.Tape#cut} leaf.
   */
  default boolean frozenBase() {
    return false;
  }
}
