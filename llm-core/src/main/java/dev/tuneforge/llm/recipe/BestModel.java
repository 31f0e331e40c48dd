package dev.tuneforge.llm.recipe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.tuneforge.llm.engine.Autograd;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Follows the watched evaluation metric: remembers the trained tensors at the best evaluation (when
 * load_best_model_at_end asks for it), counts evaluations without improvement for early stopping,
 * and copies the best tensors back at the end.
 */
final class BestModel {
  private final EvalPolicy policy;
  private final Map<String, NDArray> trainable;
  private final NDManager manager;
  private final Map<String, NDArray> snapshot = new LinkedHashMap<>();
  private double best = Double.NaN;
  private long bestStep;
  private int withoutImprovement;

  BestModel(EvalPolicy policy, Map<String, NDArray> trainable, NDManager parent) {
    this.policy = policy;
    this.trainable = trainable;
    this.manager = parent.newSubManager();
  }

  /** Records an evaluation; returns true when training should stop early. */
  boolean observe(SftRecipe.Evaluation evaluation, long step) {
    double value = policy.metric(evaluation);
    if (Double.isNaN(best) || policy.improves(value, best)) {
      best = value;
      bestStep = step;
      withoutImprovement = 0;
      if (policy.loadBestModelAtEnd()) {
        remember();
      }
      return false;
    }
    withoutImprovement++;
    return policy.earlyStoppingPatience() > 0
        && withoutImprovement >= policy.earlyStoppingPatience();
  }

  /** Carries the best metric of a run being resumed (its weights are in that run's checkpoints). */
  void resume(Double metric, long step) {
    if (metric != null) {
      best = metric;
      bestStep = step;
    }
  }

  /** The best value of the watched metric so far, or null before any evaluation. */
  Double bestMetric() {
    return Double.isNaN(best) ? null : best;
  }

  /** The step of the best evaluation so far (0 before any). */
  long bestStep() {
    return bestStep;
  }

  /** Copies the remembered tensors back into the trained ones, if asked to and any were kept. */
  void restoreIfAsked() {
    if (policy.loadBestModelAtEnd() && !snapshot.isEmpty()) {
      Autograd.withGrad(
          false,
          () -> {
            trainable.forEach((name, tensor) -> tensor.set(snapshot.get(name).toByteBuffer()));
            return null;
          });
    }
    manager.close();
  }

  private void remember() {
    Autograd.withGrad(
        false,
        () -> {
          trainable.forEach(
              (name, tensor) -> {
                NDArray copy = tensor.duplicate();
                copy.attach(manager);
                NDArray old = snapshot.put(name, copy);
                if (old != null) {
                  old.close();
                }
              });
          return null;
        });
  }
}
