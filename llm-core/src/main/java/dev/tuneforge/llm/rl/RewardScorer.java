package dev.tuneforge.llm.rl;

import dev.tuneforge.llm.engine.Compute;
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

  /**
   * Loads the reward model and tokenizer of {@code dir} on the CPU; an adapter's base is read from
   * the path its config names.
   */
  public static RewardScorer load(Path dir) {
    return load(dir, Path::of);
  }

  /**
   * Loads the reward model and tokenizer of {@code dir} on the CPU: a sequence-classification
   * model, or a PEFT sequence-classification adapter over the base {@code bases} finds for its
   * {@code base_model_name_or_path}.
   */
  public static RewardScorer load(Path dir, java.util.function.Function<String, Path> bases) {
    return new RewardScorer(RewardModel.open(dir, bases, Compute.CPU_FLOAT32), Tokenizer.load(dir));
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
