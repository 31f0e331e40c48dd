package dev.tuneforge.eval.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** eval-service's evaluation settings ({@code tuneforge.eval.*}). */
@ConfigMapping(prefix = "tuneforge.eval")
public interface EvalConfig {
  /** Local working directory: checkpoints and base models copied from the bucket. */
  String workDir();

  /** Test examples scored per evaluation (the first ones of the test split). */
  @WithDefault("200")
  int maxSamples();

  /**
   * reward-service's URL, for the reward and win-rate metrics; unset, they are refused by name.
   * {@code RewardServiceClient} reads it again at each use: in tests it names a port known only
   * once the server listens.
   */
  java.util.Optional<String> rewardServiceUrl();
}
