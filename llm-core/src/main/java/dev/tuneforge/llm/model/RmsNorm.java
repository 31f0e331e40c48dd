package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * Root-mean-square layer norm (Zhang and Sennrich, 2019): {@code y = x / sqrt(mean(x^2) + eps) * w}
 * over the last axis. eps is typically 1e-5 or 1e-6. Gemma stores the weight as an offset from one
 * and multiplies by {@code (1 + w)} ({@code unitOffset}).
 */
public record RmsNorm(NDArray weight, float eps, boolean unitOffset) {
  public RmsNorm(NDArray weight, float eps) {
    this(weight, eps, false);
  }

  /** {@code x}: (..., hiddenSize). */
  public NDArray forward(NDArray x) {
    // x*x rather than pow(2): a Number operand saved for backward can be freed early in DJL.
    NDArray meanSquare = x.mul(x).mean(new int[] {-1}, true);
    // add(Number) saves nothing for the backward, so (1 + w) is safe to build per call.
    return x.div(meanSquare.add(eps).sqrt()).mul(unitOffset ? weight.add(1f) : weight);
  }
}
