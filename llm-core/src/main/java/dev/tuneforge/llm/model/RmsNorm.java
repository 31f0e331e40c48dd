package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * Root-mean-square layer norm (Zhang and Sennrich, 2019): {@code y = x / sqrt(mean(x^2) + eps) * w}
 * over the last axis. eps is typically 1e-5 or 1e-6.
 */
public record RmsNorm(NDArray weight, float eps) {
  /** {@code x}: (..., hiddenSize). */
  public NDArray forward(NDArray x) {
    // x*x rather than pow(2): a Number operand saved for backward can be freed early in DJL.
    NDArray meanSquare = x.mul(x).mean(new int[] {-1}, true);
    return x.div(meanSquare.add(eps).sqrt()).mul(weight);
  }
}
