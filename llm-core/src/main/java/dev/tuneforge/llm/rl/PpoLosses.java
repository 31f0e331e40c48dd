package dev.tuneforge.llm.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The pieces of PPO (Schulman et al., 2017) as TRL's PPOTrainer computes them. Tensor losses take
 * (rows, responseLen) arrays and a float mask of real response tokens; advantage estimation works
 * on plain arrays, outside any graph.
 */
public final class PpoLosses {
  private PpoLosses() {}

  /** The clipped surrogate loss and its diagnostics. */
  public record Policy(NDArray loss, double clipFraction, double approxKl) {}

  /**
   * {@code masked_mean(max(-A·ρ, -A·clip(ρ, 1-ε, 1+ε)))} with {@code ρ = exp(logπ - logπ_old)};
   * clipfrac is the share of tokens where the clipped term won, approxkl {@code 0.5·mean((logπ -
   * logπ_old)²)}.
   */
  public static Policy policyLoss(
      NDArray newLogProbs,
      NDArray oldLogProbs,
      NDArray advantages,
      NDArray mask,
      double cliprange) {
    NDArray difference = newLogProbs.sub(oldLogProbs);
    NDArray ratio = difference.exp();
    NDArray unclipped = advantages.neg().mul(ratio);
    NDArray clipped = advantages.neg().mul(ratio.clip(1 - cliprange, 1 + cliprange));
    NDArray loss = maskedMean(NDArrays.maximum(unclipped, clipped), mask);
    double clipFraction =
        maskedMean(clipped.gt(unclipped).toType(mask.getDataType(), false), mask).getFloat();
    double approxKl = maskedMean(difference.mul(difference), mask).getFloat() * 0.5;
    return new Policy(loss, clipFraction, approxKl);
  }

  /** The clipped value loss and the share of tokens where clipping won. */
  public record Value(NDArray loss, double clipFraction) {}

  /** {@code 0.5·masked_mean(max((V - R)², (clip(V, V_old - ε_v, V_old + ε_v) - R)²))}. */
  public static Value valueLoss(
      NDArray values, NDArray oldValues, NDArray returns, NDArray mask, double cliprangeValue) {
    NDManager scope = values.getManager();
    NDArray low = oldValues.sub(cliprangeValue);
    NDArray high = oldValues.add(cliprangeValue);
    NDArray clippedValues = NDArrays.minimum(NDArrays.maximum(values, low), high);
    NDArray unclippedError = values.sub(returns);
    NDArray clippedError = clippedValues.sub(returns);
    NDArray first = unclippedError.mul(unclippedError);
    NDArray second = clippedError.mul(clippedError);
    NDArray loss =
        maskedMean(NDArrays.maximum(first, second), mask).mul(scope.full(new Shape(), 0.5f));
    double clipFraction =
        maskedMean(second.gt(first).toType(mask.getDataType(), false), mask).getFloat();
    return new Value(loss, clipFraction);
  }

  /** Per-token entropy {@code -Σ p log p} of (rows, len, vocab) log-probabilities. */
  public static NDArray entropy(NDArray logProbs) {
    return logProbs.exp().mul(logProbs).sum(new int[] {-1}).neg();
  }

  /** {@code Σ x·mask / Σ mask}. */
  public static NDArray maskedMean(NDArray x, NDArray mask) {
    return x.mul(mask).sum().div(mask.sum());
  }

  /** The per-token KL estimator between policy and reference. */
  public enum KlEstimator {
    /** {@code log π - log π_ref}: unbiased, can be negative per token. */
    K1,
    /**
     * {@code (ρ - 1) - log ρ} with {@code ρ = π_ref / π}: unbiased, non-negative, lower variance.
     */
    K3;

    public static KlEstimator parse(String name) {
      return switch (name) {
        case "k1" -> K1;
        case "k3" -> K3;
        default ->
            throw new IllegalArgumentException(
                "kl_estimator \"" + name + "\" is not supported; supported: [k1, k3]");
      };
    }

    public double of(double logProb, double referenceLogProb) {
      double logRatio = referenceLogProb - logProb;
      return this == K1 ? -logRatio : Math.expm1(logRatio) - logRatio;
    }
  }

  /**
   * Generalised advantage estimation (Schulman et al., 2016) over one response: {@code δ_t = r_t +
   * γ V_{t+1} - V_t} (with V past the end 0) and {@code A_t = δ_t + γλ A_{t+1}}.
   */
  public static double[] gae(double[] rewards, double[] values, double gamma, double lam) {
    if (rewards.length != values.length) {
      throw new IllegalArgumentException(
          rewards.length + " rewards but " + values.length + " values");
    }
    double[] advantages = new double[rewards.length];
    double next = 0;
    for (int t = rewards.length - 1; t >= 0; t--) {
      double nextValue = t + 1 < values.length ? values[t + 1] : 0;
      double delta = rewards[t] + gamma * nextValue - values[t];
      next = delta + gamma * lam * next;
      advantages[t] = next;
    }
    return advantages;
  }

  /**
   * Whitens every value of every row together: {@code (x - mean) / sqrt(var + 1e-8)} with the
   * unbiased variance, as TRL's masked_whiten; {@code shiftMean} false adds the mean back.
   */
  public static double[][] whiten(double[][] rows, boolean shiftMean) {
    double sum = 0;
    long count = 0;
    for (double[] row : rows) {
      for (double v : row) {
        sum += v;
        count++;
      }
    }
    if (count < 2) {
      throw new IllegalArgumentException("whitening needs at least 2 values but had " + count);
    }
    double mean = sum / count;
    double squares = 0;
    for (double[] row : rows) {
      for (double v : row) {
        squares += (v - mean) * (v - mean);
      }
    }
    double variance = squares / (count - 1);
    double scale = 1 / Math.sqrt(variance + 1e-8);
    double[][] whitened = new double[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      whitened[r] = new double[rows[r].length];
      for (int t = 0; t < rows[r].length; t++) {
        whitened[r][t] = (rows[r][t] - mean) * scale + (shiftMean ? 0 : mean);
      }
    }
    return whitened;
  }
}
