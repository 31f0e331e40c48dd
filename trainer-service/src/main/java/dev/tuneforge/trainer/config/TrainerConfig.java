package dev.tuneforge.trainer.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * trainer-service settings ({@code tuneforge.trainer.*}). Per-tenant limits (steps, wall time) are
 * {@link dev.tuneforge.platform.config.TenantLimits}.
 */
@ConfigMapping(prefix = "tuneforge.trainer")
public interface TrainerConfig {
  /** Where jobs train ({@code cpu}, {@code gpu}, {@code gpu:1}) unless a job's compute says. */
  @WithDefault("cpu")
  String device();

  /** Local working directory: jobs' checkpoints before upload, base models' local copies. */
  String workDir();

  /**
   * How long a storage or broker outage may last before a running job fails with a named error;
   * shorter outages are retried with backoff.
   */
  @WithDefault("PT5M")
  Duration outageDeadline();

  /**
   * The device's peak FLOP/s, the denominator of {@code tuneforge_training_mfu} (e.g. 989e12 for an
   * H100's dense BF16).
   */
  @WithDefault("1.6e11")
  double peakFlops();

  /** Rewards for PPO and Best-of-N. */
  Reward reward();

  /** Rewards for PPO and Best-of-N: reward-service over Kafka, or models loaded in-process. */
  interface Reward {
    /** Texts per reward request on {@code reward.requests}. */
    @WithDefault("32")
    int batchSize();

    /** How long one reward request may wait for its answer before it is sent again. */
    @WithDefault("PT30S")
    Duration timeout();

    /** Sends of one reward request before the job fails. */
    @WithDefault("3")
    int attempts();

    /** Reward models scored in-process, {@code name=prefix} pairs, comma-separated. */
    Optional<String> localModels();
  }
}
