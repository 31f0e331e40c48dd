package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Tape;

/**
 * Gated feed-forward {@code down(act(gate(x)) * up(x))}: SwiGLU (Shazeer, 2020) with silu(z) =
 * z*sigmoid(z), or GeGLU with gelu's tanh approximation (Gemma's {@code gelu_pytorch_tanh}) when
 * {@code gelu} is given.
 *
 * @param gelu the model-owned scalar tensors of the tanh approximation, or null for silu
 */
public record Mlp(Linear gate, Linear up, Linear down, GeluTanh gelu) {
  public Mlp(Linear gate, Linear up, Linear down) {
    this(gate, up, down, null);
  }

  /**
   * {@code 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))}. The constants are long-lived tensors:
   * a Java number operand saved by autograd would be freed before the backward (djl-spike.md).
   */
  public record GeluTanh(NDArray cubic, NDArray sqrtTwoOverPi, NDArray half) {
    NDArray apply(NDArray z) {
      NDArray inner = z.add(z.mul(z).mul(z).mul(cubic)).mul(sqrtTwoOverPi);
      return z.mul(half).mul(inner.tanh().add(1f));
    }
  }

  /** Whether a projection computes from a frozen base outside the graph (engine.Tape). */
  public boolean segmented() {
    return gate.frozenBase() || up.frozenBase() || down.frozenBase();
  }

  /** {@code x}: (batch, seqLen, hiddenSize). */
  public NDArray forward(NDArray x) {
    boolean segmented = segmented();
    NDArray input = segmented ? Tape.cut(x) : x; // frozen projections read leaves (engine.Tape)
    NDArray gated = gate.forward(input); // (batch, seqLen, intermediateSize)
    NDArray activated =
        gelu != null ? gelu.apply(gated) : gated.mul(gated.getNDArrayInternal().sigmoid());
    NDArray product = activated.mul(up.forward(input));
    return down.forward(segmented ? Tape.cut(product) : product);
  }
}
