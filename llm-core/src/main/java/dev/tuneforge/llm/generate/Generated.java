package dev.tuneforge.llm.generate;

import java.util.List;

/**
 * One generated continuation.
 *
 * @param tokens the new tokens, up to and including a stop token or the token completing a stop
 *     string
 * @param text the decoded new text, cut before a stop string (empty without a tokenizer)
 * @param finishReason "stop" (stop token or string) or "length" (max_new_tokens reached)
 * @param logprobs per new token, its log-probability under the model and the most likely
 *     alternatives, when asked for ({@link Generator#generate(List, GenerationConfig,
 *     Generator.TokenListener, int)}); empty otherwise
 */
public record Generated(
    int[] tokens, String text, String finishReason, List<TokenLogprob> logprobs) {
  public Generated(int[] tokens, String text, String finishReason) {
    this(tokens, text, finishReason, List.of());
  }

  /**
   * A token's log-probability, {@code log softmax} of the model's logits at its position (before
   * temperature or top-p), and the {@code top} most likely tokens there with theirs, most likely
   * first.
   */
  public record TokenLogprob(int token, double logprob, int[] topTokens, double[] topLogprobs) {}
}
