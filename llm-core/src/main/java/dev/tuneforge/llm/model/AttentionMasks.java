package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The additive attention masks of a forward, in the model's compute type: causal, within a sliding
 * window when the layer has one, without padding keys (rows of a batch or of a KV cache) or keys of
 * another packed example.
 */
final class AttentionMasks {
  private final DataType floatType;

  AttentionMasks(DataType floatType) {
    this.floatType = floatType;
  }

  /** Position of each new token: its count of real tokens before it (left padding shifts none). */
  static NDArray positions(NDArray mask, long seqLen) {
    long total = mask.getShape().get(1);
    NDArray counted = mask.cumSum(1).sub(1).maximum(mask.zerosLike()); // (batch, totalLen)
    return counted.get(":, {}:", total - seqLen).toType(DataType.INT64, false);
  }

  /**
   * (batch, 1, seqLen, totalLen) for {@code seqLen} new tokens after {@code pastLen} cached ones:
   * query i may see key j when it is causal, within {@code window} (0: none) and not padding.
   */
  NDArray padded(NDArray mask, long seqLen, long pastLen, int window) {
    NDManager scope = mask.getManager();
    long total = pastLen + seqLen;
    NDArray keyIndex = scope.arange(0, total, 1, DataType.INT64).reshape(1, total);
    NDArray queryIndex = scope.arange(pastLen, total, 1, DataType.INT64).reshape(seqLen, 1);
    NDArray causal = visible(keyIndex, queryIndex, window).expandDims(0); // (1, seqLen, totalLen)
    NDArray real = mask.eq(1).expandDims(1); // (batch, 1, totalLen)
    return bias(causal.logicalAnd(real)); // allowed: (batch, seqLen, totalLen)
  }

  /**
   * (batch, 1, seqLen, seqLen) for packed rows of {@code segments} (batch, seqLen) ids, 0 for
   * padding: a token sees earlier tokens of its own segment only, within {@code window}.
   */
  NDArray packed(NDArray segments, int window) {
    NDManager scope = segments.getManager();
    long seqLen = segments.getShape().get(1);
    NDArray keyIndex = scope.arange(0, seqLen, 1, DataType.INT64).reshape(1, seqLen);
    NDArray queryIndex = scope.arange(0, seqLen, 1, DataType.INT64).reshape(seqLen, 1);
    NDArray sameSegment =
        segments.expandDims(2).eq(segments.expandDims(1)); // (batch, seqLen, seqLen)
    NDArray real = segments.neq(0).expandDims(1); // (batch, 1, seqLen)
    NDArray causal = visible(keyIndex, queryIndex, window).expandDims(0); // (1, seqLen, seqLen)
    return bias(causal.logicalAnd(sameSegment).logicalAnd(real));
  }

  /**
   * Keys query i may see: j <= i, and with a sliding window W also j > i - W, as transformers masks
   * by cache position (left padding included).
   */
  private static NDArray visible(NDArray keyIndex, NDArray queryIndex, int window) {
    NDArray causal = keyIndex.lte(queryIndex);
    return window == 0 ? causal : causal.logicalAnd(keyIndex.gt(queryIndex.sub(window)));
  }

  /** 0 where {@code allowed}, very negative elsewhere, with the heads axis added. */
  private NDArray bias(NDArray allowed) {
    NDManager scope = allowed.getManager();
    // The most negative finite value of the compute type, as transformers uses: a fully masked
    // row (a padding query) then gets a uniform softmax instead of NaN.
    float lowest =
        floatType == DataType.FLOAT16
            ? -65504f
            : floatType == DataType.BFLOAT16 ? -3.0e38f : -Float.MAX_VALUE; // bf16 max 3.39e38
    NDArray zeros = scope.zeros(allowed.getShape(), floatType);
    NDArray masked = scope.full(allowed.getShape(), lowest).toType(floatType, false);
    return NDArrays.where(allowed, zeros, masked).expandDims(1);
  }
}
