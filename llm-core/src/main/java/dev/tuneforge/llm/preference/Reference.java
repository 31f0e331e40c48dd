package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import dev.tuneforge.llm.adapter.LoraAdapter;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.model.LlamaModel;

/**
 * The frozen reference policy that DPO and PPO measure the trained policy against. For an adapter
 * it is the same model with the adapter switched off, which costs no memory; for full fine-tuning
 * it is a separate frozen copy of the starting weights.
 */
public interface Reference extends AutoCloseable {
  /** Float32 logits (rows, len, vocab), computed without recording a graph. */
  NDArray logits(NDArray inputIds, NDArray attentionMask);

  @Override
  default void close() {}

  /** The policy itself with {@code adapter} disabled during the reference forward. */
  static Reference adapterDisabled(LlamaModel policy, LoraAdapter adapter) {
    return (ids, mask) ->
        Autograd.withGrad(
            false,
            () -> {
              adapter.setEnabled(false);
              try {
                return policy.forward(ids, mask, null);
              } finally {
                adapter.setEnabled(true);
              }
            });
  }

  /** A frozen copy (loaded separately from the same weights); closed with the reference. */
  static Reference frozen(LlamaModel copy) {
    return new Reference() {
      @Override
      public NDArray logits(NDArray ids, NDArray mask) {
        return Autograd.withGrad(false, () -> copy.forward(ids, mask, null));
      }

      @Override
      public void close() {
        copy.close();
      }
    };
  }
}
