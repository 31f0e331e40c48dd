package dev.tuneforge.llm.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.tuneforge.llm.model.KvCache;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Autoregressive generation for a batch of prompts. Prompts are left-padded so every row's next
 * token sits in the last column; the attention mask hides the padding and positions count real
 * tokens only, so a padded row generates what it would alone. With the KV cache each step feeds
 * only the newest token; without it each step re-reads the whole sequence (same tokens, slower).
 */
public final class Generator {
  /** Receives each token as it is chosen, for streaming. */
  @FunctionalInterface
  public interface TokenListener {
    void onToken(int row, int token);

    /**
     * As {@link #onToken(int, int)}, with the token's log-probability when the generation records
     * them (null otherwise): what streaming with logprobs sends beside the text.
     */
    default void onToken(int row, int token, Generated.TokenLogprob logprob) {
      onToken(row, token);
    }

    TokenListener NONE = (row, token) -> {};
  }

  private final LlamaModel model;
  private final Tokenizer tokenizer;

  /**
   * @param tokenizer decodes text and checks stop strings; may be null for token-only use
   */
  public Generator(LlamaModel model, Tokenizer tokenizer) {
    this.model = model;
    this.tokenizer = tokenizer;
  }

  /** Continues every prompt (token ids, each non-empty). */
  public List<Generated> generate(
      List<int[]> prompts, GenerationConfig config, TokenListener listener) {
    return generate(prompts, config, listener, -1);
  }

  /**
   * As above, recording each new token's log-probability and the {@code topLogprobs} most likely
   * alternatives ({@code 0}: the token's alone; below 0: none, as the plain call).
   */
  public List<Generated> generate(
      List<int[]> prompts, GenerationConfig config, TokenListener listener, int topLogprobs) {
    if (!config.stopStrings().isEmpty() && tokenizer == null) {
      throw new IllegalArgumentException("stop strings need a tokenizer to decode the output");
    }
    int batch = prompts.size();
    int promptLen = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
    if (prompts.stream().anyMatch(p -> p.length == 0)) {
      throw new IllegalArgumentException("every prompt needs at least one token");
    }
    int pad = Math.max(model.config().padTokenId(), 0);
    long[][] sequences = new long[batch][promptLen + config.maxNewTokens()];
    long[][] mask = new long[batch][promptLen + config.maxNewTokens()];
    for (int b = 0; b < batch; b++) {
      int offset = promptLen - prompts.get(b).length;
      Arrays.fill(sequences[b], pad);
      for (int t = 0; t < prompts.get(b).length; t++) {
        sequences[b][offset + t] = prompts.get(b)[t];
        mask[b][offset + t] = 1;
      }
    }
    Row[] rows = new Row[batch];
    for (int b = 0; b < batch; b++) {
      rows[b] = new Row(prompts.get(b));
    }
    TokenChooser chooser = new TokenChooser(config);
    boolean padded = prompts.stream().anyMatch(p -> p.length != promptLen);
    try (KvCache cache =
        config.useCache() ? new KvCache(model.manager(), model.config().numLayers()) : null) {
      int length = promptLen;
      for (int step = 0; step < config.maxNewTokens() && !allDone(rows); step++) {
        float[][] logits = nextLogits(sequences, padded ? mask : null, length, cache, step == 0);
        for (int b = 0; b < batch; b++) {
          int token = rows[b].done ? pad : chooser.choose(logits[b], rows[b].seen());
          sequences[b][length] = token;
          mask[b][length] = 1;
          if (!rows[b].done) {
            Generated.TokenLogprob lp =
                topLogprobs >= 0 ? logprob(logits[b], token, topLogprobs) : null;
            if (lp != null) {
              rows[b].logprobs.add(lp);
            }
            rows[b].add(token);
            listener.onToken(b, token, lp);
            rows[b].checkStop(token, config, tokenizer);
          }
        }
        length++;
      }
    }
    List<Generated> results = new ArrayList<>();
    for (Row row : rows) {
      results.add(row.result(tokenizer));
    }
    return results;
  }

