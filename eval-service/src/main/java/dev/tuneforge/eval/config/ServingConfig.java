package dev.tuneforge.eval.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** eval-service's serving settings ({@code tuneforge.serving.*}). */
@ConfigMapping(prefix = "tuneforge.serving")
public interface ServingConfig {
  /** Models kept loaded for completions; the least recently used is closed past it. */
  @WithDefault("2")
  int maxLoaded();

  /** A/B serving ({@code ab:ft:...}). */
  Ab ab();

  /** A/B serving. */
  interface Ab {
    /** Share of A/B requests the fine-tuned model answers, in [0, 1]. */
    @WithDefault("0.5")
    double tunedShare();
  }
}
