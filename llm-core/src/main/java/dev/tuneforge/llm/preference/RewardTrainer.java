package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reward-model training as TRL's RewardTrainer does it: chosen and rejected of each pair are scored
 * in one batch and the Bradley–Terry loss pushes r(chosen) above r(rejected) (by the pair's margin
 * when given). Trains whichever tensors it is given: {@link RewardModel#fullParameters()} for full
 * fine-tuning, or a LoRA adapter's parameters plus the score head.
 *
 * <p>Figures: {@code accuracy} (r_c > r_r), {@code rewards/chosen}, {@code rewards/rejected},
 * {@code margin} (mean r_c - r_r), {@code mean_reward}, {@code min_reward}, {@code max_reward}.
 */
public final class RewardTrainer {
  private final RewardModel model;
  private final PairwiseTrainer<PreferencePair> trainer;
  private final double centerRewardsCoefficient;
  private final int padId;

  public RewardTrainer(
      RewardModel model,
      Map<String, NDArray> trainable,
      SftSettings settings,
      double centerRewardsCoefficient) {
    this.model = model;
    this.centerRewardsCoefficient = centerRewardsCoefficient;
    this.padId = Math.max(model.backbone().config().padTokenId(), 0);
    this.trainer =
        new PairwiseTrainer<>(model.backbone().manager(), trainable, settings, this::pairLoss);
  }

  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public RewardTrainer withOptimizer(dev.tuneforge.llm.recipe.OptimizerSettings optimizer) {
    trainer.withOptimizer(optimizer);
    return this;
  }

  /** The adapter's part in the loop (AdaLoRA's penalty and rank allocation). */
  public RewardTrainer withAdapterTraining(
      dev.tuneforge.llm.recipe.AdapterTraining adapterTraining) {
    trainer.withAdapterTraining(adapterTraining);
    return this;
  }

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done so
   * far are returned.
   */
  public RewardTrainer withStopSignal(java.util.function.BooleanSupplier stop) {
    trainer.withStopSignal(stop);
    return this;
  }

  public List<dev.tuneforge.llm.recipe.TrainingStep> train(
      List<PreferencePair> train,
      List<PreferencePair> eval,
      dev.tuneforge.llm.recipe.StepListener listener) {
    return trainer.train(train, eval, listener);
  }

  public List<dev.tuneforge.llm.recipe.TrainingStep> train(
      List<PreferencePair> train,
      List<PreferencePair> eval,
      dev.tuneforge.llm.recipe.StepListener listener,
      SftRecipe.Checkpointing checkpointing,
      Path resumeFrom) {
    return trainer.train(train, eval, listener, checkpointing, resumeFrom);
  }

  /** Accuracy, rewards and loss over held-out pairs. */
  public Map<String, Double> evaluate(List<PreferencePair> pairs) {
    return trainer.evaluate(pairs);
  }

  private PairwiseTrainer.Step pairLoss(List<PreferencePair> pairs, NDManager scope) {
    int n = pairs.size();
    NDArray rewards = model.rewards(SequenceBatch.ofPairs(pairs, padId), scope);
    NDArray chosen = rewards.get("0:{}", n);
    NDArray rejected = rewards.get("{}:", n);
    float[] margins = new float[n];
    boolean anyMargin = false;
    for (int i = 0; i < n; i++) {
      margins[i] = (float) pairs.get(i).margin();
      anyMargin |= margins[i] != 0;
    }
    NDArray loss =
        PreferenceLosses.bradleyTerry(
            chosen, rejected, anyMargin ? scope.create(margins) : null, centerRewardsCoefficient);
    float[] c = chosen.toFloatArray();
    float[] r = rejected.toFloatArray();
    float[] correct = new float[n];
    float[] difference = new float[n];
    for (int i = 0; i < n; i++) {
      correct[i] = c[i] > r[i] ? 1 : 0;
      difference[i] = c[i] - r[i];
    }
    float[] all = rewards.toFloatArray();
    Metrics metrics =
        new Metrics()
            .mean("accuracy", correct)
            .mean("rewards/chosen", c)
            .mean("rewards/rejected", r)
            .mean("margin", difference)
            .mean("mean_reward", all)
            .min("min_reward", all)
            .max("max_reward", all);
    return new PairwiseTrainer.Step(loss, metrics, PreferencePair.tokens(pairs));
  }
}
