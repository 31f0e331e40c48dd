package dev.tuneforge.llm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.loss.CausalLmLoss;
import java.util.List;

/**
 * A right-padded batch: input ids, attention mask (1 real, 0 padding) and labels (the id where
 * trained, -100 elsewhere), each (batch, maxLen).
 */
public record Batch(
    long[] ids, long[] mask, long[] labels, int rows, int maxLen, int trainedTokens) {

  /** Collates {@code examples}, padding with {@code padId}. */
  public static Batch of(List<TokenizedExample> examples, int padId) {
    int rows = examples.size();
    int maxLen = examples.stream().mapToInt(e -> e.ids().length).max().orElse(0);
    long[] ids = new long[rows * maxLen];
    long[] mask = new long[rows * maxLen];
    long[] labels = new long[rows * maxLen];
    java.util.Arrays.fill(ids, padId);
    java.util.Arrays.fill(labels, CausalLmLoss.IGNORE);
    int trained = 0;
    for (int r = 0; r < rows; r++) {
      TokenizedExample example = examples.get(r);
      for (int t = 0; t < example.ids().length; t++) {
        ids[r * maxLen + t] = example.ids()[t];
        mask[r * maxLen + t] = 1;
        if (example.trained()[t]) {
          labels[r * maxLen + t] = example.ids()[t];
          trained += t > 0 ? 1 : 0;
        }
      }
    }
    return new Batch(ids, mask, labels, rows, maxLen, trained);
  }

  public NDArray idsArray(NDManager manager) {
    return manager.create(ids, new Shape(rows, maxLen));
  }

  public NDArray maskArray(NDManager manager) {
    return manager.create(mask, new Shape(rows, maxLen));
  }

  public NDArray labelsArray(NDManager manager) {
    return manager.create(labels, new Shape(rows, maxLen));
  }
}
