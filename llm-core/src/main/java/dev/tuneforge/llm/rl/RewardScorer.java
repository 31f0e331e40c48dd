package dev.tuneforge.llm.rl;

import dev.tuneforge.llm.engine.Compute;
import dev.tuneforge.llm.model.Projections;
import dev.tuneforge.llm.preference.RewardModel;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;

/**
 * A reward model in HF sequence-classification layout loaded with its tokenizer, scoring texts as
 * {@link TextReward#of} does. What reward-service serves and a trainer loads for local rewards.
 */
public final class RewardScorer implements AutoCloseable {
  private final RewardModel model;
  private final Tokenizer tokenizer;

  private RewardScorer(RewardModel model, Tokenizer tokenizer) {
    this.model = model;
    this.tokenizer = tokenizer;
  }

  /** Loads the reward model and tokenizer of {@code dir} on the CPU. */
  public static RewardScorer load(Path dir) {
    return new RewardScorer(
        RewardModel.load(dir, Compute.CPU_FLOAT32, Projections.DENSE), Tokenizer.load(dir));
  }

  /** This model as a text reward, scoring in batches of {@code batchSize}. */
  public TextReward reward(int batchSize) {
    return TextReward.of(model, tokenizer, batchSize);
  }

  /** Scores (prompt, response) texts in one batch. */
  public double[] score(List<String> prompts, List<String> responses) {
    return reward(Math.max(1, prompts.size())).score(prompts, responses);
  }

  @Override
  public void close() {
    model.close();
    tokenizer.close();
  }
}
