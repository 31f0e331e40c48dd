package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;

/** One pre-norm decoder block: {@code h = x + attn(norm(x)); out = h + mlp(norm(h))}. */
public record DecoderLayer(
    RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, Mlp mlp) {
  /** {@code x}: (batch, seqLen, hiddenSize). */
  public NDArray forward(
      NDArray x, Rope rope, NDArray[] angles, NDArray mask, KvCache cache, int layer) {
    NDArray h = x.add(attention.forward(inputNorm.forward(x), rope, angles, mask, cache, layer));
    return h.add(mlp.forward(postAttentionNorm.forward(h)));
  }
}
