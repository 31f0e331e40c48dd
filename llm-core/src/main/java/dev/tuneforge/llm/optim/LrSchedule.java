package dev.tuneforge.llm.optim;

/**
 * Learning-rate schedules of transformers' {@code get_scheduler}: the multiplier of the peak rate
 * at each step, with linear warm-up over {@code warmupSteps} first.
 *
 * <ul>
 *   <li>constant: 1 (no warm-up).
 *   <li>constant_with_warmup: step/warmup, then 1.
 *   <li>linear: warm-up, then linear decay to 0 at {@code totalSteps}.
 *   <li>cosine: warm-up, then {@code 0.5 * (1 + cos(pi * progress))}.
 * </ul>
 */
public record LrSchedule(String type, long warmupSteps, long totalSteps) {
  public LrSchedule {
    if (!java.util.Set.of("constant", "constant_with_warmup", "linear", "cosine").contains(type)) {
      throw new IllegalArgumentException(
          "lr_scheduler_type \""
              + type
              + "\" is not supported; one of constant, constant_with_warmup, linear, cosine");
    }
    if (warmupSteps < 0 || totalSteps <= 0) {
      throw new IllegalArgumentException(
          "warmup steps ("
              + warmupSteps
              + ") must be >= 0 and total steps ("
              + totalSteps
              + ") > 0");
    }
  }

  /**
   * Warm-up steps as transformers derives them: {@code warmup_steps} when > 0, else {@code
   * ceil(warmup_ratio * totalSteps)}.
   */
  public static long warmup(long warmupSteps, double warmupRatio, long totalSteps) {
    return warmupSteps > 0 ? warmupSteps : (long) Math.ceil(warmupRatio * totalSteps);
  }

  /** The multiplier at {@code step} (0-based: the rate used for the step'th update). */
  public double multiplier(long step) {
    if (type.equals("constant")) {
      return 1.0;
    }
    if (step < warmupSteps) {
      return (double) step / Math.max(1, warmupSteps);
    }
    if (type.equals("constant_with_warmup")) {
      return 1.0;
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    if (type.equals("linear")) {
      return Math.max(0.0, 1.0 - progress);
    }
    return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
  }
}
