package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.engine.Tape;

/**
 * Causal grouped-query self-attention (Ainslie et al., 2023): numHeads query heads share numKvHeads
 * key/value heads; scores are {@code q k^T / sqrt(headDim)} plus an additive mask (0 where allowed,
 * a large negative number for future and padding positions). Qwen 3 normalises each query and key
 * head over headDim (RMSNorm) before the rotary embedding, as Gemma 3 does; Gemma 2 soft-caps the
 * scores, {@code cap * tanh(scores / cap)}, before the mask.
 */
public final class Attention {
  private final Linear q;
  private final Linear k;
  private final Linear v;
  private final Linear o;
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final NDArray scale;
  private final boolean segmented;
  private final QkNorm qkNorm;
  private final NDArray softcap;

  /** Qwen 3's q_norm and k_norm: RMSNorm weights of size headDim, shared by every head. */
  public record QkNorm(RmsNorm query, RmsNorm key) {}

  /**
   * @param scale a scalar {@code 1/sqrt(headDim)} owned by the model (a tensor, not a Java number,
   *     so autograd never saves a freed buffer)
   */
  public Attention(Linear q, Linear k, Linear v, Linear o, LlamaConfig config, NDArray scale) {
    this(q, k, v, o, config, scale, null);
  }

  /** As above, with Qwen 3's per-head query and key norms ({@code qkNorm} null for none). */
  public Attention(
      Linear q, Linear k, Linear v, Linear o, LlamaConfig config, NDArray scale, QkNorm qkNorm) {
    this(q, k, v, o, config, scale, qkNorm, null);
  }

  /**
   * As above, with Gemma 2's score soft-capping: {@code softcap} a model-owned scalar, or null for
   * none.
   */
  public Attention(
      Linear q,
      Linear k,
      Linear v,
      Linear o,
      LlamaConfig config,
      NDArray scale,
      QkNorm qkNorm,
      NDArray softcap) {
    this.qkNorm = qkNorm;
    this.softcap = softcap;
    this.q = q;
    this.k = k;
    this.v = v;
    this.o = o;
    this.numHeads = config.numHeads();
    this.numKvHeads = config.numKvHeads();
    this.headDim = config.headDim();
    this.scale = scale;
    this.segmented = q.frozenBase() || k.frozenBase() || v.frozenBase() || o.frozenBase();
  }

  /**
   * @param x (batch, seqLen, hiddenSize)
   * @param mask (batch, 1, seqLen, totalLen) additive, or null when every key may be seen
   * @param cache past keys/values, appended to; null for a full forward
   * @param prefix prefix tuning's keys and values of this layer, each (batch, numKvHeads, n,
   *     headDim), placed before every key and value (into the cache, when there is one); null for
   *     none
   */
  public NDArray forward(
      NDArray x,
      Rope rope,
      NDArray[] angles,
      NDArray mask,
      KvCache cache,
      int layer,
      NDArray[] prefix) {
    long batch = x.getShape().get(0);
    long seqLen = x.getShape().get(1);
    if (segmented) {
      x = Tape.cut(x); // the frozen q/k/v read a leaf (engine.Tape)
    }
    NDArray queries =
        heads(q.forward(x), batch, seqLen, numHeads, qkNorm == null ? null : qkNorm.query());
    // (batch, numHeads, seqLen, headDim)
    NDArray keys =
        heads(k.forward(x), batch, seqLen, numKvHeads, qkNorm == null ? null : qkNorm.key());
    // (batch, numKvHeads, seqLen, headDim)
    NDArray values = heads(v.forward(x), batch, seqLen, numKvHeads, null);
    queries = rope.apply(queries, angles);
    keys = rope.apply(keys, angles);
    if (prefix != null && cache != null) {
      cache.append(layer, prefix[0], prefix[1]);
    } else if (prefix != null) {
      keys = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(prefix[0], keys), 2);
      values = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(prefix[1], values), 2);
    }
    if (cache != null) {
      NDArray[] all = cache.append(layer, keys, values); // (batch, numKvHeads, totalLen, headDim)
      keys = all[0];
      values = all[1];
    }
    int groupSize = numHeads / numKvHeads;
    if (groupSize > 1) {
      keys = keys.repeat(1, groupSize); // (batch, numHeads, totalLen, headDim), repeat_interleave
      values = values.repeat(1, groupSize);
    }
    NDArray scores = queries.matMul(keys.transpose(0, 1, 3, 2)).mul(scale);
    if (softcap != null) {
      scores = scores.div(softcap).tanh().mul(softcap);
    }
    if (mask != null) {
      scores = scores.add(mask);
    }
    NDArray context = scores.softmax(-1).matMul(values); // (batch, numHeads, seqLen, headDim)
    NDArray merged =
        context.transpose(0, 2, 1, 3).reshape(batch, seqLen, (long) numHeads * headDim);
    return o.forward(segmented ? Tape.cut(merged) : merged);
  }

  /** Whether a projection computes from a frozen base outside the graph (engine.Tape). */
  public boolean segmented() {
    return segmented;
  }

  /** (batch, seqLen, heads*headDim) to (batch, heads, seqLen, headDim), normed per head first. */
  private NDArray heads(NDArray projected, long batch, long seqLen, int heads, RmsNorm norm) {
    NDArray split = projected.reshape(batch, seqLen, heads, headDim);
    if (norm != null) {
      split = norm.forward(split);
    }
    return split.transpose(0, 2, 1, 3);
  }
}
