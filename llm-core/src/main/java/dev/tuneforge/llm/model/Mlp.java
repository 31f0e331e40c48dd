package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * SwiGLU feed-forward (Shazeer, 2020): {@code down(silu(gate(x)) * up(x))}, silu(z) = z*sigmoid(z).
 */
public record Mlp(Linear gate, Linear up, Linear down) {
  /** {@code x}: (batch, seqLen, hiddenSize). */
  public NDArray forward(NDArray x) {
    NDArray gated = gate.forward(x); // (batch, seqLen, intermediateSize)
    return down.forward(gated.mul(gated.getNDArrayInternal().sigmoid()).mul(up.forward(x)));
  }
}
