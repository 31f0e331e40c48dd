package dev.tuneforge.reward.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** reward-service settings ({@code tuneforge.reward.*}). */
@ConfigMapping(prefix = "tuneforge.reward")
public interface RewardConfig {
  /** Reward models served, {@code name=prefix} pairs (bucket prefixes), comma-separated. */
  Optional<String> models();

  /** Local working directory: reward models copied from the bucket. */
  String workDir();

  /** How long an HTTP scoring request waits for its batch. */
  @WithDefault("PT60S")
  Duration httpTimeout();

  /** Batching of concurrent requests into one forward pass. */
  Batching batching();

  /** Batching of concurrent requests. */
  interface Batching {
    /** Texts in one forward pass at most. */
    @WithDefault("32")
    int maxBatchSize();

    /** How long the first request of a batch waits for others. */
    @WithDefault("PT0.01S")
    Duration maxWait();
  }
}
