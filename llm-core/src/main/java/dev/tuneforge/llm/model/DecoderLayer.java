package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Tape;

/** One pre-norm decoder block: {@code h = x + attn(norm(x)); out = h + mlp(norm(h))}. */
public record DecoderLayer(
    RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
  /** {@code x}: (batch, seqLen, hiddenSize). */
  public NDArray forward(
      NDArray x, Rope rope, NDArray[] angles, NDArray mask, KvCache cache, int layer) {
    boolean segmented = attention.segmented() || mlp.segmented();
    NDArray h =
        Scopes.run(
            x,
            in -> {
              NDArray sum =
                  in.add(
                      attention.forward(inputNorm.forward(in), rope, angles, mask, cache, layer));
              // h feeds the residual and the MLP's norm, whose gradients come in different
              // backward segments: as a leaf it is walked once (engine.Tape).
              return segmented ? Tape.cut(sum) : sum;
            });
    return Scopes.run(h, in -> in.add(mlp.forward(postAttentionNorm.forward(in))));
  }
}
