package dev.tuneforge.llm.judge;

import dev.tuneforge.llm.rl.RewardFunction;
import java.util.List;

/**
 * Says which of two responses to each prompt is better, as token ids (the responses end with EOS
 * when they are complete). Three kinds plug in: a reward model (local or reward-service) or any
 * {@link RewardFunction}, scoring each response on its own ({@link #pointwise}); an LLM asked to
 * compare them ({@link LlmJudge}); and a rule written in code ({@link #rule}).
 */
@FunctionalInterface
public interface Judge {
  /** The verdict where a judge gave none. */
  int NO_VERDICT = -1;

  Verdicts judge(List<int[]> prompts, List<int[]> first, List<int[]> second);

  /** Whether the verdicts carry scores (a pointwise judge), which penalties can then adjust. */
  default boolean pointwise() {
    return false;
  }

  /** A pointwise judge: each response scored by {@code scores}; the higher score wins. */
  static Judge pointwise(RewardFunction scores) {
    return new Judge() {
      @Override
      public Verdicts judge(List<int[]> prompts, List<int[]> first, List<int[]> second) {
        return Verdicts.ofScores(scores.score(prompts, first), scores.score(prompts, second));
      }

      @Override
      public boolean pointwise() {
        return true;
      }
    };
  }

  /** A pairwise rule over token ids: 0, 1 or {@link #NO_VERDICT} per (prompt, first, second). */
  @FunctionalInterface
  interface Rule {
    int better(int[] prompt, int[] first, int[] second);
  }

  /** A pairwise judge from a rule. */
  static Judge rule(Rule rule) {
    return (prompts, first, second) -> {
      int[] better = new int[prompts.size()];
      for (int i = 0; i < better.length; i++) {
        int verdict = rule.better(prompts.get(i), first.get(i), second.get(i));
        if (verdict != 0 && verdict != 1 && verdict != NO_VERDICT) {
          throw new IllegalArgumentException(
              "a judge's verdict is 0, 1 or " + NO_VERDICT + ", not " + verdict);
        }
        better[i] = verdict;
      }
      return Verdicts.of(better);
    };
  }
}
