package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Tape;

/**
 * One pre-norm decoder block: {@code h = x + attn(norm(x)); out = h + mlp(norm(h))}. Gemma also
 * norms each sublayer's output before the residual sum ({@code attentionOutNorm}, {@code
 * mlpOutNorm}; null for the other families).
 */
public record DecoderLayer(
    RmsNorm inputNorm,
    Attention attention,
    RmsNorm attentionOutNorm,
    RmsNorm mlpNorm,
    Mlp mlp,
    RmsNorm mlpOutNorm) {
  public DecoderLayer(RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
    this(inputNorm, attention, null, postAttentionNorm, mlp, null);
  }

  /** {@code x}: (batch, seqLen, hiddenSize); {@code prefix} as {@link Attention#forward}. */
  public NDArray forward(
      NDArray x,
      Rope rope,
      NDArray[] angles,
      NDArray mask,
      KvCache cache,
      int layer,
      NDArray[] prefix) {
    boolean segmented = attention.segmented() || mlp.segmented();
    NDArray h =
        Scopes.run(
            x,
            in -> {
              NDArray attended =
                  attention.forward(
                      inputNorm.forward(in), rope, angles, mask, cache, layer, prefix);
              NDArray sum = in.add(normed(attentionOutNorm, attended));
              // h feeds the residual and the MLP's norm, whose gradients come in different
              // backward segments: as a leaf it is walked once (engine.Tape).
              return segmented ? Tape.cut(sum) : sum;
            });
    return Scopes.run(h, in -> in.add(normed(mlpOutNorm, mlp.forward(mlpNorm.forward(in)))));
  }

  private static NDArray normed(RmsNorm norm, NDArray x) {
    return norm == null ? x : norm.forward(x);
  }
}