  /** Logits of the last position of every row; {@code mask} null when no row is padded. */
  private float[][] nextLogits(
      long[][] sequences, long[][] mask, int length, KvCache cache, boolean first) {
    int batch = sequences.length;
    int from = cache == null || first ? 0 : length - 1;
    int width = length - from;
    long[] ids = new long[batch * width];
    long[] attention = mask == null ? null : new long[batch * length];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(sequences[b], from, ids, b * width, width);
      if (mask != null) {
        System.arraycopy(mask[b], 0, attention, b * length, length);
      }
    }
    try (NDManager scope = model.manager().newSubManager()) {
      NDArray input = scope.create(ids, new Shape(batch, width));
      NDArray maskArray =
          attention == null ? null : scope.create(attention, new Shape(batch, length));
      float[] last =
          model.forwardLast(input, maskArray, cache).toFloatArray(); // (batch, vocabSize)
      int vocab = last.length / batch;
      float[][] rows = new float[batch][];
      for (int b = 0; b < batch; b++) {
        rows[b] = Arrays.copyOfRange(last, b * vocab, (b + 1) * vocab);
      }
      return rows;
    }
  }

  /** log softmax of {@code logits} at {@code token}, with the {@code top} most likely tokens. */
  static Generated.TokenLogprob logprob(float[] logits, int token, int top) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (float l : logits) {
      sum += Math.exp(l - max);
    }
    double logZ = max + Math.log(sum);
    int[] best = new int[Math.min(top, logits.length)];
    double[] bestLp = new double[best.length];
    java.util.Arrays.fill(bestLp, Double.NEGATIVE_INFINITY);
    for (int v = 0; v < logits.length; v++) {
      double lp = logits[v] - logZ;
      for (int k = 0; k < best.length; k++) {
        if (lp > bestLp[k]) {
          System.arraycopy(best, k, best, k + 1, best.length - k - 1);
          System.arraycopy(bestLp, k, bestLp, k + 1, best.length - k - 1);
          best[k] = v;
          bestLp[k] = lp;
          break;
        }
      }
    }
    return new Generated.TokenLogprob(token, logits[token] - logZ, best, bestLp);
  }

  private static boolean allDone(Row[] rows) {
    return Arrays.stream(rows).allMatch(r -> r.done);
  }

  /** One sequence's progress. */
  private static final class Row {
    final int[] prompt;
    final List<Integer> generated = new ArrayList<>();
    final List<Generated.TokenLogprob> logprobs = new ArrayList<>();
    boolean done;
    String finishReason = "length";
    String text;

    Row(int[] prompt) {
      this.prompt = prompt;
    }

    void add(int token) {
      generated.add(token);
    }

    int[] seen() {
      int[] seen = Arrays.copyOf(prompt, prompt.length + generated.size());
      for (int i = 0; i < generated.size(); i++) {
        seen[prompt.length + i] = generated.get(i);
      }
      return seen;
    }

    int[] tokens() {
      return generated.stream().mapToInt(Integer::intValue).toArray();
    }

    void checkStop(int token, GenerationConfig config, Tokenizer tokenizer) {
      if (config.stopTokenIds().contains(token)) {
        done = true;
        finishReason = "stop";
        return;
      }
      if (config.stopStrings().isEmpty()) {
        return;
      }
      String decoded = tokenizer.decode(tokens(), true);
      for (String stop : config.stopStrings()) {
        int at = decoded.indexOf(stop);
        if (at >= 0) {
          done = true;
          finishReason = "stop";
          text = decoded.substring(0, at);
          return;
        }
      }
    }

    Generated result(Tokenizer tokenizer) {
      String decoded =
          text != null ? text : tokenizer == null ? "" : tokenizer.decode(tokens(), true);
      return new Generated(tokens(), decoded, finishReason, List.copyOf(logprobs));
    }
  }
}
