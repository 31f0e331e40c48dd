package dev.tuneforge.llm.recipe;

import dev.tuneforge.llm.optim.AdamW;

/**
 * AdamW's moments and epsilon with transformers' names ({@code adam_beta1}, {@code adam_beta2},
 * {@code adam_epsilon}); the weight decay is the trainer's ({@link SftSettings#weightDecay()}).
 */
public record OptimizerSettings(double adamBeta1, double adamBeta2, double adamEpsilon) {
  /** transformers' TrainingArguments defaults. */
  public static final OptimizerSettings DEFAULT = new OptimizerSettings(0.9, 0.999, 1e-8);

  /** PPO's defaults: epsilon 1e-5, as in OpenAI's and TRL's original PPO. */
  public static final OptimizerSettings PPO = new OptimizerSettings(0.9, 0.999, 1e-5);

  public OptimizerSettings {
    new AdamW.Settings(adamBeta1, adamBeta2, adamEpsilon, 0); // its range checks, by name
  }

  /** AdamW's settings with {@code weightDecay}. */
  public AdamW.Settings adamW(double weightDecay) {
    return new AdamW.Settings(adamBeta1, adamBeta2, adamEpsilon, weightDecay);
  }
}
