package dev.tuneforge.llm.rl;

/**
 * PPO knobs with TRL's names and defaults where it has them.
 *
 * @param batchSize prompts rolled out per step
 * @param miniBatchSize rollouts per optimizer update
 * @param maxSteps rollout-and-update steps
 * @param responseLength max new tokens per response
 * @param targetKl null for a fixed kl_coef, else the KL (nats per response) an adaptive controller
 *     holds
 * @param missingEosPenalty subtracted from the score of a response that did not end with EOS
 */
public record PpoSettings(
    double learningRate,
    int batchSize,
    int miniBatchSize,
    int numPpoEpochs,
    long maxSteps,
    int responseLength,
    double temperature,
    double klCoef,
    PpoLosses.KlEstimator klEstimator,
    Double targetKl,
    double klHorizon,
    double gamma,
    double lam,
    double cliprange,
    double cliprangeValue,
    double vfCoef,
    double entropyCoef,
    double missingEosPenalty,
    boolean whitenRewards,
    double maxGradNorm,
    int loggingSteps,
    long seed) {
  public PpoSettings {
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learning_rate must be > 0 but was " + learningRate);
    }
    if (batchSize < 2) {
      throw new IllegalArgumentException("batch_size must be >= 2 but was " + batchSize);
    }
    if (miniBatchSize <= 0 || batchSize % miniBatchSize != 0) {
      throw new IllegalArgumentException(
          "mini_batch_size must divide batch_size " + batchSize + " but was " + miniBatchSize);
    }
    if (numPpoEpochs <= 0) {
      throw new IllegalArgumentException("num_ppo_epochs must be > 0 but was " + numPpoEpochs);
    }
    if (maxSteps <= 0) {
      throw new IllegalArgumentException("max_steps must be > 0 but was " + maxSteps);
    }
    if (responseLength <= 0) {
      throw new IllegalArgumentException("response_length must be > 0 but was " + responseLength);
    }
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be > 0 but was " + temperature);
    }
    if (!(gamma >= 0 && gamma <= 1) || !(lam >= 0 && lam <= 1)) {
      throw new IllegalArgumentException(
          "gamma and lam must be in [0, 1] but were " + gamma + " and " + lam);
    }
    if (!(cliprange > 0) || !(cliprangeValue > 0)) {
      throw new IllegalArgumentException(
          "cliprange and cliprange_value must be > 0 but were "
              + cliprange
              + " and "
              + cliprangeValue);
    }
    if (!(entropyCoef >= 0) || !(vfCoef >= 0) || !(missingEosPenalty >= 0)) {
      throw new IllegalArgumentException(
          "vf_coef, entropy_coef and missing_eos_penalty must be >= 0");
    }
  }

  /** TRL's defaults (kl_coef 0.05 fixed, k1, γ 1, λ 0.95, clip 0.2, vf_coef 0.1, 4 epochs). */
  public static PpoSettings defaults(long maxSteps, int batchSize, double learningRate, long seed) {
    return new PpoSettings(
        learningRate,
        batchSize,
        batchSize,
        4,
        maxSteps,
        53,
        0.7,
        0.05,
        PpoLosses.KlEstimator.K1,
        null,
        10000,
        1.0,
        0.95,
        0.2,
        0.2,
        0.1,
        0.0,
        0.0,
        false,
        1.0,
        1,
        seed);
  }
}
