package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
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

  /**
   * Each row's summed response log-probability, without a graph and a chunk of positions at a time
   * ({@link SequenceLogProbs}): no whole-batch logits.
   */
  float[] responseLogProbs(SequenceBatch batch, ai.djl.ndarray.NDManager scope);

  @Override
  default void close() {}

  /** The policy itself with {@code adapter} disabled during the reference forward. */
  static Reference adapterDisabled(LlamaModel policy, dev.tuneforge.llm.adapter.Adapter adapter) {
    return new Reference() {
      @Override
      public NDArray logits(NDArray ids, NDArray mask) {
        return withoutAdapter(() -> policy.forward(ids, mask, null));
      }

      @Override
      public float[] responseLogProbs(SequenceBatch batch, ai.djl.ndarray.NDManager scope) {
        return withoutAdapter(() -> sums(policy, batch, scope));
      }

      private <T> T withoutAdapter(java.util.function.Supplier<T> body) {
        return Autograd.withGrad(
            false,
            () -> {
              adapter.setEnabled(false);
              try {
                return body.get();
              } finally {
                adapter.setEnabled(true);
              }
            });
      }
    };
  }

  private static float[] sums(
      LlamaModel model, SequenceBatch batch, ai.djl.ndarray.NDManager scope) {
    NDArray hidden = model.hiddenStates(batch.idsArray(scope), batch.maskArray(scope));
    return SequenceLogProbs.sums(model, hidden, batch);
  }

  /** A frozen copy (loaded separately from the same weights); closed with the reference. */
  static Reference frozen(LlamaModel copy) {
    return new Reference() {
      @Override
      public NDArray logits(NDArray ids, NDArray mask) {
        return Autograd.withGrad(false, () -> copy.forward(ids, mask, null));
      }

      @Override
      public float[] responseLogProbs(SequenceBatch batch, ai.djl.ndarray.NDManager scope) {
        return Autograd.withGrad(false, () -> sums(copy, batch, scope));
      }

      @Override
      public void close() {
        copy.close();
      }
    };
  }
}
