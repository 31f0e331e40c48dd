package dev.tuneforge.llm.recipe;

import dev.tuneforge.llm.preference.PairwiseTrainer;
import dev.tuneforge.llm.rl.PpoTrainer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One logged training step, whatever the method: the optimizer's figures, the speed, the method's
 * own figures under TRL's names ({@code rewards/margins}, {@code objective/kl}, ...) and, when an
 * evaluation ran at this step, its figures ({@code loss}, {@code mean_token_accuracy}, ...).
 */
public record TrainingStep(
    long step,
    long totalSteps,
    double epoch,
    double loss,
    double learningRate,
    double gradNorm,
    double tokensPerSecond,
    long etaSeconds,
    Map<String, Double> figures,
    Map<String, Double> eval) {
  public TrainingStep {
    figures = Map.copyOf(figures);
    eval = eval == null ? Map.of() : Map.copyOf(eval);
  }

  /** How far the run is, in percent of its optimizer steps. */
  public double percentDone() {
    return 100.0 * step / Math.max(1, totalSteps);
  }

  /** This step with {@code extra} figures added (they do not replace the step's own). */
  public TrainingStep withFigures(Map<String, Double> extra) {
    Map<String, Double> all = new LinkedHashMap<>(extra);
    all.putAll(figures);
    return new TrainingStep(
        step,
        totalSteps,
        epoch,
        loss,
        learningRate,
        gradNorm,
        tokensPerSecond,
        etaSeconds,
        all,
        eval);
  }

  /**
   * An SFT step; an evaluation's loss and token accuracy under {@code loss} and {@code
   * mean_token_accuracy}.
   */
  public static TrainingStep of(SftRecipe.Progress p) {
    Map<String, Double> eval = new LinkedHashMap<>();
    if (p.evalLoss() != null) {
      eval.put("loss", p.evalLoss());
      eval.put("mean_token_accuracy", p.evalTokenAccuracy());
    }
    return new TrainingStep(
        p.step(),
        p.totalSteps(),
        p.epoch(),
        p.loss(),
        p.learningRate(),
        p.gradNorm(),
        p.tokensPerSecond(),
        p.etaSeconds(),
        Map.of(),
        eval);
  }

  /** A DPO or reward-model step. */
  public static TrainingStep of(PairwiseTrainer.Progress p) {
    return new TrainingStep(
        p.step(),
        p.totalSteps(),
        p.epoch(),
        p.loss(),
        p.learningRate(),
        p.gradNorm(),
        0,
        0,
        p.metrics(),
        p.eval());
  }

  /**
   * A PPO step: the loss is the policy loss ({@code loss/policy_avg}), the learning rate and
   * gradient norm are those of its last update.
   */
  public static TrainingStep of(PpoTrainer.Progress p) {
    Map<String, Double> m = p.metrics();
    return new TrainingStep(
        p.step(),
        p.totalSteps(),
        0,
        m.getOrDefault("loss/policy_avg", 0.0),
        m.getOrDefault("learning_rate", 0.0),
        m.getOrDefault("grad_norm", 0.0),
        m.getOrDefault("rollout/tokens_per_second", 0.0),
        0,
        m,
        Map.of());
  }
}
