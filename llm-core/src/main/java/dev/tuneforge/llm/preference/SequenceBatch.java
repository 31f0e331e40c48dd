package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.loss.CausalLmLoss;
import java.util.Arrays;
import java.util.List;

/**
 * Prompt + response rows, right-padded to one length: input ids, attention mask and which positions
 * hold response tokens. Shared by reward scoring (pooled at each row's last real token), DPO
 * (summed response log-probabilities) and PPO (per-token log-probabilities and values).
 */
public record SequenceBatch(
    long[] ids, long[] mask, float[] response, int[] promptLengths, int[] lengths, int maxLen) {

  public static SequenceBatch of(List<int[]> prompts, List<int[]> responses, int padId) {
    if (prompts.size() != responses.size()) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts but " + responses.size() + " responses");
    }
    int rows = prompts.size();
    int[] promptLengths = new int[rows];
    int[] lengths = new int[rows];
    int maxLen = 0;
    for (int r = 0; r < rows; r++) {
      promptLengths[r] = prompts.get(r).length;
      lengths[r] = promptLengths[r] + responses.get(r).length;
      maxLen = Math.max(maxLen, lengths[r]);
    }
    long[] ids = new long[rows * maxLen];
    long[] mask = new long[rows * maxLen];
    float[] response = new float[rows * maxLen];
    Arrays.fill(ids, padId);
    for (int r = 0; r < rows; r++) {
      int[] prompt = prompts.get(r);
      int[] answer = responses.get(r);
      for (int t = 0; t < lengths[r]; t++) {
        boolean inPrompt = t < prompt.length;
        ids[r * maxLen + t] = inPrompt ? prompt[t] : answer[t - prompt.length];
        mask[r * maxLen + t] = 1;
        response[r * maxLen + t] = inPrompt ? 0 : 1;
      }
    }
    return new SequenceBatch(ids, mask, response, promptLengths, lengths, maxLen);
  }

  /** The chosen response of every pair, then the rejected one of every pair: 2n rows. */
  public static SequenceBatch ofPairs(List<PreferencePair> pairs, int padId) {
    List<int[]> prompts = new java.util.ArrayList<>();
    List<int[]> responses = new java.util.ArrayList<>();
    for (PreferencePair pair : pairs) {
      prompts.add(pair.prompt());
      responses.add(pair.chosen());
    }
    for (PreferencePair pair : pairs) {
      prompts.add(pair.prompt());
      responses.add(pair.rejected());
    }
    return of(prompts, responses, padId);
  }

  public int rows() {
    return lengths.length;
  }

  public NDArray idsArray(NDManager manager) {
    return manager.create(ids, new Shape(rows(), maxLen));
  }

  public NDArray maskArray(NDManager manager) {
    return manager.create(mask, new Shape(rows(), maxLen));
  }

  /** (rows, maxLen - 1): 1 where the token predicted at that position is a response token. */
  public NDArray predictedResponseMask(NDManager manager) {
    return manager.create(response, new Shape(rows(), maxLen)).get(":, 1:");
  }

  /** (rows,) INT64: the index of each row's last real token, where a reward model pools. */
  public NDArray lastIndex(NDManager manager) {
    long[] last = new long[rows()];
    for (int r = 0; r < last.length; r++) {
      last[r] = lengths[r] - 1;
    }
    return manager.create(last);
  }

  /**
   * Per-position log-probability (rows, maxLen - 1) of each next token under {@code logits} (rows,
   * maxLen, vocab); position t scores token t + 1.
   */
  public static NDArray tokenLogProbs(NDArray logits, NDArray ids) {
    return CausalLmLoss.logProbsOf(logits.get(":, :-1, :"), ids.get(":, 1:"));
  }

  /** The summed log-probability of each row's response tokens (rows,). */
  public NDArray responseLogProbs(NDArray logits, NDManager scope) {
    NDArray mask = predictedResponseMask(scope);
    return tokenLogProbs(logits, idsArray(scope)).mul(mask).sum(new int[] {1});
  }

  /** Number of response tokens per row, as float32 (rows,). */
  public NDArray responseLengths(NDManager scope) {
    return predictedResponseMask(scope).sum(new int[] {1}).toType(DataType.FLOAT32, false);
  }
}
