package dev.tuneforge.llm.recipe;

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
    figures = figures == null ? Map.of() : Map.copyOf(figures);
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

  /** The evaluation's loss at this step; null when none ran. */
  public Double evalLoss() {
    return eval.get("loss");
  }

  /** The evaluation's token accuracy at this step (SFT); null when none ran. */
  public Double evalTokenAccuracy() {
    return eval.get("mean_token_accuracy");
  }
}
