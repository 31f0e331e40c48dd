package dev.tuneforge.llm.rl;

import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Scores responses to prompts, one number each, higher is better. Three kinds plug in: a local
 * {@link RewardModel}, a rule written in code, and (in the services) a remote reward scorer.
 */
@FunctionalInterface
public interface RewardFunction {
  /**
   * One score per (prompt, response), both as token ids; the response ends with EOS if complete.
   */
  double[] score(List<int[]> prompts, List<int[]> responses);

  /** The local reward model, scoring in batches of {@code batchSize}. */
  static RewardFunction of(RewardModel model, int batchSize) {
    return (prompts, responses) -> model.score(prompts, responses, batchSize);
  }

  /** A rule over token ids. */
  static RewardFunction rule(BiFunction<int[], int[], Double> rule) {
    return (prompts, responses) -> {
      double[] scores = new double[prompts.size()];
      for (int i = 0; i < scores.length; i++) {
        scores[i] = rule.apply(prompts.get(i), responses.get(i));
      }
      return scores;
    };
  }

  /** A rule over decoded text (special tokens skipped). */
  static RewardFunction text(Tokenizer tokenizer, BiFunction<String, String, Double> rule) {
    return rule(
        (prompt, response) ->
            rule.apply(tokenizer.decode(prompt, true), tokenizer.decode(response, true)));
  }
}
