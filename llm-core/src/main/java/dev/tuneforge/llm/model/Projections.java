package dev.tuneforge.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Where adapters act on a {@link LlamaModel} while it is built: the projection of each module of
 * each layer (LoRA, DoRA, IA3, AdaLoRA, and how the frozen base is stored: dense, half or NF4), the
 * top-level modules (modules_to_save), virtual token embeddings (prompt tuning) and per-layer keys
 * and values (prefix tuning).
 */
@FunctionalInterface
public interface Projections {
  Linear create(int layer, String module, StoredWeight weight, NDArray bias);

  /**
   * The tensor a top-level module (embed_tokens, lm_head) uses, asked at every forward; adapters
   * with modules_to_save return their trained copy while enabled.
   */
  default java.util.function.Supplier<NDArray> module(String name, NDArray original) {
    return () -> original;
  }

  /**
   * Embeddings placed before every sequence (PEFT prompt tuning), asked at every forward: (n,
   * hiddenSize) in the compute type, or null for none (no such adapter, or it is disabled).
   *
   * @param embedding the token embedding matrix (vocabSize, hiddenSize), owned by the model
   */
  default java.util.function.Supplier<NDArray> virtualTokens(
      LlamaConfig config, NDArray embedding) {
    return () -> null;
  }

  /**
   * Prefix tuning's keys and values before every layer's own, asked at every forward with the
   * call's scope (what is computed for it belongs there): (n, 2 * numLayers * numKvHeads * headDim)
   * in the compute type, layer l's keys in block 2l and its values in block 2l + 1 (PEFT's
   * past_key_values layout), or null for none.
   *
   * @param manager the model's manager, which owns the adapter's tensors
   */
  default java.util.function.Function<NDManager, NDArray> prefix(
      LlamaConfig config, NDManager manager, DataType computeType) {
    return scope -> null;
  }

  /** Plain dense projections. */
  Projections DENSE = (layer, module, weight, bias) -> new DenseLinear(weight.load(), bias);
}
