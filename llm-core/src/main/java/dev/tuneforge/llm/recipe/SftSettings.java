package dev.tuneforge.llm.recipe;

/**
 * Supervised fine-tuning knobs with transformers' names. Either {@code maxSteps} (> 0) or {@code
 * numTrainEpochs} bounds the run; {@code warmupSteps} > 0 overrides {@code warmupRatio}.
 */
public record SftSettings(
    double learningRate,
    int batchSize,
    int gradientAccumulationSteps,
    long maxSteps,
    double numTrainEpochs,
    double maxGradNorm,
    String lrSchedulerType,
    double warmupRatio,
    int warmupSteps,
    double weightDecay,
    int loggingSteps,
    int evalSteps,
    long seed) {

  public SftSettings {
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learning_rate must be > 0 but was " + learningRate);
    }
    if (batchSize <= 0) {
      throw new IllegalArgumentException(
          "per_device_train_batch_size must be > 0 but was " + batchSize);
    }
    if (gradientAccumulationSteps <= 0) {
      throw new IllegalArgumentException(
          "gradient_accumulation_steps must be > 0 but was " + gradientAccumulationSteps);
    }
    if (maxSteps <= 0 && !(numTrainEpochs > 0)) {
      throw new IllegalArgumentException(
          "set max_steps > 0 or num_train_epochs > 0 (were "
              + maxSteps
              + " and "
              + numTrainEpochs
              + ")");
    }
  }

  /** Adapter-style defaults (lr 2e-4, linear schedule, 3% warm-up) for {@code maxSteps} steps. */
  public static SftSettings forSteps(long maxSteps, int batchSize, double learningRate, long seed) {
    return new SftSettings(
        learningRate, batchSize, 1, maxSteps, 0, 1.0, "linear", 0.03, 0, 0.0, 10, 0, seed);
  }
}
