package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Tape;

/**
 * SwiGLU feed-forward (Shazeer, 2020): {@code down(silu(gate(x)) * up(x))}, silu(z) = z*sigmoid(z).
 */
public record Mlp(Linear gate, Linear up, Linear down) {
  /** {@code x}: (batch, seqLen, hiddenSize). */
  /** Whether a projection computes from a frozen base outside the graph (engine.Tape). */
  public boolean segmented() {
    return gate.frozenBase() || up.frozenBase() || down.frozenBase();
  }

  public NDArray forward(NDArray x) {
    boolean segmented = segmented();
    NDArray input = segmented ? Tape.cut(x) : x; // frozen projections read leaves (engine.Tape)
    NDArray gated = gate.forward(input); // (batch, seqLen, intermediateSize)
    NDArray product = gated.mul(gated.getNDArrayInternal().sigmoid()).mul(up.forward(input));
    return down.forward(segmented ? Tape.cut(product) : product);
  }
}
