package dev.tuneforge.llm.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.model.LlamaModel;
import dev.tuneforge.llm.recipe.SftRecipe;
import dev.tuneforge.llm.recipe.SftSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Direct Preference Optimization as TRL's DPOTrainer runs it: chosen and rejected responses go
 * through the policy in one batch; their summed log-probabilities, against the reference's, give
 * the loss ({@link PreferenceLosses#dpo}). IPO uses log-probabilities averaged over response
 * tokens, as TRL does.
 *
 * <p>Figures, with TRL's names: {@code rewards/chosen}, {@code rewards/rejected}, {@code
 * rewards/accuracies}, {@code rewards/margins}, {@code logps/chosen}, {@code logps/rejected}.
 */
public final class DpoTrainer {
  /**
   * @param beta strength of the KL leash to the reference (TRL default 0.1)
   * @param labelSmoothing cDPO's assumed label-noise rate in [0, 0.5) (sigmoid loss only)
   * @param rpoAlpha weight of the chosen responses' token-mean NLL added to the loss (TRL's
   *     rpo_alpha, Pang et al. 2024); 0 is plain DPO. It keeps the chosen responses likely, which
   *     off-policy pairs otherwise let fall
   */
  public record Settings(
      double beta, PreferenceLosses.DpoLoss lossType, double labelSmoothing, double rpoAlpha) {
    public Settings(double beta, PreferenceLosses.DpoLoss lossType, double labelSmoothing) {
      this(beta, lossType, labelSmoothing, 0);
    }

    public Settings {
      if (!(rpoAlpha >= 0)) {
        throw new IllegalArgumentException("rpo_alpha must be >= 0 but was " + rpoAlpha);
      }
      if (!(beta > 0)) {
        throw new IllegalArgumentException("beta must be > 0 but was " + beta);
      }
      if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
        throw new IllegalArgumentException(
            "label_smoothing must be in [0, 0.5) but was " + labelSmoothing);
      }
      if (labelSmoothing > 0 && lossType != PreferenceLosses.DpoLoss.SIGMOID) {
        throw new IllegalArgumentException(
            "label_smoothing (cDPO) applies to loss_type sigmoid only, not " + lossType);
      }
    }

    public static final Settings DEFAULT = new Settings(0.1, PreferenceLosses.DpoLoss.SIGMOID, 0.0);
  }

  private final DpoPairLoss loss;
  private final PairwiseTrainer<PreferencePair> trainer;

  public DpoTrainer(
      LlamaModel policy,
      Map<String, NDArray> trainable,
      SftSettings settings,
      Settings dpo,
      Reference reference) {
    this.loss = new DpoPairLoss(policy, dpo, reference);
    this.trainer =
        new PairwiseTrainer<>(
            policy.manager(),
            trainable,
            settings,
            new PairwiseTrainer.PairLoss<PreferencePair>() {
              @Override
              public PairwiseTrainer.Step compute(List<PreferencePair> pairs, NDManager scope) {
                return loss.compute(pairs, scope, 0).step();
              }

              @Override
              public PairwiseTrainer.Step computeAndBackward(
                  List<PreferencePair> pairs, NDManager scope, float scale) {
                return loss.compute(pairs, scope, scale).step();
              }
            });
  }

  /** AdamW's betas and epsilon (transformers' defaults until set). */
  public DpoTrainer withOptimizer(dev.tuneforge.llm.recipe.OptimizerSettings optimizer) {
    trainer.withOptimizer(optimizer);
    return this;
  }

  /** The adapter's part in the loop (AdaLoRA's penalty and rank allocation). */
  public DpoTrainer withAdapterTraining(dev.tuneforge.llm.recipe.AdapterTraining adapterTraining) {
    trainer.withAdapterTraining(adapterTraining);
    return this;
  }

  /**
   * Stops the run before the next step once {@code stop} answers true (a cancel); the steps done so
   * far are returned.
   */
  public DpoTrainer withStopSignal(java.util.function.BooleanSupplier stop) {
    trainer.withStopSignal(stop);
    return this;
  }

  /**
   * Scores every pair under the reference once, now (TRL's precompute_ref_log_probs), then closes
   * the reference: a full fine-tune then trains without a second model in memory. Only these pairs
   * can be trained or evaluated afterwards.
   */
  public DpoTrainer precomputeReference(List<List<PreferencePair>> splits, int batchSize) {
    loss.precompute(splits, batchSize);
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

  /** DPO figures over held-out pairs (implicit-reward accuracy and margin, loss). */
  public Map<String, Double> evaluate(List<PreferencePair> pairs) {
    return trainer.evaluate(pairs);
  }
}
