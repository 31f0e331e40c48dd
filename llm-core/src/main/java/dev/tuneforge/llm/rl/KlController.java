package dev.tuneforge.llm.rl;

/**
 * The KL penalty coefficient β of PPO's reward {@code r - β·KL}. Fixed, or adaptive as in Ziegler
 * et al. (2019): after each batch, {@code β *= 1 + clip(KL/target - 1, -0.2, 0.2) · n / horizon},
 * which steers the measured KL towards {@code target}.
 */
public final class KlController {
  private final Double target;
  private final double horizon;
  private double value;

  private KlController(double initial, Double target, double horizon) {
    if (!(initial >= 0)) {
      throw new IllegalArgumentException("kl_coef must be >= 0 but was " + initial);
    }
    if (target != null && !(target > 0)) {
      throw new IllegalArgumentException("target KL must be > 0 but was " + target);
    }
    if (target != null && !(horizon > 0)) {
      throw new IllegalArgumentException("kl horizon must be > 0 but was " + horizon);
    }
    this.value = initial;
    this.target = target;
    this.horizon = horizon;
  }

  public static KlController fixed(double coefficient) {
    return new KlController(coefficient, null, 1);
  }

  /**
   * @param target KL (nats per sequence) to hold
   * @param horizon samples over which the error is corrected (TRL default 10000)
   */
  public static KlController adaptive(double initial, double target, double horizon) {
    return new KlController(initial, target, horizon);
  }

  public double value() {
    return value;
  }

  public boolean isAdaptive() {
    return target != null;
  }

  /** Adjusts β after a batch of {@code samples} sequences whose mean KL was {@code currentKl}. */
  public void update(double currentKl, int samples) {
    if (target == null) {
      return;
    }
    double error = Math.max(-0.2, Math.min(0.2, currentKl / target - 1));
    value *= 1 + error * samples / horizon;
  }

  /** Restores β from a checkpoint. */
  public void restore(double coefficient) {
    this.value = coefficient;
  }
}
