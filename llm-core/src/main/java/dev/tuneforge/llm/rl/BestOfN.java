package dev.tuneforge.llm.rl;

import dev.tuneforge.llm.data.TokenizedExample;
import dev.tuneforge.llm.engine.Autograd;
import dev.tuneforge.llm.generate.Generated;
import dev.tuneforge.llm.generate.GenerationConfig;
import dev.tuneforge.llm.generate.Generator;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.preference.PreferencePair;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Best-of-N sampling: draw N responses per prompt, score them with a {@link RewardFunction} and
 * rank them. The ranking is also a data generator: the best response of each prompt is SFT data
 * (rejection sampling), the best and worst a preference pair.
 */
public final class BestOfN {
  /** A scored response. */
  public record Candidate(int[] tokens, String text, double score, String finishReason) {}

  /** A prompt's candidates, best first. */
  public record Ranked(int[] prompt, List<Candidate> candidates) {
    public Candidate best() {
      return candidates.get(0);
    }

    public Candidate worst() {
      return candidates.get(candidates.size() - 1);
    }
  }

  private final Generator generator;
  private final RewardFunction reward;

  public BestOfN(
      LlamaModel model, dev.tuneforge.llm.tokenizer.Tokenizer tokenizer, RewardFunction reward) {
    this.generator = new Generator(model, tokenizer);
    this.reward = reward;
  }

  /**
   * Samples {@code n} responses per prompt with {@code config} (which must sample), scores and
   * ranks them. The prompts' copies are generated together, in batches of {@code batchSize} rows.
   */
  public List<Ranked> rank(List<int[]> prompts, int n, GenerationConfig config, int batchSize) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0 but was " + n);
    }
    if (n > 1 && !config.doSample()) {
      throw new IllegalArgumentException(
          "best-of-n with n > 1 needs sampling (do_sample true); greedy gives n equal responses");
    }
    List<int[]> rows = new ArrayList<>();
    for (int[] prompt : prompts) {
      for (int i = 0; i < n; i++) {
        rows.add(prompt);
      }
    }
    List<Generated> generated = new ArrayList<>();
    for (int from = 0, chunk = 0; from < rows.size(); from += batchSize, chunk++) {
      List<int[]> part = rows.subList(from, Math.min(rows.size(), from + batchSize));
      GenerationConfig seeded =
          config.withSampling(
              config.temperature(),
              config.topK(),
              config.topP(),
              dev.tuneforge.llm.recipe.StepSeeds.of(config.seed(), chunk));
      generated.addAll(
          Autograd.withGrad(
              false, () -> generator.generate(part, seeded, Generator.TokenListener.NONE)));
    }
    double[] scores = reward.score(rows, generated.stream().map(Generated::tokens).toList());
    List<Ranked> ranked = new ArrayList<>();
    for (int p = 0; p < prompts.size(); p++) {
      List<Candidate> candidates = new ArrayList<>();
      for (int i = p * n; i < (p + 1) * n; i++) {
        Generated g = generated.get(i);
        candidates.add(new Candidate(g.tokens(), g.text(), scores[i], g.finishReason()));
      }
      candidates.sort(Comparator.comparingDouble(Candidate::score).reversed());
      ranked.add(new Ranked(prompts.get(p), List.copyOf(candidates)));
    }
    return ranked;
  }

  /** Rejection sampling: each prompt with its best response, as completion-only SFT examples. */
  public static List<TokenizedExample> bestAsSft(List<Ranked> ranked) {
    return ranked.stream()
        .map(r -> TokenizedExample.completion(r.prompt(), r.best().tokens()))
        .toList();
  }

  /**
   * Preference pairs (best chosen, worst rejected), skipping prompts whose best and worst scores
   * differ by less than {@code minGap} (ties teach nothing).
   */
  public static List<PreferencePair> bestVersusWorst(List<Ranked> ranked, double minGap) {
    List<PreferencePair> pairs = new ArrayList<>();
    for (Ranked r : ranked) {
      if (r.candidates().size() >= 2 && r.best().score() - r.worst().score() >= minGap) {
        pairs.add(new PreferencePair(r.prompt(), r.best().tokens(), r.worst().tokens()));
      }
    }
    return pairs;
  }
}
