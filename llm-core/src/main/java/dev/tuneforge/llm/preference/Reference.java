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
  /**
   * Float32 logits (rows, width, vocab) at the sequence positions {@code index} (rows, width) only
   * (PPO's: those that predict the response tokens), computed without recording a graph; no logits
   * of the prompt positions.
   */
  NDArray logitsAt(NDArray inputIds, NDArray attentionMask, NDArray index);

  /** The model's logits at {@code index}: hidden states gathered there, then the LM head. */
  static NDArray logitsAt(LlamaModel model, NDArray inputIds, NDArray mask, NDArray index) {
    return model.logits(atPositions(model.hiddenStates(inputIds, mask), index));
  }

  /** {@code hidden} (rows, len, h) at positions {@code index} (rows, width): (rows, width, h). */
  static NDArray atPositions(NDArray hidden, NDArray index) {
    long size = hidden.getShape().get(2);
    NDArray expanded = index.expandDims(-1).repeat(2, size); // (rows, width, h)
    return hidden.gather(expanded, 1);
  }

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
      public NDArray logitsAt(NDArray ids, NDArray mask, NDArray index) {
        return withoutAdapter(() -> Reference.logitsAt(policy, ids, mask, index));
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
      public NDArray logitsAt(NDArray ids, NDArray mask, NDArray index) {
        return Autograd.withGrad(false, () -> Reference.logitsAt(copy, ids, mask, index));
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
