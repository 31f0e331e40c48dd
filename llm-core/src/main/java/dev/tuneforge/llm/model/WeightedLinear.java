package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** A projection whose full weight can be materialized (dense, or dequantized from NF4). */
public interface WeightedLinear extends Linear {
  /** The weight (out, in) in the compute type; may be a temporary in {@code scope}. */
  NDArray weight(NDManager scope);
}
