package dev.tuneforge.llm.metrics;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.model.LlamaModel;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-token log-probabilities of texts under a model: {@code logprobs[i] = log p(token i | tokens <
 * i)} (undefined for i = 0), and perplexity {@code exp(-mean(logprobs[1..]))}. Sequences are scored
 * as one right-padded batch; padding never changes a real token's score.
 */
public final class TokenScorer {
  private TokenScorer() {}

  /**
   * One scored sequence.
   *
   * @param logprobs one per token, {@code NaN} at position 0
   */
  public record Scored(int[] tokenIds, double[] logprobs, double perplexity) {}

  /** Scores every sequence (each at least 2 tokens long) in one batch. */
  public static List<Scored> score(LlamaModel model, List<int[]> sequences) {
    int batch = sequences.size();
    int maxLen = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
    for (int[] sequence : sequences) {
      if (sequence.length < 2) {
        throw new IllegalArgumentException(
            "a scored text needs at least 2 tokens but had " + sequence.length);
      }
    }
    long[] ids = new long[batch * maxLen];
    long[] mask = new long[batch * maxLen];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < sequences.get(b).length; t++) {
        ids[b * maxLen + t] = sequences.get(b)[t];
        mask[b * maxLen + t] = 1;
      }
    }
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(ids, new Shape(batch, maxLen));
      NDArray logits = model.forward(input, scope.create(mask, new Shape(batch, maxLen)), null);
      NDArray next = input.get(":, 1:").expandDims(-1); // (batch, maxLen-1, 1)
      NDArray picked =
          logits.get(":, :-1, :").logSoftmax(-1).gather(next, -1).squeeze(-1); // (batch, maxLen-1)
      float[] values = picked.toFloatArray();
      List<Scored> scored = new ArrayList<>();
      for (int b = 0; b < batch; b++) {
        int length = sequences.get(b).length;
        double[] logprobs = new double[length];
        logprobs[0] = Double.NaN;
        double sum = 0;
        for (int t = 1; t < length; t++) {
          logprobs[t] = values[b * (maxLen - 1) + t - 1];
          sum += logprobs[t];
        }
        scored.add(new Scored(sequences.get(b).clone(), logprobs, Math.exp(-sum / (length - 1))));
      }
      return scored;
    }
  }
}
