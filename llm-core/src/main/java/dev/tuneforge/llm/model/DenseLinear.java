package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * A plain projection over a weight stored {@code [out, in]} as in Hugging Face checkpoints.
 *
 * @param bias {@code [out]}, or null
 */
public record DenseLinear(NDArray weight, NDArray bias) implements WeightedLinear {
  @Override
  public NDArray weight(ai.djl.ndarray.NDManager scope) {
    return weight;
  }

  @Override
  public NDArray forward(NDArray x) {
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }
}
