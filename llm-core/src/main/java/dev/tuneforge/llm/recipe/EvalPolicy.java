package dev.tuneforge.llm.recipe;

/**
 * What evaluations decide, with transformers' names: keep the best weights by {@code
 * metric_for_best_model} and restore them at the end ({@code load_best_model_at_end}), and stop
 * when the metric has not improved by more than {@code early_stopping_threshold} for {@code
 * early_stopping_patience} evaluations in a row (0 turns early stopping off).
 *
 * @param metricForBestModel "eval_loss" or "eval_token_accuracy"
 */
public record EvalPolicy(
    boolean loadBestModelAtEnd,
    String metricForBestModel,
    boolean greaterIsBetter,
    int earlyStoppingPatience,
    double earlyStoppingThreshold) {

  public static final EvalPolicy NONE = new EvalPolicy(false, "eval_loss", false, 0, 0.0);

  public EvalPolicy {
    if (!metricForBestModel.equals("eval_loss")
        && !metricForBestModel.equals("eval_token_accuracy")) {
      throw new IllegalArgumentException(
          "metric_for_best_model \""
              + metricForBestModel
              + "\" is not one of eval_loss, eval_token_accuracy");
    }
    if (earlyStoppingPatience < 0 || earlyStoppingThreshold < 0) {
      throw new IllegalArgumentException(
          "early_stopping_patience ("
              + earlyStoppingPatience
              + ") and early_stopping_threshold ("
              + earlyStoppingThreshold
              + ") must be >= 0");
    }
  }

  /** The metric this policy watches. */
  double metric(SftRecipe.Evaluation evaluation) {
    return metricForBestModel.equals("eval_loss") ? evaluation.loss() : evaluation.tokenAccuracy();
  }

  /** Whether {@code value} beats {@code best} by more than the threshold. */
  boolean improves(double value, double best) {
    return greaterIsBetter
        ? value > best + earlyStoppingThreshold
        : value < best - earlyStoppingThreshold;
  }
}
